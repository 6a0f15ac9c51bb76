// The worker loop: asks for as many leases as it has free slots (and a few ahead, see
// LeaseAhead), runs them in the pool, reports each outcome fenced by its lease, renews held
// leases in one batch, and forwards progress at a bounded rate.
import { DEFAULT_RETRY, DEFAULT_TIMEOUT_MS, type NewJob } from '../queue/job.js'
import { errorMessage } from '../errors.js'
import type { GrantedLease, LeaseRef } from '../queue/commands.js'
import type { Catalog } from './catalog.js'
import type { FollowUp, HandlerInfo, RunOutcome } from './messages.js'
import type { HandlerPool } from './pool.js'
import { LeaseAhead } from './lease-ahead.js'
import { type LeaseLimits, DEFAULT_LEASE_MS, type Outcome, type WorkSource } from './work-source.js'

const PROGRESS_FLUSH_MS = 200
/** Outcomes sent in one report at most (the leader takes up to 1,000). */
const MAX_REPORT = 500
const STOP_WAIT_MS = 2_000

export interface ExecutorOptions {
  readonly pool: HandlerPool
  readonly source: WorkSource
  readonly catalog: () => Catalog
  /** The handler of a lease, when it is not simply the catalog's by name (deployed code, fetched by version). */
  readonly resolve?: (lease: GrantedLease) => Promise<HandlerInfo | undefined>
  readonly capacity: number
  readonly maxResultBytes: number
  /** The queue's limit on a payload, which follow-up jobs (ctx.enqueue) must keep too. */
  readonly maxPayloadBytes?: number
  readonly leaseMs?: number
  readonly onError?: (err: unknown) => void
  /** Ask again after an empty lease: for a remote leader, which holds the request while the queue is empty. */
  readonly poll?: boolean
  /** The most leases held beyond the slots, waiting for one (default and most: 1000 less the capacity, as one request brings at most 1000; 0: none). */
  readonly leaseAhead?: number
}

/** The leader takes at most this many leases in one request. */
const MAX_LEASE_REQUEST = 1000

const POLL_RETRY_MS = 200
/** A lease answer that took this long was held by the leader for want of work. */
const HELD_ANSWER_MS = 500

export class Executor {
  private readonly running = new Map<string, GrantedLease>()
  private readonly runningByName = new Map<string, number>()
  /** Leased ahead, by job id, waiting for a slot (or for their name's concurrency): started in the order they came. */
  private readonly held = new Map<string, GrantedLease>()
  private readonly ahead: LeaseAhead
  /** Runs that ended with no held lease to start next: the hand was too small. */
  private starvedRuns = 0
  private starvedAtAnswer = 0
  private requested = 0
  private stopped = false
  private pumping = false
  private pumpAgain = false
  private readonly pendingProgress = new Map<string, { job: LeaseRef; progress: number }>()
  private readonly renewTimer: NodeJS.Timeout
  private readonly progressTimer: NodeJS.Timeout
  private readonly finished = new Set<Promise<void>>()
  /**
   * Outcomes of finished runs until the leader has them, and their leases (job id → attempt):
   * still renewed, and never to be handed over again as if their answer had been lost.
   */
  private readonly reports = new Set<Promise<void>>()
  private readonly unreported = new Map<string, number>()
  /** Outcomes waiting for the report in flight: one report at a time, carrying all that finished meanwhile. */
  private readonly outbox: { outcome: Outcome; sent: () => void }[] = []
  private reporting = false

  constructor(private readonly options: ExecutorOptions) {
    this.ahead = new LeaseAhead(Math.max(0, Math.min(options.leaseAhead ?? MAX_LEASE_REQUEST, MAX_LEASE_REQUEST - options.capacity)))
    this.renewTimer = setInterval(() => void this.renew(), (options.leaseMs ?? DEFAULT_LEASE_MS) / 3)
    this.progressTimer = setInterval(() => void this.flushProgress(), PROGRESS_FLUSH_MS)
  }

  get runningCount(): number {
    return this.running.size
  }

  /** Leases held for a free slot, not yet running. */
  get heldCount(): number {
    return this.held.size
  }

