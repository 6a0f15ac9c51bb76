// /v1: the queue for clients that cannot run libp2p (a serverless function, a PHP or Python
// backend). Writes go to the leader as this trusted peer, after the token's rights are checked;
// reads of single jobs ask the leader too, lists read this peer's copy of the queue.
import { Hono, type Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import superjson from 'superjson'
import { z } from 'zod'
import { PeerqueueError } from '../errors.js'
import type { EnqueueOutcome } from '../queue/commands.js'
import { JOB_STATES, type JobRecord } from '../queue/job.js'
import { enqueueOptionsSchema } from '../service/requests.js'
import type { JobView } from '../service/job-view.js'
import { httpError } from './errors-http.js'
import { eventStream } from './events.js'
import type { HttpHost } from './host.js'
import { openApiDocument } from './openapi.js'
import type { Right, TokenHolder, TokenStore } from './tokens.js'

const MAX_JOBS_PER_REQUEST = 1_000
const MAX_WAIT_MS = 60_000
const HARD_BODY_CAP = 64 * 1024 * 1024

const jobInput = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/).optional(),
  name: z.string().min(1).max(128),
  payload: z.unknown(),
  ...enqueueOptionsSchema.shape,
})
const enqueueBody = z.union([jobInput, z.strictObject({ jobs: z.array(jobInput).min(1).max(MAX_JOBS_PER_REQUEST) })])
const redriveBody = z.union([z.strictObject({ ids: z.array(z.string().min(1).max(128)).min(1).max(10_000) }), z.strictObject({ all: z.literal(true) })])

export interface ApiOptions {
  readonly host: HttpHost
  readonly tokens: TokenStore
  /** Reads without a token are allowed only when no token file is given and the listener is on loopback. */
  readonly openReads: boolean
}

export type ApiEnv = { Variables: { holder: TokenHolder | undefined } }

export function apiRoutes(options: ApiOptions): Hono<ApiEnv> {
  const { host } = options
  const app = new Hono<ApiEnv>()
  // Bodies over the queue's own bound are read and refused with 413; over the hard cap the
  // connection is cut without reading further (a client may then see a reset, not the 413).
  const maxBody = Math.min(HARD_BODY_CAP, host.queue.limits.maxPayloadBytes * 100 + 64 * 1024)
  const hardCap = bodyLimit({ maxSize: HARD_BODY_CAP, onError: () => { throw new PeerqueueError('E_PAYLOAD_TOO_LARGE', `the request body is over ${HARD_BODY_CAP} bytes`) } })

  app.onError((err, c) => {
    const { status, body } = httpError(err)
    return c.json(body, status as 400)
  })
  app.get('/openapi.json', (c) => c.json(openApiDocument(host.queue)))
  app.use('*', async (c, next) => {
    const header = c.req.header('authorization')
    const token = header?.match(/^Bearer\s+(\S+)$/i)?.[1] ?? c.req.query('token')
    const holder = token ? options.tokens.holderOf(token) : undefined
    if (token && !holder) throw new PeerqueueError('E_UNAUTHORIZED', 'unknown token (tokens come from the file given to --http-tokens on this peer)')
    c.set('holder', holder)
    await next()
  })

  app.get('/events', (c) => {
    allow(c, 'read', options)
    return eventStream(c, host)
  })

  app.get('/status', (c) => {
    allow(c, 'read', options)
    return c.json(host.status())
  })

  app.get('/jobs', (c) => {
    allow(c, 'read', options)
    const state = c.req.query('state')
    if (state !== undefined && !(JOB_STATES as readonly string[]).includes(state)) {
      throw new PeerqueueError('E_USAGE', `state must be one of ${JOB_STATES.join(', ')}`)
    }
    const limit = Math.min(500, Math.max(1, Number(c.req.query('limit') ?? 100) || 100))
    const jobs = host.jobs()?.list({ state: state as JobRecord['state'] | undefined, name: c.req.query('name'), search: c.req.query('search'), limit }) ?? []
    return c.json({ jobs: jobs.map(publicRecord) })
  })

  app.post(
    '/jobs',
    hardCap,
    async (c) => {
      allow(c, 'submit', options)
      const body = enqueueBody.safeParse(await jsonBody(c, maxBody))
      if (!body.success) throw usage(body.error)
      const inputs = 'jobs' in body.data ? body.data.jobs : [body.data]
      const jobs = inputs.map(({ id, name, payload, ...rest }) => ({ id, name, payload: superjson.stringify(payload ?? null), options: rest }))
      const outcomes = (await host.call('enqueue', { jobs })) as EnqueueOutcome[]
      return c.json({ jobs: outcomes }, 201)
    },
  )

  app.get('/jobs/:id', async (c) => {
    allow(c, 'read', options)
    const [view] = (await host.call('get', { ids: [c.req.param('id')] })) as (JobView | null)[]
    if (!view) throw notFound(c.req.param('id'))
    return c.json(publicView(view))
  })

  app.get('/jobs/:id/result', async (c) => {
    allow(c, 'read', options)
    const waitMs = Number(c.req.query('waitMs') ?? 0)
    if (!Number.isInteger(waitMs) || waitMs < 0 || waitMs > MAX_WAIT_MS) throw new PeerqueueError('E_USAGE', `waitMs must be a whole number of milliseconds from 0 to ${MAX_WAIT_MS}`)
    const view = (await host.call('wait', { id: c.req.param('id'), timeoutMs: waitMs })) as JobView | null
    if (!view) throw notFound(c.req.param('id'))
    const done = view.state === 'completed' || view.state === 'dead' || view.state === 'cancelled'
    return c.json({ id: view.id, state: view.state, result: decode(view.result), error: view.error }, done ? 200 : 202)
  })

  app.post('/jobs/:id/cancel', async (c) => {
    allow(c, 'cancel', options)
    return c.json(await host.call('cancel', { ids: [c.req.param('id')] }))
  })

  app.post('/redrive', hardCap, async (c) => {
    allow(c, 'redrive', options)
    const body = redriveBody.safeParse(await jsonBody(c, 1024 * 1024))
    if (!body.success) throw usage(body.error)
    return c.json(await host.call('redrive', body.data))
  })

  return app
}

