// The OpenAPI 3.1 description of /v1, served at /v1/openapi.json so clients can be generated.
import type { QueueConfig } from '../registry/schema.js'
import { RUNTIME_VERSION } from '../version.js'

const error = { $ref: '#/components/schemas/Error' }
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: error } } })
const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } })
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } }

export function openApiDocument(queue: QueueConfig): object {
  return {
    openapi: '3.1.0',
    info: { title: `peerqueue: ${queue.displayName}`, version: RUNTIME_VERSION, description: 'Submit jobs to a peerqueue queue and read their results over HTTP. Errors carry the same codes as the queue-runtime CLI.' },
    servers: [{ url: '/v1' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A token from the file given to --http-tokens, with the rights the operation needs (read, submit, cancel, redrive).' } },
      schemas: {
        Error: { type: 'object', required: ['error'], properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string', example: 'E_PAYLOAD_INVALID' }, message: { type: 'string' } } } } },
        NewJob: {
          type: 'object',
          required: ['name', 'payload'],
          additionalProperties: false,
          properties: {
            id: { type: 'string', pattern: '^[A-Za-z0-9_-]{8,64}$', description: 'Chosen by the client so a retried request cannot create a second job.' },
            name: { type: 'string', description: 'The job (handler) name.' },
            payload: { description: 'Any JSON value; checked against the handler schema before it is accepted.' },
            priority: { type: 'integer' },
            delayMs: { type: 'integer', minimum: 0 },
            idempotencyKey: { type: 'string' },
            maxAttempts: { type: 'integer', minimum: 1 },
            timeoutMs: { type: 'integer', minimum: 1 },
          },
        },
        Job: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, state: { type: 'string', enum: ['waiting-children', 'delayed', 'queued', 'leased', 'retry-wait', 'completed', 'dead', 'cancelled'] }, attempt: { type: 'integer' }, result: {}, error: { type: ['object', 'null'] } } },
      },
    },
    paths: {
      '/jobs': {
        post: {
          summary: 'Enqueue one job, or many ({ jobs: [...] }): answered once a majority of trusted peers has them on disk',
          requestBody: { required: true, content: { 'application/json': { schema: { oneOf: [{ $ref: '#/components/schemas/NewJob' }, { type: 'object', required: ['jobs'], properties: { jobs: { type: 'array', maxItems: 1000, items: { $ref: '#/components/schemas/NewJob' } } } }] } } } },
          responses: { 201: json({ type: 'object', properties: { jobs: { type: 'array' } } }, 'The outcome of each job: its id, or why it was not taken'), 400: errorResponse('Malformed JSON or request'), 401: errorResponse('No token, or an unknown one'), 403: errorResponse('The token lacks the submit right'), 413: errorResponse('The body or a payload is over the limit'), 503: errorResponse('No leader right now') },
        },
        get: { summary: 'List jobs from this peer\'s copy of the queue', parameters: [{ name: 'state', in: 'query', schema: { type: 'string' } }, { name: 'name', in: 'query', schema: { type: 'string' } }, { name: 'search', in: 'query', schema: { type: 'string' } }, { name: 'limit', in: 'query', schema: { type: 'integer', maximum: 500 } }], responses: { 200: json({ type: 'object' }, 'Jobs, newest first') } },
      },
      '/jobs/{id}': { get: { summary: 'One job', parameters: [idParam], responses: { 200: json({ $ref: '#/components/schemas/Job' }, 'The job'), 404: errorResponse('No such job') } } },
      '/jobs/{id}/result': {
        get: {
          summary: 'Wait up to waitMs for the job to finish, then its result or error',
          parameters: [idParam, { name: 'waitMs', in: 'query', schema: { type: 'integer', minimum: 0, maximum: 60000 } }],
          responses: { 200: json({ type: 'object' }, 'The job finished'), 202: json({ type: 'object' }, 'Not finished when the wait ran out'), 404: errorResponse('No such job') },
        },
      },
      '/jobs/{id}/cancel': { post: { summary: 'Cancel a job that has not finished', parameters: [idParam], responses: { 200: json({ type: 'object' }, 'How many jobs changed') } } },
      '/redrive': { post: { summary: 'Queue dead jobs again with fresh attempts', requestBody: { required: true, content: { 'application/json': { schema: { oneOf: [{ type: 'object', properties: { ids: { type: 'array', items: { type: 'string' } } } }, { type: 'object', properties: { all: { const: true } } }] } } } }, responses: { 200: json({ type: 'object' }, 'How many jobs changed') } } },
      '/status': { get: { summary: 'The queue as this peer sees it: leader, members, jobs by state, workers, census', responses: { 200: json({ type: 'object' }, 'Status') } } },
    },
  }
}
