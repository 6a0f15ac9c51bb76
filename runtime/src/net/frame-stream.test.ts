import fc from 'fast-check'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { describe, expect, it } from 'vitest'
import { encodeFrameBytes, FrameDecoder, FrameError, readFrames, writeFrame } from './frame-stream.js'
import { createPeerNode } from './node.js'

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

describe('frames on a libp2p stream', () => {
  // `lateMs`: the reader starts that long after the stream opened, when everything has arrived.
  for (const lateMs of [0, 300]) {
    it(`reads every frame the other end sent before closing its side, then ends (reader ${lateMs} ms late)`, async () => {
      const [server, client] = await Promise.all([0, 1].map(async () => createPeerNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })))
      try {
        const got: string[] = []
        const ended = new Promise<Error>((resolve) => {
          void server!.handle('/pq-test/frames/1', (stream) => {
            const read = () => readFrames(stream, 1024, (frame) => void got.push(new TextDecoder().decode(frame)), resolve)
            if (lateMs === 0) read()
            else setTimeout(read, lateMs)
          })
        })
        const stream = await client!.dialProtocol(server!.getMultiaddrs()[0]!, '/pq-test/frames/1')
        for (const text of ['one', 'two', 'x'.repeat(900)]) await writeFrame(stream, new TextEncoder().encode(text))
        await stream.close()
        expect((await ended).message).toMatch(/closed/)
        expect(got).toEqual(['one', 'two', 'x'.repeat(900)])
      } finally {
        await Promise.all([server!.stop(), client!.stop()])
      }
    })
  }
})
