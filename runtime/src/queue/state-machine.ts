// The replicated queue: a deterministic function of the log. Every replica applies the same
// entries in the same order and reaches the same state; nothing here reads a clock or a random
// source, so the simulator and real peers share this code unchanged.
import { assert } from '../errors.js'
import { backoffDelay } from './backoff.js'
import type { ApplyResult, Command, EnqueueOutcome, Entry, GrantedLease, LeaseRef } from './commands.js'
import { Heap } from './heap.js'
import { ReadyQueues, type ReadyEntry } from './ready-queues.js'
import { Pauses, type PauseState } from './pauses.js'
import { retentionRule, type RetentionRule } from './retention.js'
import { JOB_STATES, type ChildOutcome } from './job.js'
import { nextDue, scheduledJobId, type ScheduleRecord } from './schedules.js'
import { Deployments, type Deployment, type DeploymentsSnapshot } from './deployments.js'
import { ShardMap, type ShardMapSnapshot } from '../shards/shard-map.js'
import { FINAL_STATES, type JobError, type JobRecord, type JobState, type NewJob } from './job.js'

/** Hears of deploys as they are applied (with their bundles) and of versions collected. */
export interface DeployListener {
  deployed(deployment: Deployment, contents: Readonly<Record<string, string>>): void
  collected(versions: readonly number[]): void
}

/** Finished jobs kept for result lookups; older ones are forgotten first. */
export const DEFAULT_FINISHED_RETENTION = 100_000

type Timed = { readonly at: number; readonly jobId: string; readonly version: number }
type Ready = ReadyEntry

export interface QueueSnapshot {
  readonly appliedIndex: number
  readonly nextSeq: number
  readonly jobs: readonly JobRecord[]
  /** Absent in snapshots written before pauses existed. */
  readonly paused?: PauseState
  /** Absent in snapshots written before schedules existed. */
  readonly schedules?: readonly ScheduleState[]
  /** Lease start times inside each rate limit's window, by job name and rate key. */
  readonly rateWindows?: readonly (readonly [string, readonly number[]])[]
  /** Absent in snapshots written before deploys existed. */
  readonly deployments?: DeploymentsSnapshot
  /** The root group's shard map; absent in a shard's own snapshots and in older ones. */
  readonly shards?: ShardMapSnapshot
  /** A shard that takes no new jobs (absent: it takes them). */
  readonly sealed?: boolean
}

/** A schedule as the state keeps it, with the queue limit its jobs count against. */
export interface ScheduleState extends ScheduleRecord {
  readonly maxQueuedJobs: number
}

// Ties broken by job id: every replica must make equal-time changes in the same order (a
// replica restored from a snapshot builds its heaps in another order), or event positions differ.
const newTimedHeap = () => new Heap<Timed>((a, b) => a.at < b.at || (a.at === b.at && a.jobId < b.jobId))

export type StateListener = (job: JobRecord, previous: JobState) => void

export class QueueStateMachine {
  private jobs = new Map<string, JobRecord>()
  private byIdempotencyKey = new Map<string, string>()
  /** Bumped on each state change so stale heap entries are recognised and skipped. */
  private versions = new Map<string, number>()
  private ready = new ReadyQueues()
  /** Leased jobs per submitter, for fair leases under saturation. */
  private leasedBySubmitter = new Map<string, number>()
  private waiting = newTimedHeap()
  private leases = newTimedHeap()
  private finished: string[] = []
  private finishedHead = 0
  private counts = new Map<JobState, number>()
  /** Jobs leased to each worker, so a worker's leases are found without a scan. */
  private byWorker = new Map<string, Set<string>>()
  private listeners: StateListener[] = []
  private readonly restoreListeners: (() => void)[] = []
  private readonly pauses = new Pauses<Ready>()
  /** Leased jobs per name, for limits across the whole network (a handler's globalConcurrency). */
  private leasedByName = new Map<string, number>()
  private schedules = new Map<string, ScheduleState>()
  private rateWindows = new Map<string, number[]>()
  /** Finished jobs kept under a count rule, oldest first, by final state and job name. */
  private retained = new Map<string, string[]>()
  /** When finished jobs under an age rule are to be forgotten. */
  private expiries = newTimedHeap()
  private nextSeq = 1
  appliedIndex = 0
  readonly deployments = new Deployments()
  /** Used only in the root group's state: the queue's shards. */
  readonly shards = new ShardMap()
  /** A drained shard refuses new jobs (follow-ups of accepted results still come in). */
  sealed = false
  private deployListeners: DeployListener[] = []
  private shardListeners: ((id: number) => void)[] = []

  constructor(private readonly finishedRetention = DEFAULT_FINISHED_RETENTION) {}

