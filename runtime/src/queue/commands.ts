// Every change to queue state is one of these commands inside a log entry. The leader decides
// everything non-deterministic (ids, time) before proposing, so applying is a pure function.
import type { ChildOutcome, JobError, JobState, NewJob } from './job.js'
import type { ScheduleSpec } from './schedules.js'
import type { SignedManifest } from './deployments.js'
import type { ShardCommand } from '../shards/shard-map.js'

export type Command =
  /** `atomic`: all the jobs or none (a flow), when the queue has room for only some. */
  | { readonly type: 'enqueue'; readonly jobs: readonly NewJob[]; readonly maxQueuedJobs: number; readonly atomic?: boolean }
  /** Lease up to `count` ready jobs, best first, to one worker, passing over job names it cannot take now. */
  | {
      readonly type: 'lease'
      readonly worker: string
      readonly count: number
      readonly leaseMs: number
      readonly exclude: readonly string[]
      /** At most this many leased at once across all workers, by job name (a handler's globalConcurrency). */
      readonly limits?: Readonly<Record<string, number>>
      /** At most `max` leases started per `perMs` by job name (per rate key within it): handlers' rateLimit. */
      readonly rates?: Readonly<Record<string, { readonly max: number; readonly perMs: number }>>
      /** Under saturation: leases shared among submitters by these weights (default 1), not best job first. */
      readonly fair?: Readonly<Record<string, number>>
    }
  | { readonly type: 'renew'; readonly worker: string; readonly jobs: readonly LeaseRef[]; readonly leaseMs: number }
  /** `enqueue`: follow-up jobs the handler started (ctx.enqueue), stored only if this result is accepted. */
  | { readonly type: 'complete'; readonly worker: string; readonly job: LeaseRef; readonly result: string; readonly enqueue?: readonly NewJob[]; readonly maxQueuedJobs?: number }
  | { readonly type: 'fail'; readonly worker: string; readonly job: LeaseRef; readonly error: JobError }
  | { readonly type: 'progress'; readonly worker: string; readonly job: LeaseRef; readonly progress: number }
  /** Hands back every lease a worker holds, as if they expired now (a worker that left or restarted). */
  | { readonly type: 'release'; readonly worker: string }
  | { readonly type: 'cancel'; readonly jobIds: readonly string[] }
  | { readonly type: 'redrive'; readonly jobIds: readonly string[] }
  /** Moves time forward: promotes due delayed and retry-wait jobs, expires overdue leases. */
  | { readonly type: 'advance' }
  /** Stops leasing jobs of one name, or of the whole queue when no name is given; they stay queued. */
  | { readonly type: 'pause'; readonly name?: string }
  | { readonly type: 'resume'; readonly name?: string }
  /** Creates or replaces a recurring job (upsert by id); its jobs count against maxQueuedJobs. */
  | { readonly type: 'schedule'; readonly schedule: ScheduleSpec; readonly maxQueuedJobs: number }
  | { readonly type: 'unschedule'; readonly id: string }
  /**
   * A new version of the handlers, made current. `bundles`: each job name's bundle hash, read
   * from the manifest by the leader; `contents`: the bundles themselves (base64 by hash), which
   * the state keeps none of: each trusted peer's bundle store writes them to disk as it applies.
   */
  | { readonly type: 'deploy'; readonly deployment: SignedManifest; readonly bundles: Readonly<Record<string, string>>; readonly contents: Readonly<Record<string, string>> }
  | { readonly type: 'promote'; readonly version: number }
  | { readonly type: 'rollback' }
  /** In the root group's log: the shard map (see shards/shard-map.ts). */
  | ShardCommand
  /** In a shard's own log: it takes no new jobs from now on (its root drained it), or takes them again. */
  | { readonly type: 'seal' }
  | { readonly type: 'unseal' }

export interface LeaseRef {
  readonly jobId: string
  readonly attempt: number
}

/** A log entry as the state machine sees it. `time` is the leader's clock when it proposed. */
export interface Entry {
  readonly index: number
  readonly time: number
  readonly command: Command
}

export interface GrantedLease {
  readonly jobId: string
  readonly name: string
  readonly payload: string
  readonly attempt: number
  readonly timeoutMs: number
  readonly expiresAt: number
  /** A flow's parent: how its children ended. */
  readonly children?: readonly ChildOutcome[]
  /** The deployed version whose code runs this job (absent before any deploy). */
  readonly version?: number
}

export type EnqueueOutcome =
  | { readonly ok: true; readonly id: string; readonly created: boolean }
  | { readonly ok: false; readonly code: 'E_QUEUE_FULL' | 'E_SHARD_SEALED'; readonly message: string }
  /** Refused before it reached the log: the network cannot host more now; try again after `retryAfterMs`. */
  | { readonly ok: false; readonly code: 'E_QUEUE_SATURATED'; readonly message: string; readonly retryAfterMs: number }

export type ApplyResult =
  | { readonly type: 'enqueue'; readonly outcomes: readonly EnqueueOutcome[] }
  | { readonly type: 'lease'; readonly leases: readonly GrantedLease[] }
  /** For fenced commands: whether the sender held the lease it named. */
  | { readonly type: 'fenced'; readonly accepted: boolean }
  | { readonly type: 'changed'; readonly jobIds: readonly string[] }
  /** After deploy, promote or rollback: whether it took effect, the current version, and the versions collected. */
  | { readonly type: 'versions'; readonly ok: boolean; readonly current: number | undefined; readonly collected: readonly number[]; readonly deployed?: number }
  /** After a shard command: the shard it touched (a mint's new id), or undefined when it changed nothing. */
  | { readonly type: 'shard'; readonly id: number | undefined }

export interface JobChange {
  readonly jobId: string
  readonly state: JobState
}
