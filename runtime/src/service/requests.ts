// Shapes of client requests, checked on arrival: a client is another program and may be wrong.
import { JOB_STATES } from '../queue/job.js'
import { z } from 'zod'
import { PeerqueueError } from '../errors.js'

export const backoffShape = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('fixed'), delayMs: z.int().min(0).max(86_400_000) }),
  z.strictObject({ type: z.literal('exponential'), baseMs: z.int().min(0).max(86_400_000), maxMs: z.int().min(0).max(86_400_000) }),
])

const retentionShape = z.union([z.boolean(), z.int().min(0).max(1_000_000), z.strictObject({ age: z.int().min(0).max(10 * 365 * 86_400).optional(), count: z.int().min(0).max(1_000_000).optional() })])

export const enqueueOptionsSchema = z.strictObject({
  priority: z.int().min(-1_000_000).max(1_000_000).optional(),
  delayMs: z.int().min(0).max(365 * 86_400_000).optional(),
  idempotencyKey: z.string().min(1).max(512).optional(),
  maxAttempts: z.int().min(1).max(1000).optional(),
  backoff: backoffShape.optional(),
  timeoutMs: z.int().min(1).max(86_400_000).optional(),
  removeOnComplete: retentionShape.optional(),
  removeOnFail: retentionShape.optional(),
  /** Run on this deployed version instead of the current one. */
  version: z.int().min(1).optional(),
})

/** A job id a client chooses, or one a shard's router made: `<shard>.<id>` (a dot no chosen id has). */
const jobId = z.string().regex(/^([1-9][0-9]{0,8}\.)?[A-Za-z0-9_-]{8,64}$/, 'a job id is 8-64 characters of A-Z, a-z, 0-9, _ and -')

export const enqueueRequest = z.strictObject({
  jobs: z
    .array(
      z.strictObject({
        id: jobId.optional(),
        name: z.string().min(1).max(128),
        payload: z.string(),
        options: enqueueOptionsSchema.default({}),
        /** In a flow: the parent (in the same request) that waits for this job. */
        parentId: jobId.optional(),
        /** In a flow: this job's children (in the same request). */
        childIds: z.array(jobId).min(1).max(1000).optional(),
        onChildFailure: z.enum(['fail-parent', 'ignore', 'wait']).optional(),
      }),
    )
    .min(1)
    .max(10_000),
  /** All the jobs or none (a flow). */
  atomic: z.boolean().optional(),
  /** Sent here only to spread the load across shards: a drained root turns them away while another shard is open. */
  spread: z.boolean().optional(),
})

/** One job, and how long to hold the answer for its result: enqueue and wait in one request. */
export const runRequest = z.strictObject({
  job: enqueueRequest.shape.jobs.element,
  timeoutMs: z.int().min(0).max(600_000).default(30_000),
  spread: z.boolean().optional(),
})

export const idsRequest = z.strictObject({ ids: z.array(z.string().min(1).max(128)).min(1).max(10_000) })
export const redriveRequest = z.union([idsRequest, z.strictObject({ all: z.literal(true) })])
export const scheduleRequest = z.strictObject({
  id: z.string().min(1).max(128),
  every: z.int().min(100).max(366 * 86_400_000).optional(),
  cron: z.string().min(1).max(256).optional(),
  timezone: z.string().min(1).max(64).optional(),
  startAt: z.int().min(0).optional(),
  endAt: z.int().min(0).optional(),
  limit: z.int().min(1).optional(),
  job: z.strictObject({ name: z.string().min(1).max(128), payload: z.string(), options: enqueueOptionsSchema.omit({ delayMs: true, idempotencyKey: true }).default({}) }),
})
export const unscheduleRequest = z.strictObject({ id: z.string().min(1).max(128) })

export const eventsRequest = z.strictObject({
  /** The position to read from (the `next` of the previous answer); absent: only what happens from now on. */
  after: z.int().min(0).optional(),
  jobs: z.array(z.string().min(1).max(128)).max(1000).optional(),
  states: z.array(z.enum(JOB_STATES)).max(JOB_STATES.length).optional(),
  max: z.int().min(1).max(1000).default(500),
  waitMs: z.int().min(0).max(30_000).default(10_000),
})

export const pauseRequest = z.strictObject({ name: z.string().min(1).max(128).optional() })
export const waitRequest = z.strictObject({ id: z.string().min(1).max(128), timeoutMs: z.int().min(0).max(600_000).default(30_000) })

export type EnqueueRequest = z.infer<typeof enqueueRequest>

export function parseRequest<T>(schema: z.ZodType<T>, params: unknown, method: string): T {
  const result = schema.safeParse(params)
  if (result.success) return result.data
  const issue = result.error.issues[0]!
  throw new PeerqueueError('E_USAGE', `bad ${method} request: ${issue.path.join('.') || '(params)'}: ${issue.message}`)
}
