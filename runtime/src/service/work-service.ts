// The leader's answers to workers: leases (held open briefly while the queue is empty, so work
// reaches idle workers without polling), renewals in batches, and outcomes fenced by lease. A
// worker may act only under its own peer id, which the Noise handshake proved.
import { backoffShape } from './requests.js'
import { z } from 'zod'
import { limitsOf, type LeaseLimits } from '../worker/work-source.js'
import { PeerqueueError } from '../errors.js'
import type { Caller } from '../net/rpc.js'
import type { ApplyResult, Command, GrantedLease, LeaseRef } from '../queue/commands.js'
import type { NewJob, JobError } from '../queue/job.js'
import type { ConsensusGroup } from '../raft/group.js'
import type { QueueConfig } from '../registry/schema.js'
import { DEFAULT_LEASE_MS } from '../worker/work-source.js'
import { parseRequest } from './requests.js'

const MAX_LEASE_WAIT_MS = 2_000
const WORKER_SEEN_MS = 15_000

const leaseRef = z.strictObject({ jobId: z.string().min(1).max(128), attempt: z.int().min(1) })
const worker = z.string().min(1).max(200)
const errorShape = z.strictObject({ name: z.string().max(200), message: z.string().max(10_000), retryable: z.boolean() })

/** A follow-up job as a worker sends it with a result (ctx.enqueue). */
const followUpShape = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
  name: z.string().min(1).max(128),
  payload: z.string(),
  priority: z.int().min(-1_000_000).max(1_000_000),
  retry: z.strictObject({ maxAttempts: z.int().min(1).max(1000), backoff: backoffShape }),
  timeoutMs: z.int().min(1).max(86_400_000),
  delayMs: z.int().min(0).max(365 * 86_400_000),
}).transform((job) => ({ ...job, idempotencyKey: undefined }))

const outcomeShape = z.union([z.strictObject({ job: leaseRef, result: z.string(), enqueue: z.array(followUpShape).max(100).optional() }), z.strictObject({ job: leaseRef, error: errorShape })])

const requests = {
  'work.lease': z.strictObject({
    worker,
    count: z.int().min(1).max(1000),
    exclude: z.array(z.string().max(128)).max(1000),
    running: z.array(z.string().max(128)).max(100_000).default([]),
    waitMs: z.int().min(0).max(MAX_LEASE_WAIT_MS).default(0),
    capacity: z.int().min(0).max(100_000),
    /** Runs that finished since the last request: reported in the same log batch as the lease. */
    outcomes: z.array(outcomeShape).max(1000).default([]),
    /** Most leased at once across all workers, by job name (the handlers' globalConcurrency). */
    limits: z
      .record(z.string().max(128), z.int().min(1).max(1_000_000))
      .refine((l) => Object.keys(l).length <= 1000, { message: 'at most 1000 job names' })
      .default({}),
    /** Most lease starts per window, by job name (the handlers' rateLimit). */
    rates: z
      .record(z.string().max(128), z.strictObject({ max: z.int().min(1).max(1_000_000), perMs: z.int().min(1).max(86_400_000) }))
      .refine((l) => Object.keys(l).length <= 1000, { message: 'at most 1000 job names' })
      .default({}),
  }),
  'work.renew': z.strictObject({ worker, jobs: z.array(leaseRef).max(10_000) }),
  'work.complete': z.strictObject({ worker, job: leaseRef, result: z.string() }),
  'work.fail': z.strictObject({ worker, job: leaseRef, error: errorShape }),
  /** Many outcomes in one request and one log entry: how a busy worker reports. */
  'work.report': z.strictObject({
    worker,
    outcomes: z.array(outcomeShape).min(1).max(1000),
  }),
  'work.progress': z.strictObject({ worker, updates: z.array(z.strictObject({ job: leaseRef, progress: z.number().min(0).max(100) })).max(10_000) }),
  'work.release': z.strictObject({ worker }),
}

export type WorkMethod = keyof typeof requests
type LeaseRequest = z.infer<(typeof requests)['work.lease']>

/** A lease request held open while the queue has nothing for it. */
interface LeaseWaiter {
  readonly worker: string
  readonly count: number
  readonly exclude: readonly string[]
  readonly limits: LeaseLimits
  /** Ends the wait; cleared once an enqueue has claimed the request, whose answer is then on its way. */
  timer: NodeJS.Timeout | undefined
  /** Answers the request: with leases granted for it, or undefined to let it ask for itself. */
  settle(leases: GrantedLease[] | undefined): void
}

export interface WorkerSeen {
  readonly id: string
  readonly capacity: number
  readonly running: number
  readonly lastSeen: number
}

