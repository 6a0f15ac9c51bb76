// The public view of a job that clients receive.
import type { JobError, JobRecord, JobState } from '../queue/job.js'

export interface JobView {
  readonly id: string
  readonly name: string
  readonly state: JobState
  readonly attempt: number
  readonly maxAttempts: number
  readonly priority: number
  /** The worker of the latest attempt (peer id / run), if any. */
  readonly worker: string | null
  readonly progress: number | null
  /** superjson text of the handler's return value, once completed. */
  readonly result: string | null
  readonly error: JobError | null
  readonly enqueuedAt: number
  readonly updatedAt: number
  readonly runAt: number
  readonly finishedAt: number | null
}

export function viewOf(job: JobRecord): JobView {
  return {
    id: job.id,
    name: job.name,
    state: job.state,
    attempt: job.attempt,
    maxAttempts: job.retry.maxAttempts,
    priority: job.priority,
    worker: job.worker ?? null,
    progress: job.progress ?? null,
    result: job.result ?? null,
    error: job.error ?? null,
    enqueuedAt: job.enqueuedAt,
    updatedAt: job.updatedAt,
    runAt: job.runAt,
    finishedAt: job.finishedAt ?? null,
  }
}
