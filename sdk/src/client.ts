// @peerqueue/sdk/client: submit jobs and await their results, typed from the handler modules.
//
//   const queue = await connect({ registry: './registry.yaml' })
//   const job = await queue.enqueue<typeof hello>('hello', { name: 'Ada' })
//   console.log(await job.result())
import superjson from 'superjson'
import type { StandardSchemaV1 } from '@standard-schema/spec'
import {
  QueueClient,
  PeerqueueError,
  assertEnqueued,
  describeSchemaIssues,
  type ConnectOptions,
  type EnqueueOptions,
  type JobView,
  type PauseState,
  type ScheduleView,
  type JobEvent,
  type JobState,
} from '@peerqueue/runtime/client'
import { JobCancelledError, JobFailedError } from './errors.js'
import type { NameOf, PayloadOf, ResultOf } from './job.js'

export { PeerqueueError, isPeerqueueError, type ErrorCode, type ConnectOptions, type EnqueueOptions, type JobView, type JobState, type JobEvent, type PauseState, type ScheduleView } from '@peerqueue/runtime/client'

/** When a schedule fires: exactly one of `every` (ms) and `cron`. */
export interface ScheduleTiming {
  readonly every?: number
  readonly cron?: string
  /** IANA time zone of a cron pattern (default UTC). */
  readonly timezone?: string
  readonly startAt?: Date | number
  readonly endAt?: Date | number
  readonly limit?: number
}
export { JobCancelledError, JobFailedError } from './errors.js'

/** Any job type: what enqueue falls back to without a type argument. */
export interface JobLike {
  readonly name: string
  readonly schema?: StandardSchemaV1
  readonly __input?: unknown
  readonly __result?: unknown
}
interface UntypedJob extends JobLike {
  readonly __input?: unknown
  readonly __result?: unknown
}

export interface JobStatus extends Omit<JobView, 'result'> {
  readonly result: unknown
}

export interface EnqueueItem<J extends JobLike = UntypedJob> {
  readonly job: NameOf<J> | J
  readonly payload: PayloadOf<J>
  readonly options?: EnqueueOptions
}

/** A job of a flow: its children run first; it runs once they all completed. */
export interface FlowNode<J extends JobLike = UntypedJob> {
  readonly job: NameOf<J> | J
  readonly payload: PayloadOf<J>
  readonly options?: EnqueueOptions & {
    /** If this job fails for good (or is cancelled), its parent fails too. */
    readonly failParentOnFailure?: boolean
    /** If this job fails for good, its parent runs anyway (its ctx.children() shows the failure). */
    readonly ignoreDependencyOnFailure?: boolean
  }
  // Children may be jobs of any kind.
  readonly children?: readonly FlowNode<JobLike>[]
}

/** The handles of a flow's jobs, in its shape. */
export interface FlowJob<Result = unknown> {
  readonly job: Job<Result>
  readonly children: readonly FlowJob[]
}

const FINAL = new Set(['completed', 'dead', 'cancelled'])

export class Job<Result = unknown> {
  constructor(
    readonly id: string,
    /** False when an idempotency key matched a job submitted earlier: this is that job. */
    readonly created: boolean,
    private readonly client: QueueClient,
  ) {}

  /** Waits for the job to finish. Rejects with JobFailedError if it ended dead, JobCancelledError if cancelled. */
  async result(options: { timeoutMs?: number } = {}): Promise<Result> {
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs
    for (;;) {
      const left = deadline - Date.now()
      if (left <= 0) throw new PeerqueueError('E_TIMEOUT', `job ${this.id} did not finish within ${options.timeoutMs} ms`)
      const view = await this.client.wait(this.id, Math.min(left, 30_000))
      if (FINAL.has(view.state)) return settle<Result>(view)
    }
  }

  async status(): Promise<JobStatus> {
    const [view] = await this.client.get([this.id])
    if (!view) throw new PeerqueueError('E_JOB_NOT_FOUND', `no job ${this.id}`)
    return { ...view, result: view.result === null ? undefined : superjson.parse(view.result) }
  }

  async cancel(): Promise<boolean> {
    return (await this.client.cancel([this.id])).length === 1
  }
}

export class Queue {
  constructor(private readonly client: QueueClient) {}

  get name(): string {
    return this.client.queue.name
  }

