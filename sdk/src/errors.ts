// Errors a handler throws, and errors a client sees.

export const NON_RETRYABLE_BRAND: unique symbol = Symbol.for('peerqueue.non-retryable')

/** Throw from a handler when another attempt cannot succeed: the job goes straight to dead. */
export class NonRetryableError extends Error {
  override name = 'NonRetryableError'
  readonly [NON_RETRYABLE_BRAND] = true
}

/** result() of a job that ended dead: every attempt failed, or one failed for good. */
export class JobFailedError extends Error {
  override name = 'JobFailedError'
  constructor(
    readonly jobId: string,
    readonly attempts: number,
    override readonly cause: { readonly name: string; readonly message: string },
  ) {
    super(`job ${jobId} failed after ${attempts} attempt(s): ${cause.name}: ${cause.message}`)
  }
}

/** result() of a job that was cancelled. */
export class JobCancelledError extends Error {
  override name = 'JobCancelledError'
  constructor(readonly jobId: string) {
    super(`job ${jobId} was cancelled`)
  }
}
