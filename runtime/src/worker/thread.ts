// Entry point of a handler thread (a Piscina worker). It imports handler bundles, validates
// payloads with the job's schema, and runs handlers with a context whose signal aborts on
// timeout or cancel. Results and errors leave as superjson text.
import { BroadcastChannel, threadId, workerData } from 'node:worker_threads'
import superjson from 'superjson'
import { describeSchemaIssues } from './schema-issues.js'
import { loadJob, type JobContext, type LoadedJob } from './job-module.js'
import { randomUUID } from 'node:crypto'
import { cellsOf, markStarted } from './run-cells.js'
import { type FollowUp,
  ABORT_CHANNEL,
  NON_RETRYABLE_BRAND,
  PROGRESS_CHANNEL,
  type AbortMessage,
  type HandlerInfo,
  type ProgressMessage,
  type RunOutcome,
  type ThreadData,
  type ThreadTask,
  type ValidateOutcome,
} from './messages.js'

const running = new Map<string, AbortController>()
const progressChannel = new BroadcastChannel(PROGRESS_CHANNEL)
const runCells = cellsOf((workerData as ThreadData | undefined)?.runCells)
const abortChannel = new BroadcastChannel(ABORT_CHANNEL)
abortChannel.onmessage = (event) => {
  const message = (event as { data: AbortMessage }).data
  running.get(message.jobId)?.abort(new Error(message.reason))
}
// Channels must not keep an idle thread alive; Piscina decides when threads end.
progressChannel.unref()
abortChannel.unref()

export default async function handle(task: ThreadTask): Promise<HandlerInfo | ValidateOutcome[] | RunOutcome> {
  switch (task.kind) {
    case 'describe':
      return describe(task.bundle, task.source)
    case 'validate':
      return validateAll(await loadJob(task.bundle), task.payloads)
    case 'run':
      return run(task)
  }
}

async function describe(bundle: string, source: string): Promise<HandlerInfo> {
  const job = await loadJob(bundle, source)
  return {
    name: job.name,
    bundle,
    source,
    retry: job.retry,
    timeoutMs: job.timeoutMs,
    concurrency: job.concurrency,
    globalConcurrency: job.globalConcurrency,
    rateLimit: job.rateLimit ? { max: job.rateLimit.max, perMs: job.rateLimit.perMs, keyed: job.rateLimit.key !== undefined } : undefined,
    hasSchema: job.schema !== undefined,
    ...jsonSchemaOf(job.schema),
  }
}

/** Standard JSON Schema (zod 4.2 and later, and others): the input's JSON Schema, if the library offers it. */
function jsonSchemaOf(schema: unknown): { jsonSchema?: unknown } {
  const standard = (schema as { '~standard'?: { jsonSchema?: { input?: (options: { target: string }) => unknown } } } | undefined)?.['~standard']
  try {
    const jsonSchema = standard?.jsonSchema?.input?.({ target: 'draft-2020-12' })
    return jsonSchema === undefined ? {} : { jsonSchema }
  } catch {
    return {}
  }
}

async function validateAll(job: LoadedJob, payloads: readonly string[]): Promise<ValidateOutcome[]> {
  return Promise.all(
    payloads.map(async (text) => {
      const checked = await validate(job, superjson.parse(text))
      if (!checked.ok) return checked
      const key = job.rateLimit?.key
      if (!key) return { ok: true as const }
      try {
        return { ok: true as const, rateKey: String(key(checked.value)).slice(0, 256) }
      } catch (err) {
        return { ok: false as const, message: `${job.name}: rateLimit.key failed on this payload: ${err instanceof Error ? err.message : String(err)}` }
      }
    }),
  )
}

async function validate(job: LoadedJob, payload: unknown): Promise<{ ok: true; value: unknown } | { ok: false; message: string }> {
  if (!job.schema) return { ok: true, value: payload }
  const result = await job.schema['~standard'].validate(payload)
  if (!result.issues) return { ok: true, value: result.value }
  return { ok: false, message: describeSchemaIssues(job.name, result.issues) }
}

async function run(task: Extract<ThreadTask, { kind: 'run' }>): Promise<RunOutcome> {
  const job = await loadJob(task.bundle)
  const checked = await validate(job, superjson.parse(task.payload))
  if (!checked.ok) return { ok: false, error: { name: 'PayloadInvalid', message: checked.message, retryable: false } }
  const controller = new AbortController()
  running.set(task.jobId, controller)
  markStarted(runCells, task.cell, threadId)
  const timer = setTimeout(() => controller.abort(timeoutError(task.timeoutMs)), task.timeoutMs)
  try {
    const followUps: FollowUp[] = []
    const result = await job.run(checked.value, context(task, controller.signal, job.name, followUps))
    return { ok: true, result: superjson.stringify(result), ...(followUps.length > 0 ? { enqueue: followUps } : {}) }
  } catch (err) {
    const reason = controller.signal.aborted ? controller.signal.reason : err
    return { ok: false, error: describeError(reason) }
  } finally {
    clearTimeout(timer)
    running.delete(task.jobId)
  }
}

const MAX_FOLLOW_UPS = 100

function context(task: Extract<ThreadTask, { kind: 'run' }>, signal: AbortSignal, name: string, followUps: FollowUp[]): JobContext {
  const prefix = `[${name} ${task.jobId} #${task.attempt}]`
  return {
    children: () =>
      (task.children ?? []).map((c) => ({ id: c.id, name: c.name, state: c.state, result: c.result === null ? undefined : superjson.parse(c.result), error: c.error ? { name: c.error.name, message: c.error.message } : null })),
    enqueue(job: string, payload: unknown, options = {}) {
      if (typeof job !== 'string' || job.length === 0) throw new TypeError('ctx.enqueue: the job name must be a non-empty string')
      if (followUps.length >= MAX_FOLLOW_UPS) throw new RangeError(`ctx.enqueue: at most ${MAX_FOLLOW_UPS} follow-up jobs per run`)
      const id = randomUUID()
      followUps.push({ id, name: job, payload: superjson.stringify(payload), options })
      return id
    },
    jobId: task.jobId,
    attempt: task.attempt,
    signal,
    progress(percent: number) {
      const clamped = Math.max(0, Math.min(100, Number.isFinite(percent) ? percent : 0))
      const message: ProgressMessage = { jobId: task.jobId, attempt: task.attempt, progress: clamped }
      progressChannel.postMessage(message)
    },
    log: {
      info: (...args: unknown[]) => console.info(prefix, ...args),
      warn: (...args: unknown[]) => console.warn(prefix, ...args),
      error: (...args: unknown[]) => console.error(prefix, ...args),
      debug: (...args: unknown[]) => console.debug(prefix, ...args),
    },
  }
}

function timeoutError(timeoutMs: number): Error {
  const err = new Error(`timed out after ${timeoutMs} ms`)
  err.name = 'TimeoutError'
  return err
}

function describeError(err: unknown): { name: string; message: string; retryable: boolean } {
  if (err instanceof Error) {
    const retryable = !(NON_RETRYABLE_BRAND in err)
    return { name: err.name, message: err.message, retryable }
  }
  return { name: 'Error', message: `the handler threw a non-Error value: ${String(err)}`, retryable: true }
}