  /**
   * Submits a job; resolves once a majority of the trusted peers stored it. Pass the job's
   * definition instead of its name to have the payload checked against its schema here first.
   */
  async enqueue<J extends JobLike = UntypedJob>(job: NameOf<J> | J, payload: PayloadOf<J>, options: EnqueueOptions = {}): Promise<Job<ResultOf<J>>> {
    const [first] = await this.enqueueMany<J>([{ job, payload, options }])
    return first!
  }

  /**
   * Submits a job and waits for its result, in one request: quicker than `enqueue` and then
   * `result()`, which take a round trip each. Rejects like `result()` does.
   */
  async run<J extends JobLike = UntypedJob>(job: NameOf<J> | J, payload: PayloadOf<J>, options: EnqueueOptions & { timeoutMs?: number } = {}): Promise<ResultOf<J>> {
    const { timeoutMs, ...enqueueOptions } = options
    const name = typeof job === 'string' ? job : (job as J).name
    if (typeof job !== 'string') await validateLocally(job as J, payload, undefined)
    const started = Date.now()
    const first = Math.min(timeoutMs ?? 30_000, 30_000)
    const { outcome, job: view } = await this.client.run({ name, payload: superjson.stringify(payload), options: enqueueOptions }, first)
    const { id, created } = assertEnqueued(outcome)
    const handle = new Job<ResultOf<J>>(id, created, this.client)
    if (view && FINAL.has(view.state)) return settle<ResultOf<J>>(view)
    // Not finished within the first wait: keep waiting as result() does.
    return handle.result({ timeoutMs: timeoutMs === undefined ? undefined : Math.max(1, timeoutMs - (Date.now() - started)) })
  }

  /**
   * Submits a tree of jobs in one atomic step: every job or none is stored. A parent runs once
   * all its children completed, and reads them with ctx.children(); a child's failure leaves the
   * parent waiting (re-drive the child), fails it (failParentOnFailure), or is ignored
   * (ignoreDependencyOnFailure).
   */
  async enqueueFlow<J extends JobLike = UntypedJob>(flow: FlowNode<J>): Promise<FlowJob<ResultOf<J>>> {
    type Placed = { node: FlowNode<JobLike>; id: string; parentId: string | undefined; children: Placed[] }
    const place = (node: FlowNode<JobLike>, parentId: string | undefined): Placed => {
      const id = globalThis.crypto.randomUUID()
      return { node, id, parentId, children: (node.children ?? []).map((child) => place(child, id)) }
    }
    const root = place(flow as unknown as FlowNode<JobLike>, undefined)
    const all: Placed[] = []
    const walk = (p: Placed) => {
      all.push(p)
      p.children.forEach(walk)
    }
    walk(root)
    const specs = await Promise.all(
      all.map(async (p, i) => {
        const { failParentOnFailure, ignoreDependencyOnFailure, ...options } = p.node.options ?? {}
        const name = typeof p.node.job === 'string' ? p.node.job : (p.node.job as JobLike).name
        if (typeof p.node.job !== 'string') await validateLocally(p.node.job as JobLike, p.node.payload as never, i)
        const onChildFailure = failParentOnFailure ? ('fail-parent' as const) : ignoreDependencyOnFailure ? ('ignore' as const) : undefined
        return {
          id: p.id,
          name,
          payload: superjson.stringify(p.node.payload),
          options,
          ...(p.parentId === undefined ? {} : { parentId: p.parentId }),
          ...(p.children.length > 0 ? { childIds: p.children.map((c) => c.id) } : {}),
          ...(onChildFailure ? { onChildFailure } : {}),
        }
      }),
    )
    const outcomes = await this.client.enqueue(specs, { atomic: true })
    const handles = new Map(outcomes.map((outcome, i) => [all[i]!.id, assertEnqueued(outcome)]))
    const build = (p: Placed): FlowJob => ({ job: new Job(p.id, handles.get(p.id)!.created, this.client), children: p.children.map(build) })
    return build(root) as FlowJob<ResultOf<J>>
  }

  /** Submits many jobs in one request (one commit); all are checked before any is stored. */
  async enqueueMany<J extends JobLike = UntypedJob>(items: readonly EnqueueItem<J>[]): Promise<Job<ResultOf<J>>[]> {
    const specs = await Promise.all(
      items.map(async (item, i) => {
        const name = typeof item.job === 'string' ? item.job : (item.job as J).name
        if (typeof item.job !== 'string') await validateLocally(item.job as J, item.payload, items.length > 1 ? i : undefined)
        return { name, payload: superjson.stringify(item.payload), options: item.options ?? {} }
      }),
    )
    const outcomes = await this.client.enqueue(specs)
    return outcomes.map((outcome) => {
      const { id, created } = assertEnqueued(outcome)
      return new Job<ResultOf<J>>(id, created, this.client)
    })
  }

