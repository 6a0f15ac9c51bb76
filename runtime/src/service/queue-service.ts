// The trusted peer's answers to clients: enqueue (durable before it answers), look up, wait for
// a result, cancel, re-drive dead jobs, status. Every request is checked for shape and for the
// caller's right to make it; payloads are checked against the handler's schema before commit.
import { z } from 'zod'
import { PeerqueueError } from '../errors.js'
import type { Caller } from '../net/rpc.js'
import type { ApplyResult, EnqueueOutcome } from '../queue/commands.js'
import { DEFAULT_RETRY, DEFAULT_TIMEOUT_MS, FINAL_STATES, type NewJob } from '../queue/job.js'
import type { ConsensusGroup } from '../raft/group.js'
import { scheduleProblem } from '../queue/schedules.js'
import type { ScheduleState } from '../queue/state-machine.js'
import type { QueueConfig } from '../registry/schema.js'
import type { Catalog } from '../worker/catalog.js'
import type { HandlerPool } from '../worker/pool.js'
import { answerShape, type Answer } from '../census/poll.js'
import { viewOf, type JobView } from './job-view.js'
import { EventLog } from './event-log.js'
import { enqueueRequest, eventsRequest, idsRequest, pauseRequest, scheduleRequest, unscheduleRequest, parseRequest as parse, redriveRequest, runRequest, waitRequest, type EnqueueRequest } from './requests.js'
import { WorkService, assertMayWork } from './work-service.js'
import { DeployService } from '../deploy/deploy-service.js'
import { handlerFromManifest } from '../deploy/manifest-handlers.js'
import type { AdmissionDecision } from '../saturation/admission.js'
import { newJobId, shardOfJob } from '../shards/job-routing.js'
import { ROOT_SHARD } from '../shards/shard-map.js'

export interface ServiceOptions {
  readonly group: ConsensusGroup
  readonly queue: QueueConfig
  readonly selfId: string
  readonly catalog: () => Catalog
  readonly pool: HandlerPool
  readonly status: () => unknown
  readonly work: WorkService
  /** Re-reads the earliest due time (a schedule was added). */
  readonly wake: () => void
  /** Counts a census answer; says whether it counted. */
  readonly censusAnswer: (peerId: string, answer: Answer) => string
  /** Deploys, versions and bundles (absent on a shard kept by a delegate: those are the root's). */
  readonly deploys?: DeployService
  /** The shard this service keeps (absent: the root group, shard 0); its job ids start with `<shard>.`. */
  readonly shard?: number
  /** Admission from capacity, when the registry turns saturation on (README, "Saturation"). */
  readonly admit?: (submitter: string, count: number) => AdmissionDecision
  /** An admitted enqueue is in the log, or failed: it no longer counts as on its way. */
  readonly admitted?: (submitter: string, count: number) => void
}

type Waiter = (view: JobView) => void

export class QueueService {
  private readonly waiters = new Map<string, Set<Waiter>>()
  private readonly events: EventLog

  constructor(private readonly options: ServiceOptions) {
    this.events = new EventLog(options.group.state)
    options.group.state.onStateChange((job) => {
      if (!FINAL_STATES.has(job.state)) return
      const waiting = this.waiters.get(job.id)
      if (!waiting) return
      this.waiters.delete(job.id)
      const view = viewOf(job)
      for (const wake of waiting) wake(view)
    })
  }

