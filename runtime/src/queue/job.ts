// The job record the replicated state machine keeps, and the options a submitter may set.
import type { Retention } from './retention.js'

export const JOB_STATES = ['waiting-children', 'delayed', 'queued', 'leased', 'retry-wait', 'completed', 'dead', 'cancelled'] as const
export type JobState = (typeof JOB_STATES)[number]

export const FINAL_STATES: ReadonlySet<JobState> = new Set(['completed', 'dead', 'cancelled'])

export type Backoff =
  | { readonly type: 'fixed'; readonly delayMs: number }
  | { readonly type: 'exponential'; readonly baseMs: number; readonly maxMs: number }

export interface RetryPolicy {
  readonly maxAttempts: number
  readonly backoff: Backoff
}

export interface JobError {
  readonly message: string
  readonly name: string
  /** False when the handler threw NonRetryableError or the payload failed validation. */
  readonly retryable: boolean
}

export interface Lease {
  readonly worker: string
  readonly attempt: number
  readonly expiresAt: number
}

/** A job as the leader proposes it: everything the state machine needs, decided up front. */
export interface NewJob {
  readonly id: string
  readonly name: string
  /** superjson text; the state machine never looks inside. */
  readonly payload: string
  readonly priority: number
  readonly idempotencyKey: string | undefined
  readonly retry: RetryPolicy
  readonly timeoutMs: number
  readonly delayMs: number
  /** The key of the handler's rate limit, derived from the payload at enqueue (absent: one window per job name). */
  readonly rateKey?: string
  /** In a flow: the job that runs once this one (and its siblings) finished. */
  readonly parentId?: string
  /** In a flow: the jobs this one waits for; it starts in `waiting-children`. */
  readonly childIds?: readonly string[]
  /** What this job's failure (dead or cancelled) does to its parent; `wait` by default. */
  readonly onChildFailure?: ChildFailurePolicy
  /** When to forget this job once it completed / ended dead (BullMQ's removeOnComplete / removeOnFail). */
  readonly removeOnComplete?: Retention
  readonly removeOnFail?: Retention
  /** The deployed version to run on, if the submitter named one (else the current version). */
  readonly version?: number
  /** The peer that submitted it (absent for follow-ups and scheduled jobs): saturation shares admissions by it. */
  readonly submitter?: string
}

/** `fail-parent`: the parent is dead too. `ignore`: it counts as done. `wait`: the parent waits (re-drive the child). */
export type ChildFailurePolicy = 'fail-parent' | 'ignore' | 'wait'

/** A finished child as its parent's handler reads it (`ctx.children()`). */
export interface ChildOutcome {
  readonly id: string
  readonly name: string
  readonly state: JobState
  /** superjson text of its result, once completed. */
  readonly result: string | null
  readonly error: JobError | null
}

export interface JobRecord extends Omit<NewJob, 'delayMs'> {
  /** Order of submission, the tie-breaker between equal priorities. */
  readonly seq: number
  readonly enqueuedAt: number
  state: JobState
  /** Attempts started so far; the lease of attempt n fences results to attempt n. */
  attempt: number
  runAt: number
  lease: Lease | undefined
  /** The worker of the latest attempt, kept after the job finishes. */
  worker: string | undefined
  progress: number | undefined
  result: string | undefined
  error: JobError | undefined
  updatedAt: number
  finishedAt: number | undefined
  /** Of `childIds`, those whose outcome counted (completed, or failed under `ignore`). */
  childrenDone?: string[]
  /** The deployed version whose code runs this job, fixed at enqueue (absent before any deploy). */
  version?: number
}

/** What a client may set per job; unset fields come from the handler's definition. */
export interface EnqueueOptions {
  readonly priority?: number
  readonly delayMs?: number
  readonly idempotencyKey?: string
  readonly maxAttempts?: number
  readonly backoff?: Backoff
  readonly timeoutMs?: number
  /** Forget the job once completed: true, keep the newest n of its name, or { age: seconds, count }. */
  readonly removeOnComplete?: Retention
  /** The same, once it ended dead. */
  readonly removeOnFail?: Retention
  /** Run on this deployed version (`queue-runtime versions`) instead of the current one. */
  readonly version?: number
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 3,
  backoff: { type: 'exponential', baseMs: 1000, maxMs: 60_000 },
}
export const DEFAULT_TIMEOUT_MS = 60_000
