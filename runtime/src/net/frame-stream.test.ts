import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeFrameBytes, FrameDecoder, FrameError } from './frame-stream.js'

describe('length-prefixed frame decoder', () => {
  it('writes the length as an unsigned varint', () => {
    expect([...encodeFrameBytes(new Uint8Array(0))]).toEqual([0])
    expect([...encodeFrameBytes(new Uint8Array([7]))]).toEqual([1, 7])
    expect([...encodeFrameBytes(new Uint8Array(300)).subarray(0, 2)]).toEqual([0xac, 0x02])
    expect(encodeFrameBytes(new Uint8Array(128)).length).toBe(130)
  })

  it('gives back every frame in order, however the bytes are cut', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), (frames, cuts) => {
        const wire = Buffer.concat(frames.map((f) => encodeFrameBytes(f)))
        const points = [...new Set(cuts.map((c) => (wire.length === 0 ? 0 : c % wire.length)))].sort((a, b) => a - b)
        const decoder = new FrameDecoder(1024)
        const out: Uint8Array[] = []
        let from = 0
        for (const to of [...points, wire.length]) {
          out.push(...decoder.push(wire.subarray(from, to)).map((f) => Uint8Array.from(f)))
          from = to
        }
        expect(out.map((f) => [...f])).toEqual(frames.map((f) => [...f]))
      }),
      { numRuns: 300 },
    )
  })

  it('does not read a frame from a buffer its sender reused', () => {
    const decoder = new FrameDecoder(1024)
    const wire = encodeFrameBytes(new Uint8Array([1, 2, 3, 4]))
    const first = Uint8Array.from(wire.subarray(0, 3))
    expect(decoder.push(first)).toEqual([])
    first.fill(9)
    expect([...decoder.push(wire.subarray(3))[0]!]).toEqual([1, 2, 3, 4])
  })

  it('refuses a frame over the limit and a length that does not end', () => {
    expect(() => new FrameDecoder(10).push(encodeFrameBytes(new Uint8Array(11)))).toThrow(FrameError)
    expect(() => new FrameDecoder(2 ** 40).push(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x01]))).toThrow(FrameError)
  })
})