  handle = async (method: string, params: unknown, caller: Caller): Promise<unknown> => {
    if (method === 'status') return this.options.status()
    if (DeployService.handles(method) && !this.options.deploys) throw new PeerqueueError('E_PROTOCOL', `${method} goes to the queue's root trusted peers`)
    if (DeployService.answersAnywhere(method)) return this.options.deploys!.handle(method, params, caller)
    if (!this.options.group.isLeader()) throw this.options.group.refusal()
    if (DeployService.handles(method)) return this.options.deploys!.handle(method, params, caller)
    if (WorkService.handles(method)) return this.options.work.handle(method, params, caller)
    if (method === 'census.answer') {
      assertMayWork(this.options.queue, caller.peerId)
      return { verdict: this.options.censusAnswer(caller.peerId, parse(answerShape, params, method)) }
    }
    this.authorize(caller)
    switch (method) {
      case 'enqueue':
        return this.enqueue(parse(enqueueRequest, params, method), caller.peerId)
      case 'get':
        return parse(idsRequest, params, method).ids.map((id) => this.view(id))
      case 'wait':
        return this.wait(parse(waitRequest, params, method))
      case 'run': {
        // Enqueue and wait in one request: the waiter is in place the moment the job commits,
        // which saves the client a round trip for the acknowledgement and another for the wait.
        const request = parse(runRequest, params, method)
        const [outcome] = await this.enqueue({ jobs: [request.job], ...(request.spread ? { spread: true } : {}) }, caller.peerId)
        if (!outcome || !('id' in outcome)) return { outcome, job: null }
        return { outcome, job: await this.wait({ id: outcome.id, timeoutMs: request.timeoutMs }) }
      }
      case 'cancel':
        return this.changed(await this.options.group.propose([{ type: 'cancel', jobIds: parse(idsRequest, params, method).ids }]))
      case 'pause':
      case 'resume': {
        const { name } = parse(pauseRequest, params, method)
        await this.options.group.propose([{ type: method, ...(name === undefined ? {} : { name }) }])
        return this.options.group.state.paused()
      }
      case 'schedule':
        return this.schedule(parse(scheduleRequest, params, method))
      case 'unschedule': {
        const { id } = parse(unscheduleRequest, params, method)
        await this.options.group.propose([{ type: 'unschedule', id }])
        return this.options.group.state.scheduleList().length
      }
      case 'events': {
        const r = parse(eventsRequest, params, method)
        return this.events.read(r.after ?? this.events.end, { jobs: r.jobs, states: r.states }, r.max, r.waitMs)
      }
      case 'schedules':
        return this.options.group.state.scheduleList().map(scheduleView)
      case 'redrive': {
        const request = parse(redriveRequest, params, method)
        const jobIds = 'all' in request ? this.options.group.state.deadJobIds() : request.ids
        return this.changed(await this.options.group.propose([{ type: 'redrive', jobIds }]))
      }
      default:
        throw new PeerqueueError('E_PROTOCOL', `unknown method "${method}"`)
    }
  }

  private authorize(caller: Caller): void {
    const { submitters, trustedPeers } = this.options.queue
    if (caller.peerId === this.options.selfId || submitters === 'any') return
    if (trustedPeers.some((p) => p.id === caller.peerId)) return
    if (Array.isArray(submitters) && submitters.includes(caller.peerId)) return
    throw new PeerqueueError('E_NOT_ALLOWED', `peer ${caller.peerId} may not submit to queue "${this.options.queue.name}" (see submitters in the registry)`)
  }

  private async enqueue(request: EnqueueRequest, submitter: string): Promise<EnqueueOutcome[]> {
    checkFlow(request)
    for (const job of request.jobs) if (job.id !== undefined) assertShardOf(job.id, this.options.shard ?? 0)
    if (request.spread && this.turnsAway()) {
      const message = `${this.options.shard ? `shard ${this.options.shard}` : 'the root shard'} is full: send these jobs to an open shard (see the shard map)`
      return request.jobs.map(() => ({ ok: false, code: 'E_SHARD_SEALED', message }))
    }
    const verdict = this.options.admit?.(submitter, request.jobs.length)
    if (verdict && !verdict.ok) return request.jobs.map(() => ({ ok: false, code: 'E_QUEUE_SATURATED', message: verdict.message, retryAfterMs: verdict.retryAfterMs }))
    try {
      return await this.store(request, submitter)
    } finally {
      if (verdict) this.options.admitted?.(submitter, request.jobs.length)
    }
  }

  private async store(request: EnqueueRequest, submitter: string): Promise<EnqueueOutcome[]> {
    const rateKeys = await this.validatePayloads(request)
    const jobs = request.jobs.map((job, i) => ({
      ...this.newJob(job, i, request.jobs.length),
      // Only saturation's fair shares need it: without them, no job pays for it in the log.
      ...(this.options.queue.saturation ? { submitter } : {}),
      ...(rateKeys.has(i) ? { rateKey: rateKeys.get(i)! } : {}),
      ...(job.parentId === undefined ? {} : { parentId: job.parentId }),
      ...(job.childIds === undefined ? {} : { childIds: job.childIds }),
      ...(job.onChildFailure === undefined ? {} : { onChildFailure: job.onChildFailure }),
    }))
    const waiting = this.options.work.claimWaiting()
    let results: readonly (ApplyResult | undefined)[]
    try {
      results = await this.options.group.propose([{ type: 'enqueue', jobs, maxQueuedJobs: this.options.queue.limits.maxQueuedJobs, ...(request.atomic ? { atomic: true } : {}) }, ...waiting.commands])
    } catch (err) {
      waiting.release()
      throw err
    }
    waiting.deliver(results.slice(1))
    const result = results[0]
    if (result?.type !== 'enqueue') throw new PeerqueueError('E_INTERNAL', 'enqueue produced no outcome')
    return [...result.outcomes]
  }

