// Reads a handler bundle's default export and checks it is a defineJob(...) result. Runs inside
// handler threads only: user code is never imported into the peer's main thread.
import type { StandardSchemaV1 } from '@standard-schema/spec'
import { JOB_BRAND, type FollowUp, type HandlerInfo } from './messages.js'

export interface JobContext {
  readonly jobId: string
  readonly attempt: number
  readonly signal: AbortSignal
  progress(percent: number): void
  readonly log: Pick<Console, 'info' | 'warn' | 'error' | 'debug'>
  children(): { id: string; name: string; state: string; result: unknown; error: { name: string; message: string } | null }[]
  enqueue(job: string, payload: unknown, options?: FollowUp['options']): string
}

export interface LoadedJob {
  readonly name: string
  readonly schema: StandardSchemaV1 | undefined
  readonly retry: HandlerInfo['retry']
  readonly timeoutMs: number | undefined
  readonly concurrency: number | undefined
  readonly globalConcurrency: number | undefined
  readonly rateLimit: { readonly max: number; readonly perMs: number; readonly key?: (payload: unknown) => string } | undefined
  run(payload: unknown, ctx: JobContext): unknown
}

const loaded = new Map<string, Promise<LoadedJob>>()

export function loadJob(bundle: string, source = bundle): Promise<LoadedJob> {
  let job = loaded.get(bundle)
  if (!job) {
    job = import(bundle).then((module: { default?: unknown }) => checkJob(module.default, source))
    loaded.set(bundle, job)
  }
  return job
}

function checkJob(value: unknown, source: string): LoadedJob {
  if (typeof value !== 'object' || value === null || !(JOB_BRAND in value)) {
    throw new Error(`${source}: the default export is not a job (write: export default defineJob({ name, run }))`)
  }
  const job = value as unknown as LoadedJob
  if (typeof job.name !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(job.name)) {
    throw new Error(`${source}: job name must be 1-128 characters of letters, digits, '.', '_', ':' and '-'`)
  }
  if (typeof job.run !== 'function') throw new Error(`${source}: job "${job.name}" has no run function`)
  const rate = job.rateLimit
  if (rate !== undefined && (!Number.isInteger(rate.max) || rate.max < 1 || !Number.isInteger(rate.perMs) || rate.perMs < 1 || (rate.key !== undefined && typeof rate.key !== 'function'))) {
    throw new Error(`${source}: job "${job.name}": rateLimit wants { max: whole number ≥ 1, perMs: whole number ≥ 1, key?: (payload) => string }`)
  }
  for (const field of ['concurrency', 'globalConcurrency'] as const) {
    const value = job[field]
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new Error(`${source}: job "${job.name}": ${field} must be a whole number of at least 1`)
  }
  return job
}