  /** A handle on a job submitted earlier, by id. */
  job<Result = unknown>(id: string): Job<Result> {
    return new Job<Result>(id, false, this.client)
  }

  /** Cancels jobs that have not finished; returns the ids that were cancelled. */
  cancel(ids: string | readonly string[]): Promise<string[]> {
    return this.client.cancel(typeof ids === 'string' ? [ids] : ids)
  }

  /** Queues dead jobs again with fresh attempts; returns the ids that were queued. */
  redrive(ids: string | readonly string[] | 'all'): Promise<string[]> {
    return this.client.redrive(ids === 'all' ? 'all' : typeof ids === 'string' ? [ids] : ids)
  }

  /**
   * Creates or replaces (by id) a recurring job: one job of `job` with `payload` per due time,
   * `every` so many ms or on a `cron` pattern (in `timezone`, default UTC), from `startAt` to
   * `endAt`, at most `limit` in all. A due time makes exactly one job, whatever leader changes
   * happen; due times missed while the queue had no leader make one job, not a burst.
   */
  async schedule<J extends JobLike = UntypedJob>(
    id: string,
    timing: ScheduleTiming,
    job: NameOf<J> | J,
    payload: PayloadOf<J>,
    options: Omit<EnqueueOptions, 'delayMs' | 'idempotencyKey'> = {},
  ): Promise<ScheduleView> {
    const name = typeof job === 'string' ? job : (job as J).name
    if (typeof job !== 'string') await validateLocally(job as J, payload, undefined)
    const at = (t: Date | number | undefined) => (t instanceof Date ? t.getTime() : t)
    return this.client.schedule({ id, ...timing, startAt: at(timing.startAt), endAt: at(timing.endAt), job: { name, payload: superjson.stringify(payload), options } })
  }

  /**
   * Job state changes as they happen: `for await (const e of queue.events({ jobs: ['mail'] }))`.
   * It follows the queue across leader changes from the last event it yielded, so none is
   * missed or repeated; `from: event.position + 1` resumes after an event seen earlier. Leaving the
   * loop stops it.
   */
  async *events(options: { jobs?: readonly string[]; states?: readonly JobState[]; from?: number } = {}): AsyncGenerator<JobEvent> {
    let after = options.from
    for (;;) {
      const { events, next } = await this.client.events({ after, jobs: options.jobs, states: options.states, waitMs: 10_000 })
      after = next
      for (const event of events) yield event
    }
  }

  /** Removes a schedule (jobs it already made stay). */
  async unschedule(id: string): Promise<void> {
    await this.client.unschedule(id)
  }

  /** Every schedule, with its next due time and how many jobs it has made. */
  schedules(): Promise<ScheduleView[]> {
    return this.client.schedules()
  }

  /**
   * Stops handing out jobs of one name, or of the whole queue when no name is given: they stay
   * queued, running ones finish. Says what is paused now.
   */
  pause(name?: string): Promise<PauseState> {
    return this.client.pause(name)
  }

  /** Lets paused jobs run again (the whole queue with no name; a name paused on its own stays paused). */
  resume(name?: string): Promise<PauseState> {
    return this.client.resume(name)
  }

  close(): Promise<void> {
    return this.client.close()
  }
}

export async function connect(options: ConnectOptions): Promise<Queue> {
  return new Queue(await QueueClient.connect(options))
}

async function validateLocally(job: JobLike, payload: unknown, index: number | undefined): Promise<void> {
  if (!job.schema) return
  const result = await job.schema['~standard'].validate(payload)
  if (!result.issues) return
  const where = index === undefined ? '' : `job ${index}: `
  throw new PeerqueueError('E_PAYLOAD_INVALID', `${where}${describeSchemaIssues(job.name, result.issues)}`)
}

/** The result of a finished job, or the error it ended with. */
function settle<Result>(view: JobView): Result {
  if (view.state === 'completed') return (view.result === null ? undefined : superjson.parse(view.result)) as Result
  if (view.state === 'cancelled') throw new JobCancelledError(view.id)
  throw new JobFailedError(view.id, view.attempt, view.error ?? { name: 'Error', message: 'unknown failure' })
}
