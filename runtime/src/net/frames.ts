// RPC frames: one JSON object per length-prefixed message. Requests carry an id so one stream
// carries many requests at once; a reply echoes the id.
import { PeerqueueError, type ErrorCode } from '../errors.js'

/** The largest frame a peer reads (frame-stream.ts); a larger Raft frame travels in chunks. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024

export interface RequestFrame {
  readonly id: number
  readonly method: string
  readonly params: unknown
}

export type ReplyFrame =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly code: ErrorCode; readonly message: string }

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function encodeFrame(frame: RequestFrame | ReplyFrame): Uint8Array {
  return encoder.encode(JSON.stringify(frame))
}

export function decodeRequest(bytes: Uint8Array): RequestFrame {
  const value = decodeObject(bytes)
  if (typeof value.id !== 'number' || typeof value.method !== 'string') {
    throw new PeerqueueError('E_PROTOCOL', 'malformed request frame')
  }
  return { id: value.id, method: value.method, params: value.params }
}

export function decodeReply(bytes: Uint8Array): ReplyFrame {
  const value = decodeObject(bytes)
  if (typeof value.id !== 'number' || typeof value.ok !== 'boolean') {
    throw new PeerqueueError('E_PROTOCOL', 'malformed reply frame')
  }
  if (value.ok) return { id: value.id, ok: true, value: value.value }
  return { id: value.id, ok: false, code: value.code as ErrorCode, message: String(value.message) }
}

function decodeObject(bytes: Uint8Array): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(bytes))
  } catch {
    throw new PeerqueueError('E_PROTOCOL', 'frame is not JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PeerqueueError('E_PROTOCOL', 'frame is not an object')
  }
  return value as Record<string, unknown>
}
