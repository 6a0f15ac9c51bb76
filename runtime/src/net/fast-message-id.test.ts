import { describe, expect, it } from 'vitest'
import { fastMessageId } from './fast-message-id.js'

const bytes = (...values: number[]) => new Uint8Array(values)

describe('quick gossip message id', () => {
  it('names a message by its author and sequence number, whatever its data', () => {
    const a = fastMessageId({ from: bytes(1, 2), seqno: bytes(0, 7), data: bytes(9) })
    expect(fastMessageId({ from: bytes(1, 2), seqno: bytes(0, 7), data: bytes(8) })).toBe(a)
    expect(fastMessageId({ from: bytes(1, 2), seqno: bytes(0, 8), data: bytes(9) })).not.toBe(a)
    expect(fastMessageId({ from: bytes(1, 3), seqno: bytes(0, 7), data: bytes(9) })).not.toBe(a)
  })

  it('reads only the bytes a view covers', () => {
    const shared = bytes(5, 1, 2, 0, 7, 5)
    expect(fastMessageId({ from: shared.subarray(1, 3), seqno: shared.subarray(3, 5) })).toBe(fastMessageId({ from: bytes(1, 2), seqno: bytes(0, 7) }))
  })

  it('tells unsigned messages apart by their data', () => {
    expect(fastMessageId({ data: bytes(1) })).not.toBe(fastMessageId({ data: bytes(2) }))
  })
})