  /**
   * Jobs sent here only to spread the load are turned away by a full shard, before the root's
   * keeper drains it (which takes a round): a shard does not overshoot its size by what clients
   * send meanwhile. A drained root turns them away only while another shard is open to take them.
   */
  private turnsAway(): boolean {
    const state = this.options.group.state
    if (this.options.shard !== undefined) return state.activeCount() >= this.options.queue.shards.maxJobsPerShard
    return state.shards.rootState === 'draining' && state.shards.live().some((s) => s.state === 'open' && s.certificate !== undefined)
  }

  private newJob(job: EnqueueRequest['jobs'][number], i: number, total: number): NewJob {
    const where = total > 1 ? `job ${i} ("${job.name}")` : `"${job.name}"`
    const o = job.options
    const deployments = this.options.group.state.deployments
    if (o.version !== undefined && !deployments.get(o.version)) {
      throw new PeerqueueError('E_VERSION_UNKNOWN', `${where}: there is no version ${o.version} (see queue-runtime versions)`)
    }
    // Handlers here, else the deployed version the job will run on, else none: workers check the name then.
    const version = deployments.get(o.version ?? deployments.current ?? 0)
    const local = this.options.catalog().get(job.name)
    const handler = local ?? (version ? handlerFromManifest(version, job.name) : undefined)
    if (!handler && (this.options.catalog().size > 0 || version)) {
      const known = this.options.catalog().size > 0 ? [...this.options.catalog().keys()].join(', ') : Object.keys(version?.bundles ?? {}).join(', ')
      throw new PeerqueueError('E_JOB_UNKNOWN', `${where}: no handler for this job name${version && !local ? ` in version ${version.version}` : ''} (known: ${known || 'none'})`)
    }
    const bytes = Buffer.byteLength(job.payload)
    if (bytes > this.options.queue.limits.maxPayloadBytes) {
      throw new PeerqueueError('E_PAYLOAD_TOO_LARGE', `${where}: payload is ${bytes} bytes, over the queue's limit of ${this.options.queue.limits.maxPayloadBytes}`)
    }
    return {
      id: job.id ?? newJobId(this.options.shard ?? ROOT_SHARD),
      name: job.name,
      payload: job.payload,
      priority: o.priority ?? 0,
      idempotencyKey: o.idempotencyKey,
      retry: {
        maxAttempts: o.maxAttempts ?? handler?.retry?.maxAttempts ?? DEFAULT_RETRY.maxAttempts,
        backoff: o.backoff ?? handler?.retry?.backoff ?? DEFAULT_RETRY.backoff,
      },
      timeoutMs: o.timeoutMs ?? handler?.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      delayMs: o.delayMs ?? 0,
      ...(o.removeOnComplete === undefined ? {} : { removeOnComplete: o.removeOnComplete }),
      ...(o.removeOnFail === undefined ? {} : { removeOnFail: o.removeOnFail }),
      ...(o.version === undefined ? {} : { version: o.version }),
    }
  }

  /** Creates or replaces a schedule, its job checked now as an enqueue would be (name, size, schema). */
  private async schedule(request: z.infer<typeof scheduleRequest>): Promise<ScheduleView> {
    const problem = scheduleProblem(request)
    if (problem) throw new PeerqueueError('E_USAGE', `schedule "${request.id}": ${problem}`)
    const { id: _id, delayMs: _delay, idempotencyKey: _key, ...job } = this.newJob(request.job, 0, 1)
    const rateKeys = await this.validatePayloads({ jobs: [request.job] })
    const { job: _job, ...timing } = request
    const spec = { ...timing, job: { ...job, ...(rateKeys.has(0) ? { rateKey: rateKeys.get(0)! } : {}) } }
    await this.options.group.propose([{ type: 'schedule', schedule: spec, maxQueuedJobs: this.options.queue.limits.maxQueuedJobs }])
    this.options.wake()
    const made = this.options.group.state.scheduleList().find((s) => s.spec.id === request.id)
    if (!made) throw new PeerqueueError('E_INTERNAL', `schedule "${request.id}" was not stored`)
    return scheduleView(made)
  }