  /** Called after the whole state was replaced from a snapshot. */
  onRestore(listener: () => void): void {
    this.restoreListeners.push(listener)
  }

  /**
   * Called for each deploy applied, with its bundles (base64 by hash), and for the versions
   * collected afterwards: a bundle store keeps the one and forgets the bundles of the other.
   */
  onDeploy(listener: DeployListener): void {
    this.deployListeners.push(listener)
  }

  /** Called after a shard command changed the map (a mint, a certificate, a drain, a retirement). */
  onShardChange(listener: (id: number) => void): void {
    this.shardListeners.push(listener)
  }

  onStateChange(listener: StateListener): () => void {
    this.listeners.push(listener)
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener)
    }
  }

  apply(entry: Entry): ApplyResult {
    // Raft's no-op and membership entries take indexes too, so gaps are normal; going back is not.
    assert(entry.index > this.appliedIndex, `entry ${entry.index} applied after ${this.appliedIndex}`)
    this.appliedIndex = entry.index
    const result = this.applyCommand(entry.command, entry.time)
    this.pruneTimedHeaps()
    return result
  }

  /**
   * Drops the entries that no longer count (a finished job's lease, a renewed lease's old expiry)
   * from the tops of the timed heaps as they come up, as the leader's nextDueTime does anyway. A
   * follower would otherwise keep them all until an `advance` popped them together: after
   * 20,000 quick jobs, 30 ms in one entry on every follower. Which entries a heap still holds
   * never shows: every read skips those that no longer count.
   */
  private pruneTimedHeaps(): void {
    this.liveTop(this.waiting, ['delayed', 'retry-wait'])
    this.liveTop(this.leases, ['leased'])
    this.liveTop(this.expiries, ['completed', 'dead'])
  }

  get(jobId: string): JobRecord | undefined {
    return this.jobs.get(jobId)
  }

  /**
   * Jobs matching a filter, most recently changed first, at most `limit` (for the dashboard and
   * the HTTP list: a scan of the jobs kept, so the caller bounds it).
   */
  list(filter: { state?: JobState; name?: string; search?: string; limit: number }): JobRecord[] {
    const search = filter.search?.toLowerCase()
    const matches: JobRecord[] = []
    for (const job of this.jobs.values()) {
      if (filter.state !== undefined && job.state !== filter.state) continue
      if (filter.name !== undefined && job.name !== filter.name) continue
      if (search && !(job.id.toLowerCase().includes(search) || job.name.toLowerCase().includes(search) || (job.error?.message.toLowerCase().includes(search) ?? false))) continue
      matches.push(job)
    }
    return matches.sort((a, b) => b.updatedAt - a.updatedAt).slice(0, filter.limit)
  }

  countByState(): Record<JobState, number> {
    return Object.fromEntries(JOB_STATES.map((s) => [s, this.counts.get(s) ?? 0])) as Record<JobState, number>
  }

  /** Unfinished jobs: read for every job enqueued, so summed without building countByState's record. */
  activeCount(): number {
    const c = this.counts
    return (c.get('waiting-children') ?? 0) + (c.get('delayed') ?? 0) + (c.get('queued') ?? 0) + (c.get('leased') ?? 0) + (c.get('retry-wait') ?? 0)
  }

  /** Unfinished jobs by the peer that submitted them (a scan: for rebuilding a count after a restore). */
  unfinishedBySubmitter(): Map<string, number> {
    const counts = new Map<string, number>()
    for (const job of this.jobs.values()) {
      if (job.submitter !== undefined && !FINAL_STATES.has(job.state)) counts.set(job.submitter, (counts.get(job.submitter) ?? 0) + 1)
    }
    return counts
  }

  /** Earliest time at which `advance` would change something, or undefined. */
  nextDueTime(): number | undefined {
    const times = [this.liveTop(this.waiting, ['delayed', 'retry-wait'])?.at, this.liveTop(this.leases, ['leased'])?.at, this.liveTop(this.expiries, ['completed', 'dead'])?.at]
    for (const schedule of this.schedules.values()) times.push(schedule.nextAt)
    const due = times.filter((t): t is number => t !== undefined)
    return due.length > 0 ? Math.min(...due) : undefined
  }

  /** Jobs held, finished ones kept included: about what a snapshot writes. */
  get size(): number {
    return this.jobs.size
  }

  hasReady(): boolean {
    return this.ready.top(this.liveReady) !== undefined
  }

  leasesOf(worker: string): JobRecord[] {
    return [...(this.byWorker.get(worker) ?? [])].map((id) => this.jobs.get(id)!)
  }

  workersWithLeases(): Set<string> {
    return new Set(this.byWorker.keys())
  }

  deadJobIds(): string[] {
    return [...this.jobs.values()].filter((job) => job.state === 'dead').map((job) => job.id)
  }

  /** The recurring jobs, by id. */
  scheduleList(): ScheduleState[] {
    return [...this.schedules.values()].map((s) => ({ ...s }))
  }

  /** Whether the queue, and which job names, are paused. */
  paused(): PauseState {
    return this.pauses.state()
  }

  /**
   * The state as of now, for a snapshot written while the queue goes on changing. A job that has
   * not finished is copied; a finished one is shared, since nothing changes a finished record in
   * place (a re-drive replaces it first): on a queue whose jobs are mostly done, the copy that
   * blocked the loop for every job (3 ms for 20,000, up to 68 ms for 100,000 under load) is only
   * the live ones.
   */
  snapshot(): QueueSnapshot {
    return { appliedIndex: this.appliedIndex, nextSeq: this.nextSeq, jobs: [...this.jobs.values()].map((job) => (FINAL_STATES.has(job.state) ? job : { ...job })), paused: this.pauses.state(), schedules: this.scheduleList(), rateWindows: [...this.rateWindows].map(([k, times]) => [k, [...times]] as const), deployments: this.deployments.snapshot(), ...(this.shards.all().length > 0 || this.shards.rootState !== 'open' ? { shards: this.shards.snapshot() } : {}), ...(this.sealed ? { sealed: true } : {}) }
  }

  /** Replaces the whole state with a snapshot's (a follower that fell behind, or a restart). */
  restore(snapshot: QueueSnapshot): void {
    this.jobs = new Map()
    this.byIdempotencyKey = new Map()
    this.versions = new Map()
    this.ready = new ReadyQueues()
    this.leasedBySubmitter = new Map()
    this.waiting = newTimedHeap()
    this.leases = newTimedHeap()
    this.finished = []
    this.finishedHead = 0
    this.counts = new Map()
    this.byWorker = new Map()
    this.leasedByName = new Map()
    this.pauses.restore(snapshot.paused)
    this.schedules = new Map((snapshot.schedules ?? []).map((s) => [s.spec.id, { ...s }]))
    this.rateWindows = new Map((snapshot.rateWindows ?? []).map(([k, times]) => [k, [...times]]))
    this.retained = new Map()
    this.expiries = newTimedHeap()
    this.appliedIndex = snapshot.appliedIndex
    this.nextSeq = snapshot.nextSeq
    this.shards.restore(snapshot.shards)
    this.sealed = snapshot.sealed ?? false
    const finished = snapshot.jobs.filter((j) => FINAL_STATES.has(j.state)).sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0))
    for (const job of snapshot.jobs) {
      this.jobs.set(job.id, { ...job })
      if (job.idempotencyKey !== undefined) this.byIdempotencyKey.set(job.idempotencyKey, job.id)
      this.counts.set(job.state, (this.counts.get(job.state) ?? 0) + 1)
      if (job.state === 'leased') {
        this.leasedByName.set(job.name, (this.leasedByName.get(job.name) ?? 0) + 1)
        this.leasedBySubmitter.set(job.submitter ?? '', (this.leasedBySubmitter.get(job.submitter ?? '') ?? 0) + 1)
      }
      this.index(this.jobs.get(job.id)!)
    }
    for (const job of finished) {
      this.finished.push(job.id)
      this.noteRetention(this.jobs.get(job.id)!, job.finishedAt ?? 0)
    }
    this.deployments.restore(snapshot.deployments, snapshot.jobs.filter((j) => !FINAL_STATES.has(j.state)).map((j) => j.version))
    for (const listener of this.restoreListeners) listener()
  }

  private applyCommand(command: Command, time: number): ApplyResult {
    switch (command.type) {
      case 'enqueue': {
        if (this.sealed) {
          const message = 'this shard takes no new jobs (it is draining): send them to an open shard'
          return { type: 'enqueue', outcomes: command.jobs.map((job) => (this.jobs.has(job.id) ? { ok: true, id: job.id, created: false } : { ok: false, code: 'E_SHARD_SEALED', message })) }
        }
        const fresh = command.jobs.filter((job) => !this.jobs.has(job.id)).length
        if (command.atomic && fresh > 0 && this.activeCount() + fresh > command.maxQueuedJobs) {
          const message = `the queue has room for ${Math.max(0, command.maxQueuedJobs - this.activeCount())} more unfinished jobs, not the ${fresh} of this flow`
          return { type: 'enqueue', outcomes: command.jobs.map(() => ({ ok: false, code: 'E_QUEUE_FULL', message })) }
        }
        return { type: 'enqueue', outcomes: command.jobs.map((job) => this.enqueue(job, time, command.maxQueuedJobs)) }
      }
      case 'lease':
        return { type: 'lease', leases: this.lease(command, time) }
      case 'renew':
        return { type: 'changed', jobIds: this.renew(command.worker, command.jobs, time + command.leaseMs) }
      case 'complete':
        return this.fenced(command.worker, command.job, time, (job) => {
          job.result = command.result
          job.progress = job.progress === undefined ? undefined : 100
          this.transition(job, 'completed', time)
          // Follow-ups exist only because this result was accepted: a retried attempt cannot start them twice.
          for (const next of command.enqueue ?? []) this.enqueue(next, time, command.maxQueuedJobs ?? Number.MAX_SAFE_INTEGER)
        })
      case 'fail':
        return this.fenced(command.worker, command.job, time, (job) => this.failAttempt(job, command.error, time))
      case 'progress':
        return this.fenced(command.worker, command.job, time, (job) => {
          job.progress = command.progress
          job.updatedAt = time
        })
      case 'release':
        return { type: 'changed', jobIds: this.release(command.worker, time) }
      case 'cancel':
        return { type: 'changed', jobIds: this.cancel(command.jobIds, time) }
      case 'redrive':
        return { type: 'changed', jobIds: this.redrive(command.jobIds, time) }
      case 'advance':
        return { type: 'changed', jobIds: this.advance(time) }
      case 'pause':
        this.pauses.pause(command.name)
        return { type: 'changed', jobIds: [] }
      case 'resume':
        for (const entry of this.pauses.resume(command.name)) this.ready.push(entry)
        return { type: 'changed', jobIds: [] }
      case 'schedule': {
        const previous = this.schedules.get(command.schedule.id)
        const count = previous?.count ?? 0
        const ended = command.schedule.limit !== undefined && count >= command.schedule.limit
        this.schedules.set(command.schedule.id, {
          spec: command.schedule,
          nextAt: ended ? undefined : nextDue(command.schedule, time, false),
          count,
          lastJobId: previous?.lastJobId,
          maxQueuedJobs: command.maxQueuedJobs,
        })
        return { type: 'changed', jobIds: [] }
      }
      case 'unschedule':
        this.schedules.delete(command.id)
        return { type: 'changed', jobIds: [] }
      case 'deploy': {
        const deployment = this.deployments.add(command.deployment, command.bundles, time)
        for (const listener of this.deployListeners) listener.deployed(deployment, command.contents)
        return { ...this.versionsChanged(true), deployed: deployment.version }
      }
      case 'promote':
        return this.versionsChanged(this.deployments.promote(command.version))
      case 'rollback':
        return this.versionsChanged(this.deployments.rollback())
      case 'seal':
      case 'unseal':
        this.sealed = command.type === 'seal'
        return { type: 'changed', jobIds: [] }
      case 'shard-mint':
      case 'shard-certify':
      case 'shard-drain':
      case 'shard-reopen':
      case 'shard-retire':
      case 'shard-members': {
        const id = this.shards.apply(command, time)
        if (id !== undefined) for (const listener of this.shardListeners) listener(id)
        return { type: 'shard', id }
      }
    }
  }

  private versionsChanged(ok: boolean): Extract<ApplyResult, { type: 'versions' }> {
    const collected = this.collectVersions()
    return { type: 'versions', ok, current: this.deployments.current, collected }
  }

  private collectVersions(): number[] {
    const gone = this.deployments.collect()
    if (gone.length > 0) for (const listener of this.deployListeners) listener.collected(gone)
    return gone
  }

  private enqueue(spec: NewJob, time: number, maxQueuedJobs: number): EnqueueOutcome {
    if (spec.idempotencyKey !== undefined) {
      const existing = this.byIdempotencyKey.get(spec.idempotencyKey)
      if (existing !== undefined) return { ok: true, id: existing, created: false }
    }
    if (this.jobs.has(spec.id)) return { ok: true, id: spec.id, created: false }
    if (this.activeCount() >= maxQueuedJobs) {
      return { ok: false, code: 'E_QUEUE_FULL', message: `the queue holds ${maxQueuedJobs} unfinished jobs, its limit` }
    }
    const delayed = spec.delayMs > 0
    const waits = (spec.childIds?.length ?? 0) > 0
    const job: JobRecord = {
      id: spec.id,
      name: spec.name,
      payload: spec.payload,
      priority: spec.priority,
      idempotencyKey: spec.idempotencyKey,
      ...(spec.submitter === undefined ? {} : { submitter: spec.submitter }),
      ...(spec.rateKey === undefined ? {} : { rateKey: spec.rateKey }),
      ...(spec.parentId === undefined ? {} : { parentId: spec.parentId }),
      ...(spec.onChildFailure === undefined ? {} : { onChildFailure: spec.onChildFailure }),
      ...(spec.removeOnComplete === undefined ? {} : { removeOnComplete: spec.removeOnComplete }),
      ...(spec.removeOnFail === undefined ? {} : { removeOnFail: spec.removeOnFail }),
      ...(waits ? { childIds: [...spec.childIds!], childrenDone: [] } : {}),
      ...this.versionFor(spec.version),
      retry: spec.retry,
      timeoutMs: spec.timeoutMs,
      seq: this.nextSeq++,
      enqueuedAt: time,
      state: waits ? 'waiting-children' : delayed ? 'delayed' : 'queued',
      attempt: 0,
      runAt: time + spec.delayMs,
      lease: undefined,
      worker: undefined,
      progress: undefined,
      result: undefined,
      error: undefined,
      updatedAt: time,
      finishedAt: undefined,
    }
    this.jobs.set(job.id, job)
    if (job.idempotencyKey !== undefined) this.byIdempotencyKey.set(job.idempotencyKey, job.id)
    this.counts.set(job.state, (this.counts.get(job.state) ?? 0) + 1)
    this.deployments.pin(job.version)
    this.index(job)
    this.notify(job, job.state)
    return { ok: true, id: job.id, created: true }
  }

  private lease(command: Extract<Command, { type: 'lease' }>, time: number): GrantedLease[] {
    const granted: GrantedLease[] = []
    const passedOver: Ready[] = []
    const expiresAt = time + command.leaseMs
    // Bounded: a worker at its limit for the front job names must not make every lease scan the queue.
    const scanLimit = command.count * 4 + 64
    // Paused jobs are set aside once each, so they cost a lease at most once. No budget: a
    // replica restored from a snapshot sets aside more at once than one that was not, and
    // both must grant the same leases.
    while (granted.length < command.count && granted.length + passedOver.length < scanLimit) {
      const top = this.ready.top(this.liveReady, command.fair ? this.fairTurn(command.fair) : undefined)
      if (!top) break
      this.ready.pop(top)
      const job = this.jobs.get(top.jobId)!
      if (this.pauses.isPaused(job.name)) {
        this.pauses.park(job.name, top)
        continue
      }
      const limit = command.limits?.[job.name]
      const rate = command.rates?.[job.name]
      if (command.exclude.includes(job.name) || (limit !== undefined && (this.leasedByName.get(job.name) ?? 0) >= limit) || (rate !== undefined && !this.takeRate(job, rate, time))) {
        passedOver.push(top)
        continue
      }
      job.attempt += 1
      job.lease = { worker: command.worker, attempt: job.attempt, expiresAt }
      job.worker = command.worker
      job.error = undefined
      this.transition(job, 'leased', time)
      granted.push(this.leaseOf(job))
    }
    for (const entry of passedOver) this.ready.push(entry)
    return granted
  }

  /** A leased job as its worker receives it (also when a lost answer is handed over again). */
  leaseOf(job: JobRecord): GrantedLease {
    return { jobId: job.id, name: job.name, payload: job.payload, attempt: job.attempt, timeoutMs: job.timeoutMs, expiresAt: job.lease!.expiresAt, ...this.childrenOf(job), ...(job.version === undefined ? {} : { version: job.version }) }
  }

  /** The version a new job is pinned to (none before the first deploy). */
  private versionFor(asked: number | undefined): { version?: number } {
    const version = this.deployments.pinFor(asked)
    return version === undefined ? {} : { version }
  }

  /** A flow parent's children as its handler reads them. */
  private childrenOf(job: JobRecord): { children?: ChildOutcome[] } {
    if (!job.childIds) return {}
    return {
      children: job.childIds.map((id) => {
        const child = this.jobs.get(id)
        return { id, name: child?.name ?? '', state: child?.state ?? 'cancelled', result: child?.result ?? null, error: child?.error ?? null }
      }),
    }
  }

  /** A child ended: its parent may now run, or fail with it. */
  private settleParent(child: JobRecord, time: number): void {
    const parent = child.parentId === undefined ? undefined : this.jobs.get(child.parentId)
    if (!parent || parent.state !== 'waiting-children' || !parent.childIds) return
    const done = parent.childrenDone ?? []
    if (done.includes(child.id)) return
    const policy = child.onChildFailure ?? 'wait'
    if (child.state === 'completed' || policy === 'ignore') {
      // A new array, never a change in place: snapshots share arrays with the records they copied.
      parent.childrenDone = [...done, child.id]
      if (parent.childrenDone.length >= parent.childIds.length) this.transition(parent, parent.runAt > time ? 'delayed' : 'queued', time)
    } else if (policy === 'fail-parent') {
      parent.error = { name: 'ChildFailed', message: `child ${child.id} ("${child.name}") ended ${child.state}${child.error ? `: ${child.error.message}` : ''}`, retryable: false }
      this.transition(parent, 'dead', time)
    }
  }

  /** Counts a lease start against the job's rate window; false when the window is full. */
  private takeRate(job: JobRecord, rate: { max: number; perMs: number }, time: number): boolean {
    const key = `${job.name}\u0000${job.rateKey ?? ''}`
    const window = (this.rateWindows.get(key) ?? []).filter((t) => t > time - rate.perMs)
    if (window.length >= rate.max) {
      this.rateWindows.set(key, window)
      return false
    }
    window.push(time)
    this.rateWindows.set(key, window)
    return true
  }

  private renew(worker: string, refs: readonly LeaseRef[], expiresAt: number): string[] {
    const renewed: string[] = []
    for (const ref of refs) {
      const job = this.heldBy(worker, ref)
      if (!job) continue
      job.lease = { ...job.lease!, expiresAt }
      this.leases.push({ at: expiresAt, jobId: job.id, version: this.version(job.id) })
      renewed.push(job.id)
    }
    return renewed
  }

  private fenced(worker: string, ref: LeaseRef, time: number, change: (job: JobRecord) => void): ApplyResult {
    const job = this.heldBy(worker, ref)
    if (!job) return { type: 'fenced', accepted: false }
    change(job)
    return { type: 'fenced', accepted: true }
  }

  private heldBy(worker: string, ref: LeaseRef): JobRecord | undefined {
    const job = this.jobs.get(ref.jobId)
    if (!job || job.state !== 'leased' || !job.lease) return undefined
    if (job.lease.worker !== worker || job.lease.attempt !== ref.attempt) return undefined
    return job
  }

  private failAttempt(job: JobRecord, error: JobError, time: number): void {
    job.error = error
    if (error.retryable && job.attempt < job.retry.maxAttempts) {
      job.runAt = time + backoffDelay(job.retry.backoff, job.attempt)
      this.transition(job, job.runAt > time ? 'retry-wait' : 'queued', time)
    } else {
      this.transition(job, 'dead', time)
    }
  }

  private release(worker: string, time: number): string[] {
    // In submission order: a set's order depends on how this replica built it (a snapshot, or leases).
    const released = [...(this.byWorker.get(worker) ?? [])].sort((a, b) => this.jobs.get(a)!.seq - this.jobs.get(b)!.seq)
    for (const id of released) this.expireLease(this.jobs.get(id)!, `the worker ${worker} left`, time)
    return released
  }

  /** A lost worker is not the handler's fault, so the retry is immediate; it still uses an attempt. */
  private expireLease(job: JobRecord, reason: string, time: number): void {
    job.error = { name: 'LeaseExpired', message: reason, retryable: true }
    this.transition(job, job.attempt < job.retry.maxAttempts ? 'queued' : 'dead', time)
  }

  private cancel(jobIds: readonly string[], time: number): string[] {
    const cancelled: string[] = []
    for (const id of jobIds) {
      const job = this.jobs.get(id)
      if (!job || FINAL_STATES.has(job.state)) continue
      this.transition(job, 'cancelled', time)
      cancelled.push(id)
    }
    return cancelled
  }

  private redrive(jobIds: readonly string[], time: number): string[] {
    const redriven: string[] = []
    for (const id of jobIds) {
      const found = this.jobs.get(id)
      if (!found || found.state !== 'dead') continue
      // A new record: a snapshot being written may share the finished one (see snapshot()).
      const job = { ...found }
      this.jobs.set(id, job)
      job.attempt = 0
      job.error = undefined
      job.finishedAt = undefined
      // A flow parent runs only after its children: one whose child failed waits for it again.
      const counted = job.childIds?.filter((c) => {
        const child = this.jobs.get(c)
        return child?.state === 'completed' || (child !== undefined && FINAL_STATES.has(child.state) && child.onChildFailure === 'ignore')
      })
      if (job.childIds && counted && counted.length < job.childIds.length) {
        job.childrenDone = counted
        this.transition(job, 'waiting-children', time)
      } else this.transition(job, 'queued', time)
      redriven.push(id)
    }
    return redriven
  }

  private advance(time: number): string[] {
    const changed: string[] = []
    for (let top = this.liveTop(this.waiting, ['delayed', 'retry-wait']); top && top.at <= time; top = this.liveTop(this.waiting, ['delayed', 'retry-wait'])) {
      this.waiting.pop()
      this.transition(this.jobs.get(top.jobId)!, 'queued', time)
      changed.push(top.jobId)
    }
    for (let top = this.liveTop(this.leases, ['leased']); top && top.at <= time; top = this.liveTop(this.leases, ['leased'])) {
      this.leases.pop()
      const job = this.jobs.get(top.jobId)!
      this.expireLease(job, `the lease of attempt ${job.attempt} expired`, time)
      changed.push(top.jobId)
    }
    for (let top = this.liveTop(this.expiries, ['completed', 'dead']); top && top.at <= time; top = this.liveTop(this.expiries, ['completed', 'dead'])) {
      this.expiries.pop()
      const job = this.jobs.get(top.jobId)!
      if (!this.neededByParent(job)) this.drop(job)
    }
    for (const schedule of this.schedules.values()) {
      if (schedule.nextAt === undefined || schedule.nextAt > time) continue
      const id = scheduledJobId(schedule.spec.id, schedule.nextAt)
      const outcome = this.enqueue({ ...schedule.spec.job, id, delayMs: 0, idempotencyKey: undefined }, time, schedule.maxQueuedJobs)
      if (outcome.ok) {
        schedule.count += 1
        schedule.lastJobId = id
        changed.push(id)
      }
      const ended = schedule.spec.limit !== undefined && schedule.count >= schedule.spec.limit
      schedule.nextAt = ended ? undefined : nextDue(schedule.spec, time, true)
    }
    return changed
  }

  private transition(job: JobRecord, state: JobState, time: number): void {
    const previous = job.state
    if (previous === 'leased' && job.lease) this.unindexLease(job.lease.worker, job.id)
    if (previous === 'leased') this.leasedByName.set(job.name, (this.leasedByName.get(job.name) ?? 1) - 1)
    if (state === 'leased') this.leasedByName.set(job.name, (this.leasedByName.get(job.name) ?? 0) + 1)
    const submitter = job.submitter ?? ''
    if (previous === 'leased') this.leasedBySubmitter.set(submitter, (this.leasedBySubmitter.get(submitter) ?? 1) - 1)
    if (state === 'leased') this.leasedBySubmitter.set(submitter, (this.leasedBySubmitter.get(submitter) ?? 0) + 1)
    this.counts.set(previous, (this.counts.get(previous) ?? 0) - 1)
    this.counts.set(state, (this.counts.get(state) ?? 0) + 1)
    job.state = state
    job.updatedAt = time
    if (state !== 'leased') job.lease = undefined
    this.repin(job, previous, state)
    if (FINAL_STATES.has(state)) {
      job.finishedAt = time
      this.finished.push(job.id)
      this.forgetOldFinished()
    }
    this.versions.set(job.id, this.version(job.id) + 1)
    this.index(job)
    this.notify(job, previous)
    if (FINAL_STATES.has(state)) this.settleParent(job, time)
    if (state === 'completed' || state === 'dead') this.retain(job, time)
  }

  /** Applies the job's own retention rule, if it has one, now that it finished. */
  private retain(job: JobRecord, time: number): void {
    const rule = this.ruleOf(job)
    if (!rule) return
    if (rule.immediately) {
      if (!this.neededByParent(job)) this.drop(job)
      return
    }
    this.noteRetention(job, time)
    if (rule.count === undefined) return
    const kept = this.retained.get(`${job.state}\u0000${job.name}`)!
    while (kept.length > rule.count) {
      const old = this.jobs.get(kept.shift()!)
      if (old && FINAL_STATES.has(old.state) && !this.neededByParent(old)) this.drop(old)
    }
  }

  /** Records a finished job under its count and age rules (also when a snapshot is restored). */
  private noteRetention(job: JobRecord, finishedAt: number): void {
    const rule = this.ruleOf(job)
    if (!rule || rule.immediately) return
    if (rule.count !== undefined) {
      const key = `${job.state}\u0000${job.name}`
      this.retained.set(key, [...(this.retained.get(key) ?? []), job.id])
    }
    if (rule.ageMs !== undefined) this.expiries.push({ at: finishedAt + rule.ageMs, jobId: job.id, version: this.version(job.id) })
  }

  private ruleOf(job: JobRecord): RetentionRule | undefined {
    return retentionRule(job.state === 'completed' ? job.removeOnComplete : job.state === 'dead' ? job.removeOnFail : undefined)
  }

  /** A finished child whose parent has not finished yet: its parent's ctx.children() reads it. */
  private neededByParent(job: JobRecord): boolean {
    const parent = job.parentId === undefined ? undefined : this.jobs.get(job.parentId)
    return parent !== undefined && !FINAL_STATES.has(parent.state)
  }

  /** Forgets a finished job. */
  private drop(job: JobRecord): void {
    this.jobs.delete(job.id)
    this.versions.delete(job.id)
    this.counts.set(job.state, (this.counts.get(job.state) ?? 0) - 1)
    if (job.idempotencyKey !== undefined && this.byIdempotencyKey.get(job.idempotencyKey) === job.id) this.byIdempotencyKey.delete(job.idempotencyKey)
  }

  private unindexLease(worker: string, jobId: string): void {
    const held = this.byWorker.get(worker)
    held?.delete(jobId)
    if (held?.size === 0) this.byWorker.delete(worker)
  }

  private index(job: JobRecord): void {
    if (job.state === 'leased' && job.lease) {
      const held = this.byWorker.get(job.lease.worker) ?? new Set<string>()
      held.add(job.id)
      this.byWorker.set(job.lease.worker, held)
    }
    const version = this.version(job.id)
    if (job.state === 'queued') this.ready.push({ priority: job.priority, seq: job.seq, jobId: job.id, version, submitter: job.submitter ?? '' })
    else if (job.state === 'delayed' || job.state === 'retry-wait') this.waiting.push({ at: job.runAt, jobId: job.id, version })
    else if (job.state === 'leased' && job.lease) this.leases.push({ at: job.lease.expiresAt, jobId: job.id, version })
  }

  private forgetOldFinished(): void {
    // A child whose parent has not finished is kept for the parent's ctx.children(): it goes to the back.
    let kept = 0
    while (this.finished.length - this.finishedHead > this.finishedRetention && kept <= this.finished.length - this.finishedHead) {
      const id = this.finished[this.finishedHead++]!
      const job = this.jobs.get(id)
      if (!job || !FINAL_STATES.has(job.state)) continue
      if (this.neededByParent(job)) {
        this.finished.push(id)
        kept++
        continue
      }
      this.drop(job)
    }
    if (this.finishedHead > 4096 && this.finishedHead * 2 > this.finished.length) {
      this.finished.splice(0, this.finishedHead)
      this.finishedHead = 0
    }
  }

  /** Top of a heap after discarding entries that no longer describe their job. */
  private readonly liveReady = (entry: Ready): boolean => {
    const job = this.jobs.get(entry.jobId)
    return job !== undefined && job.state === 'queued' && this.version(job.id) === entry.version
  }

  /**
   * Under saturation, the submitter whose next lease keeps leases fairest: the fewest leased jobs
   * for its weight (ties to the lower id), among those with a job ready.
   */
  private fairTurn(weights: Readonly<Record<string, number>>): string | undefined {
    let best: string | undefined
    let bestLoad = Infinity
    for (const submitter of this.ready.submitters(this.liveReady)) {
      const load = ((this.leasedBySubmitter.get(submitter) ?? 0) + 1) / (weights[submitter] ?? 1)
      if (load < bestLoad) {
        best = submitter
        bestLoad = load
      }
    }
    return best
  }

  private liveTop<T extends { jobId: string; version: number } & ({ at: number } | { seq: number })>(
    heap: Heap<T>,
    states: JobState[],
  ): T | undefined {
    for (let top = heap.peek(); top; top = heap.peek()) {
      const job = this.jobs.get(top.jobId)
      if (job && states.includes(job.state) && this.version(job.id) === top.version && this.stillCurrent(job, top)) return top
      heap.pop()
    }
    return undefined
  }

  /** A renewed lease leaves its old expiry in the heap; only the entry with the current expiry counts. */
  private stillCurrent(job: JobRecord, entry: { at: number } | { seq: number }): boolean {
    if (job.state === 'leased' && 'at' in entry) return job.lease?.expiresAt === entry.at
    return true
  }

  private version(jobId: string): number {
    return this.versions.get(jobId) ?? 0
  }

  /**
   * A job that finishes stops needing its version; one that comes back (a re-drive) needs it
   * again, or the current version if its own was collected meanwhile.
   */
  private repin(job: JobRecord, previous: JobState, state: JobState): void {
    const wasFinal = FINAL_STATES.has(previous)
    const isFinal = FINAL_STATES.has(state)
    if (!wasFinal && isFinal) {
      this.deployments.unpin(job.version)
      if (job.version !== undefined && this.deployments.pinned(job.version) === 0 && job.version !== this.deployments.current) this.collectVersions()
    } else if (wasFinal && !isFinal) {
      if (job.version !== undefined && !this.deployments.get(job.version)) job.version = this.deployments.current
      this.deployments.pin(job.version)
    }
  }

  private notify(job: JobRecord, previous: JobState): void {
    for (const listener of this.listeners) listener(job, previous)
  }
}