export class WorkService {
  private readonly waiting = new Set<LeaseWaiter>()
  private readonly workers = new Map<string, WorkerSeen>()
  /** Under saturation, the submitters' weights: leases are then shared among submitters (see the state machine). */
  fairness: () => Readonly<Record<string, number>> | undefined = () => undefined

  constructor(
    private readonly group: ConsensusGroup,
    private readonly queue: QueueConfig,
    private readonly leaseMs = DEFAULT_LEASE_MS,
  ) {
    group.state.onStateChange((job) => {
      if (job.state !== 'queued' || this.waiting.size === 0) return
      const woken = [...this.waiting]
      this.waiting.clear()
      for (const waiter of woken) waiter.settle(undefined)
    })
  }

  static handles(method: string): method is WorkMethod {
    return method in requests
  }

  /** Workers heard from lately, for status. */
  seenWorkers(now = Date.now()): WorkerSeen[] {
    for (const [id, seen] of this.workers) if (now - seen.lastSeen > WORKER_SEEN_MS) this.workers.delete(id)
    return [...this.workers.values()]
  }

  async handle(method: WorkMethod, params: unknown, caller: Caller): Promise<unknown> {
    this.authorize(caller)
    switch (method) {
      case 'work.lease': {
        const r = parseRequest(requests['work.lease'], params, method)
        this.own(r.worker, caller)
        return this.lease(r, r.outcomes.map((o) => this.outcomeCommand(r.worker, o)))
      }
      case 'work.renew': {
        const r = parseRequest(requests['work.renew'], params, method)
        this.own(r.worker, caller)
        if (r.jobs.length === 0) return []
        const [result] = await this.group.propose([{ type: 'renew', worker: r.worker, jobs: r.jobs, leaseMs: this.leaseMs }])
        const renewed = new Set(result?.type === 'changed' ? result.jobIds : [])
        return r.jobs.filter((j) => !renewed.has(j.jobId)).map((j) => j.jobId)
      }
      case 'work.complete': {
        const r = parseRequest(requests['work.complete'], params, method)
        this.own(r.worker, caller)
        return accepted((await this.group.propose([this.outcomeCommand(r.worker, r)]))[0])
      }
      case 'work.report': {
        const r = parseRequest(requests['work.report'], params, method)
        this.own(r.worker, caller)
        const results = await this.group.propose(r.outcomes.map((outcome) => this.outcomeCommand(r.worker, outcome)))
        return results.map(accepted)
      }
      case 'work.fail': {
        const r = parseRequest(requests['work.fail'], params, method)
        this.own(r.worker, caller)
        return accepted((await this.group.propose([{ type: 'fail', worker: r.worker, job: r.job, error: r.error }]))[0])
      }
      case 'work.progress': {
        const r = parseRequest(requests['work.progress'], params, method)
        this.own(r.worker, caller)
        if (r.updates.length > 0) await this.group.propose(r.updates.map((u) => ({ type: 'progress' as const, worker: r.worker, job: u.job, progress: u.progress })))
        return null
      }
      case 'work.release': {
        const r = parseRequest(requests['work.release'], params, method)
        this.own(r.worker, caller)
        this.workers.delete(r.worker)
        await this.group.propose([{ type: 'release', worker: r.worker }])
        return null
      }
    }
  }

  /**
   * Lease commands for the workers waiting for work, to go into the log in the same batch as
   * an enqueue: an idle worker then gets the new job without a second commit. `deliver` hands
   * each waiter its leases once the batch is applied; `release` sends them the usual way.
   */
  claimWaiting(): { commands: Command[]; deliver(results: readonly (ApplyResult | undefined)[]): void; release(): void } {
    const claimed = [...this.waiting]
    this.waiting.clear()
    for (const w of claimed) clearTimeout(w.timer)
    return {
      commands: claimed.map((w) => ({ type: 'lease', worker: w.worker, count: w.count, leaseMs: this.leaseMs, exclude: w.exclude, ...limitsOf(w.limits), ...this.fair() })),
      deliver: (results) => claimed.forEach((w, i) => w.settle(results[i]?.type === 'lease' ? [...results[i].leases] : undefined)),
      release: () => claimed.forEach((w) => w.settle(undefined)),
    }
  }