  /**
   * One validation task per job name, in the handler threads: user code never runs on this
   * thread. Returns the rate-limit keys handlers derive from payloads, by the job's index.
   */
  private async validatePayloads(request: EnqueueRequest): Promise<Map<number, string>> {
    const byName = new Map<string, number[]>()
    const keys = new Map<number, string>()
    request.jobs.forEach((job, i) => {
      const info = this.options.catalog().get(job.name)
      if (info?.hasSchema || info?.rateLimit?.keyed) byName.set(job.name, [...(byName.get(job.name) ?? []), i])
    })
    for (const [name, indexes] of byName) {
      const outcomes = await this.options.pool.validate(this.options.catalog().get(name)!.bundle, indexes.map((i) => request.jobs[i]!.payload))
      const bad = outcomes.findIndex((o) => !o.ok)
      if (bad >= 0) {
        const outcome = outcomes[bad]!
        const where = request.jobs.length > 1 ? `job ${indexes[bad]}: ` : ''
        throw new PeerqueueError('E_PAYLOAD_INVALID', `${where}${outcome.ok ? '' : outcome.message}`)
      }
      outcomes.forEach((o, j) => {
        if (o.ok && o.rateKey !== undefined) keys.set(indexes[j]!, o.rateKey)
      })
    }
    return keys
  }

  private view(id: string): JobView | null {
    const job = this.options.group.state.get(id)
    return job ? viewOf(job) : null
  }

  private async wait(request: z.infer<typeof waitRequest>): Promise<JobView> {
    const job = this.options.group.state.get(request.id)
    if (!job) throw new PeerqueueError('E_JOB_NOT_FOUND', `no job ${request.id} (never enqueued, or finished long ago and forgotten)`)
    if (FINAL_STATES.has(job.state) || request.timeoutMs === 0) return viewOf(job)
    return new Promise((resolve) => {
      const set = this.waiters.get(request.id) ?? new Set<Waiter>()
      this.waiters.set(request.id, set)
      const timer = setTimeout(() => {
        set.delete(done)
        if (set.size === 0) this.waiters.delete(request.id)
        resolve(this.view(request.id) ?? viewOf(job))
      }, request.timeoutMs)
      const done: Waiter = (view) => {
        clearTimeout(timer)
        resolve(view)
      }
      set.add(done)
    })
  }

  private changed(results: readonly { type: string; jobIds?: readonly string[] }[]): string[] {
    return [...(results[0]?.jobIds ?? [])]
  }
}

/** What clients see of a schedule. */
export interface ScheduleView {
  readonly id: string
  readonly every: number | null
  readonly cron: string | null
  readonly timezone: string | null
  readonly job: string
  readonly nextAt: number | null
  readonly count: number
  readonly limit: number | null
  readonly endAt: number | null
  readonly lastJobId: string | null
}

function scheduleView(s: ScheduleState): ScheduleView {
  return {
    id: s.spec.id,
    every: s.spec.every ?? null,
    cron: s.spec.cron ?? null,
    timezone: s.spec.timezone ?? null,
    job: s.spec.job.name,
    nextAt: s.nextAt ?? null,
    count: s.count,
    limit: s.spec.limit ?? null,
    endAt: s.spec.endAt ?? null,
    lastJobId: s.lastJobId ?? null,
  }
}

/** A job id names its shard (`<shard>.<id>`; the root's ids have no prefix): a job lives only there. */
function assertShardOf(id: string, shard: number): void {
  const named = shardOfJob(id)
  if (named !== shard) throw new PeerqueueError('E_USAGE', `job id ${id} names ${named === 0 ? 'the root shard' : `shard ${named}`}, not ${shard === 0 ? 'the root shard' : `shard ${shard}`}`)
}

/** A flow's links must stay inside the request: every parent and child named is in it, and they agree. */
function checkFlow(request: EnqueueRequest): void {
  const byId = new Map(request.jobs.filter((j) => j.id !== undefined).map((j) => [j.id!, j]))
  for (const job of request.jobs) {
    if ((job.parentId !== undefined || job.childIds !== undefined) && job.id === undefined) throw new PeerqueueError('E_USAGE', `a job in a flow needs its id ("${job.name}")`)
    if (job.parentId !== undefined && !byId.get(job.parentId)?.childIds?.includes(job.id!)) {
      throw new PeerqueueError('E_USAGE', `job ${job.id}: its parent ${job.parentId} is not in this request, or does not list it as a child`)
    }
    for (const child of job.childIds ?? []) {
      if (byId.get(child)?.parentId !== job.id) throw new PeerqueueError('E_USAGE', `job ${job.id}: its child ${child} is not in this request, or names another parent`)
    }
    // A job that is its own ancestor would wait for ever.
    const seen = new Set<string>()
    for (let parent = job.parentId; parent !== undefined; parent = byId.get(parent)?.parentId) {
      if (seen.has(parent) || parent === job.id) throw new PeerqueueError('E_USAGE', `job ${job.id}: the flow's links form a cycle`)
      seen.add(parent)
    }
  }
}
