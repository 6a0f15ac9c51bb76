import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PeerqueueError } from '../errors.js'
import { decodeReply, decodeRequest, encodeFrame } from './frames.js'

function decodesOrRefuses(decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array): void {
  try {
    decode(bytes)
  } catch (err) {
    expect(err).toBeInstanceOf(PeerqueueError)
    expect((err as PeerqueueError).code).toBe('E_PROTOCOL')
  }
}

describe('RPC frames', () => {
  it('round-trips requests and replies', () => {
    fc.assert(
      fc.property(fc.nat(), fc.string(), fc.jsonValue(), (id, method, params) => {
        const decoded = decodeRequest(encodeFrame({ id, method, params }))
        expect(decoded.id).toBe(id)
        expect(decoded.method).toBe(method)
        expect(JSON.stringify(decoded.params)).toBe(JSON.stringify(params))
      }),
      { numRuns: 200 },
    )
  })

  it('refuses arbitrary bytes and arbitrary JSON with E_PROTOCOL, never a crash', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
      decodesOrRefuses(decodeRequest, bytes)
      decodesOrRefuses(decodeReply, bytes)
    }), { numRuns: 500 })
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
      const bytes = new TextEncoder().encode(JSON.stringify(value))
      decodesOrRefuses(decodeRequest, bytes)
      decodesOrRefuses(decodeReply, bytes)
    }), { numRuns: 500 })
  })
})