  /** A completion, or a failure; a result over the queue's limit becomes a failure that is not retried. */
  private outcomeCommand(worker: string, outcome: { job: LeaseRef; result: string; enqueue?: readonly NewJob[] } | { job: LeaseRef; error: JobError }): Command {
    if ('error' in outcome) return { type: 'fail', worker, job: outcome.job, error: outcome.error }
    const { maxResultBytes, maxPayloadBytes, maxQueuedJobs } = this.queue.limits
    if (Buffer.byteLength(outcome.result) > maxResultBytes) {
      const error = { name: 'ResultTooLarge', message: `the result is over the queue's limit of ${maxResultBytes} bytes`, retryable: false }
      return { type: 'fail', worker, job: outcome.job, error }
    }
    const big = outcome.enqueue?.find((job) => Buffer.byteLength(job.payload) > maxPayloadBytes)
    if (big) return { type: 'fail', worker, job: outcome.job, error: { name: 'FollowUpTooLarge', message: `ctx.enqueue("${big.name}"): the payload is over the queue's limit of ${maxPayloadBytes} bytes`, retryable: false } }
    const followUps = outcome.enqueue && outcome.enqueue.length > 0 ? { enqueue: outcome.enqueue, maxQueuedJobs } : {}
    return { type: 'complete', worker, job: outcome.job, result: outcome.result, ...followUps }
  }

  private async lease(request: LeaseRequest, reports: Command[]): Promise<GrantedLease[]> {
    const { worker, count, exclude, running, waitMs, capacity } = request
    const limits: LeaseLimits = { concurrency: request.limits, rates: request.rates }
    const seen = this.workers.get(worker)
    this.workers.set(worker, { id: worker, capacity, running: seen?.running ?? 0, lastSeen: Date.now() })
    // Leases this worker holds but does not run (nor reports now): an earlier answer was lost on the way. Hand them over again.
    const known = new Set([...running, ...reports.flatMap((c) => (c.type === 'complete' || c.type === 'fail' ? [c.job.jobId] : []))])
    const lost = this.group.state.leasesOf(worker).filter((job) => !known.has(job.id) && job.lease)
    if (lost.length > 0) {
      if (reports.length > 0) await this.group.propose(reports)
      return lost.map((job) => this.group.state.leaseOf(job))
    }
    // Outcomes go into the log with this lease when there is work; before any wait otherwise.
    let pendingReports = reports
    if (pendingReports.length > 0 && !this.group.state.hasReady()) {
      await this.group.propose(pendingReports)
      pendingReports = []
    }
    if (!this.group.state.hasReady() && waitMs > 0) {
      const delivered = await new Promise<GrantedLease[] | undefined>((resolve) => {
        const waiter: LeaseWaiter = {
          worker,
          count,
          exclude,
          limits,
          timer: undefined,
          settle: (leases) => {
            clearTimeout(waiter.timer)
            this.waiting.delete(waiter)
            resolve(leases)
          },
        }
        waiter.timer = setTimeout(() => waiter.settle(undefined), waitMs)
        this.waiting.add(waiter)
      })
      if (delivered) {
        this.workers.set(worker, { id: worker, capacity, running: this.group.state.leasesOf(worker).length, lastSeen: Date.now() })
        return delivered
      }
    }
    if (!this.group.state.hasReady()) {
      if (pendingReports.length > 0) await this.group.propose(pendingReports)
      return []
    }
    const results = await this.group.propose([...pendingReports, { type: 'lease', worker, count, leaseMs: this.leaseMs, exclude, ...limitsOf(limits), ...this.fair() }])
    const result = results.at(-1)
    const leases = result?.type === 'lease' ? [...result.leases] : []
    this.workers.set(worker, { id: worker, capacity, running: this.group.state.leasesOf(worker).length, lastSeen: Date.now() })
    return leases
  }

  private fair(): { fair?: Readonly<Record<string, number>> } {
    const weights = this.fairness()
    return weights ? { fair: weights } : {}
  }

  private authorize(caller: Caller): void {
    assertMayWork(this.queue, caller.peerId)
  }

  private own(workerId: string, caller: Caller): void {
    if (!workerId.startsWith(`${caller.peerId}/`)) {
      throw new PeerqueueError('E_NOT_ALLOWED', `peer ${caller.peerId} cannot act for worker ${workerId}`)
    }
  }
}

function accepted(result: ApplyResult | undefined): boolean {
  return result?.type === 'fenced' && result.accepted
}

/** Workers (and trusted peers) may lease work and answer census polls; the registry says who they are. */
export function assertMayWork(queue: QueueConfig, peerId: string): void {
  const { workers, trustedPeers, name } = queue
  if (workers === 'any' || trustedPeers.some((p) => p.id === peerId) || workers.includes(peerId)) return
  throw new PeerqueueError('E_NOT_ALLOWED', `peer ${peerId} may not work on queue "${name}" (see workers in the registry)`)
}
