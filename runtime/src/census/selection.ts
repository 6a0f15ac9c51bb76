// Who answers a census poll: a peer answers iff hash(pollId ‖ peerId) < p · 2^64. Anyone can
// recompute it, so an answer from a peer that was not selected is recognised and dropped.
import { createHash } from 'node:crypto'

const SCALE = 2n ** 64n

/** The 64-bit selection value of a peer for a poll: the first 8 bytes of SHA-256(pollId, NUL, peerId). */
export function selectionValue(pollId: string, peerId: string): bigint {
  return createHash('sha256').update(pollId).update('\0').update(peerId).digest().readBigUInt64BE(0)
}

/** floor(p · 2^64), for p in (0, 1]; p = 1 selects everyone. */
export function selectionThreshold(p: number): bigint {
  if (!(p > 0 && p <= 1)) throw new RangeError(`a poll probability must be in (0, 1], got ${p}`)
  if (p === 1) return SCALE
  // 2^64 · p computed as (p · 2^53) · 2^11, exact in the 53 bits a double carries.
  return BigInt(Math.floor(p * 2 ** 53)) * 2n ** 11n
}

export function isSelected(pollId: string, peerId: string, p: number): boolean {
  return selectionValue(pollId, peerId) < selectionThreshold(p)
}
