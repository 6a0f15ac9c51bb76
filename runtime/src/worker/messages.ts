// What crosses between the peer's main thread and the handler threads.
import type { ChildOutcome, JobError, RetryPolicy } from '../queue/job.js'

export const JOB_BRAND = Symbol.for('peerqueue.job')
export const NON_RETRYABLE_BRAND = Symbol.for('peerqueue.non-retryable')
/** Main thread → handler threads: abort the run of one job (cancel, timeout, shutdown). */
export const ABORT_CHANNEL = 'peerqueue:abort'
/** Handler threads → main thread: progress reports. */
export const PROGRESS_CHANNEL = 'peerqueue:progress'

export interface HandlerInfo {
  readonly name: string
  readonly bundle: string
  readonly source: string
  readonly retry: Partial<RetryPolicy> | undefined
  readonly timeoutMs: number | undefined
  readonly concurrency: number | undefined
  readonly globalConcurrency: number | undefined
  readonly rateLimit: RateLimitInfo | undefined
  readonly hasSchema: boolean
  /** The payload's schema as JSON Schema, where its library can say it (Standard JSON Schema). */
  readonly jsonSchema?: unknown
}

export type ThreadTask =
  | { readonly kind: 'describe'; readonly bundle: string; readonly source: string }
  | { readonly kind: 'validate'; readonly bundle: string; readonly payloads: readonly string[] }
  | {
      readonly kind: 'run'
      readonly bundle: string
      readonly jobId: string
      readonly attempt: number
      readonly payload: string
      readonly timeoutMs: number
      readonly children?: readonly ChildOutcome[]
      /** Where the thread writes its id as the run starts (run-cells.ts); -1: nowhere. */
      readonly cell: number
    }

/** What each handler thread is given as it starts (Piscina's workerData). */
export interface ThreadData {
  readonly runCells: SharedArrayBuffer
}

/** A handler's rate limit as the leader needs it; `keyed`: the key comes from the payload. */
export interface RateLimitInfo {
  readonly max: number
  readonly perMs: number
  readonly keyed: boolean
}

/** A payload checked; `rateKey` when the handler derives one from it. */
export type ValidateOutcome = { readonly ok: true; readonly rateKey?: string } | { readonly ok: false; readonly message: string }

/** A job a handler started with ctx.enqueue: submitted with its result. */
export interface FollowUp {
  readonly id: string
  readonly name: string
  /** superjson text */
  readonly payload: string
  readonly options: { readonly priority?: number; readonly delayMs?: number; readonly maxAttempts?: number; readonly timeoutMs?: number }
}

export type RunOutcome = { readonly ok: true; readonly result: string; readonly enqueue?: readonly FollowUp[] } | { readonly ok: false; readonly error: JobError }

export interface AbortMessage {
  readonly jobId: string
  readonly reason: string
}

export interface ProgressMessage {
  readonly jobId: string
  readonly attempt: number
  readonly progress: number
}
