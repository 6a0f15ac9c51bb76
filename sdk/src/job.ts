// defineJob: a handler module's default export. Types flow from the schema (or a type argument)
// to the payload the handler receives and to what enqueue accepts, and from `run` to the result.
import type { StandardSchemaV1 } from '@standard-schema/spec'

export const JOB_BRAND: unique symbol = Symbol.for('peerqueue.job')

export type Backoff =
  | { readonly type: 'fixed'; readonly delayMs: number }
  | { readonly type: 'exponential'; readonly baseMs: number; readonly maxMs: number }

export interface RetryPolicy {
  /** Attempts in all, the first included (default 3). */
  readonly maxAttempts?: number
  readonly backoff?: Backoff
}

export interface JobLogger {
  info(...args: unknown[]): void
  warn(...args: unknown[]): void
  error(...args: unknown[]): void
  debug(...args: unknown[]): void
}

export interface JobContext {
  readonly jobId: string
  /** 1 for the first attempt. */
  readonly attempt: number
  /** Aborts on timeout, cancel or shutdown. A handler that ignores it has its thread terminated. */
  readonly signal: AbortSignal
  /** Reports progress in percent (0-100); the latest value is stored with the job. */
  progress(percent: number): void
  readonly log: JobLogger
  /** In a flow's parent: how each child ended, with its result (in the order they were given). */
  children<Result = unknown>(): ChildResult<Result>[]
  /**
   * Starts a follow-up job once this run's result is accepted (not before: a retried attempt
   * does not start it twice). Returns the id the job will have.
   */
  enqueue(job: string, payload: unknown, options?: FollowUpOptions): string
}

export interface ChildResult<Result = unknown> {
  readonly id: string
  readonly name: string
  readonly state: 'completed' | 'dead' | 'cancelled' | string
  /** The child's result when it completed. */
  readonly result: Result | undefined
  readonly error: { readonly name: string; readonly message: string } | null
}

/** What a follow-up job may set; the rest comes from its handler's definition where this peer has it. */
export interface FollowUpOptions {
  readonly priority?: number
  readonly delayMs?: number
  readonly maxAttempts?: number
  readonly timeoutMs?: number
}

interface JobFields<Name extends string> {
  readonly name: Name
  readonly retry?: RetryPolicy
  /** Per attempt (default 60000). */
  readonly timeoutMs?: number
  /** Most runs of this job at once on one peer. */
  readonly concurrency?: number
  /** Most runs of this job at once across every peer of the queue (enforced by the leader's leases). */
  readonly globalConcurrency?: number
}

/**
 * At most `max` runs started per `perMs` across every peer; with `key`, per key (a customer, an
 * account) derived from the payload on the trusted peer that takes the job.
 */
export interface RateLimit<Payload> {
  readonly max: number
  readonly perMs: number
  readonly key?: (payload: Payload) => string
}

/** What defineJob returns. The phantom fields carry types for enqueue<typeof job>(). */
export interface JobDefinition<Name extends string = string, Input = unknown, Payload = Input, Result = unknown> extends JobFields<Name> {
  readonly schema?: StandardSchemaV1<Input, Payload>
  run(payload: Payload, ctx: JobContext): Promise<Result> | Result
  readonly [JOB_BRAND]: true
  /** Type-level only: the payload a submitter passes. */
  readonly __input?: Input
  /** Type-level only: what result() resolves with. */
  readonly __result?: Awaited<Result>
}

export type AnyJobDefinition = JobDefinition<string, never, never, unknown>
export type PayloadOf<J> = J extends { readonly __input?: infer I } ? I : never
export type ResultOf<J> = J extends { readonly __result?: infer R } ? R : never
export type NameOf<J> = J extends { readonly name: infer N } ? N : never

export function defineJob<const Name extends string, Schema extends StandardSchemaV1, Result>(
  definition: JobFields<Name> & {
    readonly schema: Schema
    readonly rateLimit?: RateLimit<StandardSchemaV1.InferOutput<Schema>>
    run(payload: StandardSchemaV1.InferOutput<Schema>, ctx: JobContext): Promise<Result> | Result
  },
): JobDefinition<Name, StandardSchemaV1.InferInput<Schema>, StandardSchemaV1.InferOutput<Schema>, Result>
export function defineJob<Payload, Result = unknown, const Name extends string = string>(
  definition: JobFields<Name> & { readonly rateLimit?: RateLimit<Payload>; run(payload: Payload, ctx: JobContext): Promise<Result> | Result },
): JobDefinition<Name, Payload, Payload, Result>
export function defineJob(definition: JobFields<string> & { schema?: StandardSchemaV1; rateLimit?: RateLimit<never>; run: (payload: never, ctx: JobContext) => unknown }) {
  if (typeof definition?.name !== 'string' || definition.name.length === 0) throw new TypeError('defineJob: name is required')
  if (typeof definition.run !== 'function') throw new TypeError(`defineJob(${definition.name}): run must be a function`)
  return { ...definition, [JOB_BRAND]: true }
}