function allow(c: Context<ApiEnv>, right: Right, options: ApiOptions): void {
  const holder = c.get('holder')
  if (!holder) {
    if (right === 'read' && options.openReads) return
    throw new PeerqueueError('E_UNAUTHORIZED', `this needs a token with the "${right}" right: send it as "Authorization: Bearer <token>"`)
  }
  if (!holder.rights.has(right)) throw new PeerqueueError('E_NOT_ALLOWED', `the token of "${holder.name}" does not have the "${right}" right`)
}

async function jsonBody(c: Context, maxBytes: number): Promise<unknown> {
  const text = await c.req.text()
  const bytes = Buffer.byteLength(text)
  if (bytes > maxBytes) throw new PeerqueueError('E_PAYLOAD_TOO_LARGE', `the request body is ${bytes} bytes, over this queue's limit of ${maxBytes}`)
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new PeerqueueError('E_USAGE', `the request body is not JSON: ${err instanceof Error ? err.message : String(err)}`)
  }
}

function usage(error: z.ZodError): PeerqueueError {
  const problems = error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
  return new PeerqueueError('E_USAGE', `invalid request: ${problems.join('; ')}`)
}

function notFound(id: string): PeerqueueError {
  return new PeerqueueError('E_JOB_NOT_FOUND', `no job ${id} (or it finished long enough ago to be forgotten)`)
}

function decode(text: string | null): unknown {
  if (text === null) return null
  try {
    return superjson.parse(text)
  } catch {
    return text
  }
}

/** A job as JSON: payload and result decoded from superjson. */
export function publicView(view: JobView): Omit<JobView, 'result'> & { result: unknown } {
  return { ...view, result: decode(view.result) }
}

export function publicRecord(job: JobRecord): Record<string, unknown> {
  return { ...job, payload: decode(job.payload), result: decode(job.result ?? null) }
}
