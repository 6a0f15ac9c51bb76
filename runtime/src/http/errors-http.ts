// peerqueue's error codes as HTTP answers: the same code and message as the CLI prints, and the
// status a generic HTTP client understands.
import { isPeerqueueError, type ErrorCode } from '../errors.js'

const STATUS: Partial<Record<ErrorCode, number>> = {
  E_USAGE: 400,
  E_PROTOCOL: 400,
  E_PAYLOAD_INVALID: 400,
  E_JOB_UNKNOWN: 400,
  E_UNAUTHORIZED: 401,
  E_NOT_ALLOWED: 403,
  E_JOB_NOT_FOUND: 404,
  E_PAYLOAD_TOO_LARGE: 413,
  E_QUEUE_FULL: 429,
  E_RATE_LIMITED: 429,
  E_NOT_LEADER: 503,
  E_UNREACHABLE: 503,
  E_STORAGE: 503,
  E_TIMEOUT: 504,
}

export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string }
}

export function httpError(err: unknown): { status: number; body: ErrorBody } {
  if (isPeerqueueError(err)) return { status: STATUS[err.code] ?? 500, body: { error: { code: err.code, message: err.message } } }
  return { status: 500, body: { error: { code: 'E_INTERNAL', message: err instanceof Error ? err.message : String(err) } } }
}
