// Who answers a census poll: a peer answers iff hash(pollId ‖ peerId) < p · 2^64. Anyone can
// recompute it, so an answer from a peer that was not selected is recognised and dropped.
import { hash } from 'node:crypto'

const SCALE = 2n ** 64n

/** The 64-bit selection value of a peer for a poll: the first 8 bytes of SHA-256(pollId, NUL, peerId). */
export function selectionValue(pollId: string, peerId: string): bigint {
  return digest(pollId, peerId).readBigUInt64BE(0)
}

/** floor(p · 2^64), for p in (0, 1]; p = 1 selects everyone. */
export function selectionThreshold(p: number): bigint {
  if (!(p > 0 && p <= 1)) throw new RangeError(`a poll probability must be in (0, 1], got ${p}`)
  if (p === 1) return SCALE
  // 2^64 · p computed as (p · 2^53) · 2^11, exact in the 53 bits a double carries.
  return BigInt(Math.floor(p * 2 ** 53)) * 2n ** 11n
}

export function isSelected(pollId: string, peerId: string, p: number): boolean {
  return selectorFor(pollId, p)(peerId)
}

/**
 * The selection test of one poll, for many peers: the threshold is split into two 32-bit halves
 * once, so each peer costs one hash and two integer comparisons (a leader checks every answer,
 * and the census simulator checks a million peers a poll).
 */
export function selectorFor(pollId: string, p: number): (peerId: string) => boolean {
  const threshold = selectionThreshold(p)
  if (threshold === SCALE) return () => true
  const high = Number(threshold >> 32n)
  const low = Number(threshold & 0xffffffffn)
  return (peerId) => {
    const bytes = digest(pollId, peerId)
    const h = bytes.readUInt32BE(0)
    return h < high || (h === high && bytes.readUInt32BE(4) < low)
  }
}

function digest(pollId: string, peerId: string): Buffer {
  return hash('sha256', `${pollId}\0${peerId}`, 'buffer')
}