  isRunning(jobId: string, attempt: number): boolean {
    return this.running.get(jobId)?.attempt === attempt
  }

  /** Called when work may be available: new jobs, a finished run, a start. */
  pump(): void {
    if (this.stopped) return
    if (this.pumping) {
      this.pumpAgain = true
      return
    }
    void this.leaseLoop()
  }

  recordProgress(jobId: string, attempt: number, progress: number): void {
    if (this.isRunning(jobId, attempt)) this.pendingProgress.set(jobId, { job: { jobId, attempt }, progress })
  }

  /** Stops taking work, aborts what runs, and hands unfinished leases back at once. */
  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.renewTimer)
    clearInterval(this.progressTimer)
    for (const jobId of this.running.keys()) this.options.pool.abort(jobId, 'the peer is shutting down')
    // Held leases go back with the release below.
    this.held.clear()
    // No lease request will carry what is waiting in the outbox now.
    void this.sendReports()
    // Reports in flight may be retrying against a leader that is gone; a job whose outcome is
    // not heard runs again (at-least-once), so shutting down need not wait for them for long.
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.allSettled([...this.finished]).then(() => Promise.allSettled([...this.reports])),
      new Promise((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS))),
    ])
    clearTimeout(timer)
    await this.options.source.release().catch(() => undefined)
  }

  private async leaseLoop(): Promise<void> {
    this.pumping = true
    let gotNothing = false
    let heldMs = 0
    try {
      do {
        this.pumpAgain = false
        const free = this.toAsk()
        if (free <= 0) break
        this.requested += free
        let leases: GrantedLease[] = []
        const asked = Date.now()
        heldMs = 0
        // Outcomes not yet on their way go with this request: one round trip and one commit.
        const carried = this.reporting ? [] : this.outbox.splice(0, MAX_REPORT)
        try {
          leases = await this.options.source.lease(free, this.namesAtLimit(), this.leasedIds(), carried.map((c) => c.outcome), this.globalLimits())
          heldMs = Date.now() - asked
          // An answer the leader held for want of work says nothing about the hand's size.
          if (heldMs < HELD_ANSWER_MS) this.ahead.answered(this.starvedRuns - this.starvedAtAnswer, this.held.size)
          this.starvedAtAnswer = this.starvedRuns
        } catch (err) {
          this.reportFailed(carried, err)
          throw err
        } finally {
          this.requested -= free
          for (const c of carried) c.sent()
        }
        for (const lease of leases) this.start(lease)
        gotNothing = leases.length === 0
        if (leases.length === free) this.pumpAgain = true
      } while (this.pumpAgain && !this.stopped)
    } catch (err) {
      this.options.onError?.(err)
      gotNothing = true
    } finally {
      this.pumping = false
    }
    // Polling a remote leader: it holds a lease request while the queue is empty, so after an
    // answer it held (nothing came meanwhile) asking again at once is cheap, and a job that
    // arrives next is not left waiting. After an error, or nothing answered at once (every
    // queued job is of a kind this worker runs at its limit), wait a little.
    // A local queue wakes this worker when something changes; a rate window opens with time alone
    // (only then ask again: each ask is a log entry).
    if (!this.options.poll && !this.stopped && this.toAsk() > 0 && this.hasRateLimits() && this.options.source.hasReady?.()) {
      setTimeout(() => this.pump(), POLL_RETRY_MS).unref()
    }
    if (this.options.poll && !this.stopped && this.toAsk() > 0) {
      if (gotNothing && heldMs < HELD_ANSWER_MS) setTimeout(() => this.pump(), POLL_RETRY_MS).unref()
      else setImmediate(() => this.pump())
    }
  }

  /** Leases to ask for: the free slots and the hand's share, less what is held or on its way. */
  private toAsk(): number {
    return this.options.capacity + this.ahead.wanted - this.running.size - this.held.size - this.requested
  }

  /** Every lease this worker holds: running, waiting for a slot, finished and not yet reported. */
  private leasedIds(): string[] {
    return [...this.running.keys(), ...this.held.keys(), ...this.unreported.keys()]
  }

  private hasRateLimits(): boolean {
    for (const info of this.options.catalog().values()) if (info.rateLimit !== undefined) return true
    return false
  }

  /** The handlers' limits across the whole network, which the leader's leases enforce. */
  private globalLimits(): LeaseLimits {
    const concurrency: Record<string, number> = {}
    const rates: Record<string, { max: number; perMs: number }> = {}
    for (const [name, info] of this.options.catalog()) {
      if (info.globalConcurrency !== undefined) concurrency[name] = info.globalConcurrency
      if (info.rateLimit !== undefined) rates[name] = { max: info.rateLimit.max, perMs: info.rateLimit.perMs }
    }
    return { concurrency, rates }
  }

  /** Names whose running and held leases fill their concurrency: the leader leaves them out. */
  private namesAtLimit(): string[] {
    const counts = new Map(this.runningByName)
    for (const lease of this.held.values()) counts.set(lease.name, (counts.get(lease.name) ?? 0) + 1)
    const full: string[] = []
    for (const [name, info] of this.options.catalog()) {
      if (info.concurrency !== undefined && (counts.get(name) ?? 0) >= info.concurrency) full.push(name)
    }
    return full
  }

  /** Runs the lease now if a slot (and its name's concurrency) has room; holds it for one otherwise. */
  private start(lease: GrantedLease): void {
    if (this.running.has(lease.jobId) || this.held.has(lease.jobId)) return
    if (this.canRun(lease)) this.run(lease)
    else this.held.set(lease.jobId, lease)
  }

  private canRun(lease: GrantedLease): boolean {
    if (this.running.size >= this.options.capacity) return false
    const limit = this.options.catalog().get(lease.name)?.concurrency
    return limit === undefined || (this.runningByName.get(lease.name) ?? 0) < limit
  }

  private run(lease: GrantedLease): void {
    this.running.set(lease.jobId, lease)
    this.runningByName.set(lease.name, (this.runningByName.get(lease.name) ?? 0) + 1)
    const done = this.execute(lease).finally(() => {
      this.finished.delete(done)
      this.running.delete(lease.jobId)
      const left = (this.runningByName.get(lease.name) ?? 1) - 1
      if (left > 0) this.runningByName.set(lease.name, left)
      else this.runningByName.delete(lease.name)
      this.pendingProgress.delete(lease.jobId)
      if (this.held.size === 0) this.starvedRuns++
      this.startHeld()
      this.pump()
    })
    this.finished.add(done)
  }

  /** Starts held leases, in the order they came, while slots have room. */
  private startHeld(): void {
    for (const lease of this.held.values()) {
      if (this.running.size >= this.options.capacity || this.stopped) return
      if (!this.canRun(lease)) continue
      this.held.delete(lease.jobId)
      this.run(lease)
    }
  }

  private async execute(lease: GrantedLease): Promise<void> {
    const ref = { jobId: lease.jobId, attempt: lease.attempt }
    let info: HandlerInfo | undefined
    let unavailable: string | undefined
    try {
      info = this.options.resolve ? await this.options.resolve(lease) : this.options.catalog().get(lease.name)
    } catch (err) {
      unavailable = errorMessage(err)
    }
    const ran: RunOutcome = info
      ? await this.options.pool.run({ bundle: info.bundle, jobId: lease.jobId, attempt: lease.attempt, payload: lease.payload, timeoutMs: lease.timeoutMs, ...(lease.children ? { children: lease.children } : {}) })
      : unavailable !== undefined
        ? { ok: false, error: { name: 'CodeUnavailable', message: `this worker could not get the code of "${lease.name}"${lease.version === undefined ? '' : ` (version ${lease.version})`}: ${unavailable}`, retryable: true } }
        : { ok: false, error: { name: 'UnknownJob', message: `this worker has no handler for "${lease.name}"${lease.version === undefined ? '' : ` in version ${lease.version}`}`, retryable: true } }
    // On shutdown, the release that follows hands every lease back; reporting would only wait on a leader that may be gone.
    if (this.stopped) return
    const outcome = this.withinLimit(ran)
    const followUps = outcome.ok && outcome.enqueue ? { enqueue: outcome.enqueue.map((f) => this.followUpJob(f)) } : {}
    const sent = new Promise<void>((resolve) => this.outbox.push({ outcome: outcome.ok ? { job: ref, result: outcome.result, ...followUps } : { job: ref, error: outcome.error }, sent: resolve }))
    // The slot is free now. The outcome travels with the next lease request that this opens, or
    // on its own if a request is already out (it may be held at the leader while the queue is empty).
    if (this.pumping) void this.sendReports()
    this.reports.add(sent)
    this.unreported.set(lease.jobId, lease.attempt)
    void sent.then(() => {
      this.reports.delete(sent)
      this.unreported.delete(lease.jobId)
    })
  }

  /** No added wait: the first outcome goes at once, and those that finish while it travels go together next. */
  private async sendReports(): Promise<void> {
    if (this.reporting) return
    this.reporting = true
    try {
      while (this.outbox.length > 0) {
        const batch = this.outbox.splice(0, MAX_REPORT)
        try {
          await this.options.source.report(batch.map((b) => b.outcome))
        } catch (err) {
          this.reportFailed(batch, err)
        }
        for (const b of batch) b.sent()
      }
    } finally {
      this.reporting = false
    }
  }

  /** The leases will expire and the jobs run again: at-least-once, never lost. */
  private reportFailed(batch: readonly { outcome: Outcome }[], err: unknown): void {
    if (batch.length === 0) return
    const ids = batch.map((b) => b.outcome.job.jobId)
    this.options.onError?.(new Error(`could not report job(s) ${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ` and ${ids.length - 3} more` : ''}: ${errorMessage(err)}`))
  }

  private withinLimit(outcome: RunOutcome): RunOutcome {
    if (!outcome.ok) return outcome
    const bytes = Buffer.byteLength(outcome.result)
    if (bytes > this.options.maxResultBytes) {
      const message = `the result is ${bytes} bytes, over the queue's limit of ${this.options.maxResultBytes} (limits.maxResultBytes)`
      return { ok: false, error: { name: 'ResultTooLarge', message, retryable: false } }
    }
    const limit = this.options.maxPayloadBytes
    const big = limit === undefined ? undefined : outcome.enqueue?.find((f) => Buffer.byteLength(f.payload) > limit)
    if (big) return { ok: false, error: { name: 'FollowUpTooLarge', message: `ctx.enqueue("${big.name}"): the payload is over the queue's limit of ${limit} bytes`, retryable: false } }
    return outcome
  }

  /** A follow-up as the log stores it: unset options from its handler's definition where this worker has it. */
  private followUpJob(f: FollowUp): NewJob {
    const info = this.options.catalog().get(f.name)
    return {
      id: f.id,
      name: f.name,
      payload: f.payload,
      priority: f.options.priority ?? 0,
      idempotencyKey: undefined,
      retry: { maxAttempts: f.options.maxAttempts ?? info?.retry?.maxAttempts ?? DEFAULT_RETRY.maxAttempts, backoff: info?.retry?.backoff ?? DEFAULT_RETRY.backoff },
      timeoutMs: f.options.timeoutMs ?? info?.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      delayMs: f.options.delayMs ?? 0,
    }
  }

  /** Renews every lease still held (running, waiting for a slot, or finished and not yet reported) in one request; drops or stops those whose lease is gone. */
  private async renew(): Promise<void> {
    const jobs = [...this.running.values(), ...this.held.values()].map((l) => ({ jobId: l.jobId, attempt: l.attempt }))
    for (const [jobId, attempt] of this.unreported) if (!this.running.has(jobId)) jobs.push({ jobId, attempt })
    try {
      const lost = new Set(await this.options.source.renew(jobs))
      for (const jobId of lost) this.held.delete(jobId)
      for (const jobId of lost) if (this.running.has(jobId)) this.options.pool.abort(jobId, 'the lease was lost: the job was cancelled, or given to another worker')
    } catch (err) {
      this.options.onError?.(err)
    }
  }

  private async flushProgress(): Promise<void> {
    if (this.pendingProgress.size === 0) return
    const updates = [...this.pendingProgress.values()]
    this.pendingProgress.clear()
    await this.options.source.progress(updates).catch((err: unknown) => this.options.onError?.(err))
  }
}
