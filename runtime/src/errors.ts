// Errors a person can act on: a stable code plus a message naming what was wrong and where.
// Stack traces are for bugs; anything caused by input or the environment is a PeerqueueError.

export type ErrorCode =
  | 'E_REGISTRY_INVALID'
  | 'E_REGISTRY_UNREADABLE'
  | 'E_KEY_MISSING'
  | 'E_KEY_INVALID'
  | 'E_KEY_INSECURE'
  | 'E_KEY_EXISTS'
  | 'E_USAGE'
  | 'E_QUEUE_UNKNOWN'
  | 'E_JOB_UNKNOWN'
  | 'E_JOB_NOT_FOUND'
  | 'E_PAYLOAD_INVALID'
  | 'E_PAYLOAD_TOO_LARGE'
  | 'E_QUEUE_FULL'
  | 'E_QUEUE_SATURATED'
  | 'E_NOT_ALLOWED'
  | 'E_UNAUTHORIZED'
  | 'E_RATE_LIMITED'
  | 'E_HANDLERS_INVALID'
  | 'E_UNREACHABLE'
  | 'E_LISTEN'
  | 'E_CLOSED'
  | 'E_TIMEOUT'
  | 'E_PROTOCOL'
  | 'E_LOG_CORRUPT'
  | 'E_STORAGE'
  | 'E_NODE_VERSION'
  | 'E_EVENTS_LOST'
  | 'E_DATA_LOCKED'
  | 'E_DATA_DIR'
  | 'E_NOT_LEADER'
  | 'E_LEADER_IS_SELF'
  | 'E_CONF_PENDING'
  | 'E_DEPLOY_REFUSED'
  | 'E_BUNDLE_TOO_LARGE'
  | 'E_BUNDLE_MISMATCH'
  | 'E_BUNDLE_MISSING'
  | 'E_VERSION_UNKNOWN'
  | 'E_CERTIFICATE'
  | 'E_SHARD_UNKNOWN'
  | 'E_SHARD_SEALED'
  | 'E_INTERNAL'

export class PeerqueueError extends Error {
  override readonly name = 'PeerqueueError'
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message)
  }
}

export function isPeerqueueError(err: unknown): err is PeerqueueError {
  // A module loaded on its own (the HTTP listener) has a copy of this class: match by shape too.
  return err instanceof PeerqueueError || (err instanceof Error && err.name === 'PeerqueueError' && typeof (err as { code?: unknown }).code === 'string')
}

/** Programmer errors: a broken invariant must stop the process before it reaches the disk. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`)
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message
  // Some network layers reject with a DOM Event (an abort, a socket's error), which prints as "[object Event]".
  if (typeof Event !== 'undefined' && err instanceof Event) return `a "${err.type}" event`
  return String(err)
}

/** A write or fsync of the durable log failed (disk full, I/O error): the peer must stop writing. */
export function storageFailure(err: unknown): PeerqueueError {
  const cause = err instanceof PeerqueueError && err.code === 'E_STORAGE' ? err.message : `the write-ahead log could not be written: ${errorMessage(err)}`
  return new PeerqueueError('E_STORAGE', `${cause}; this peer stops accepting work until its disk takes writes again`)
}
