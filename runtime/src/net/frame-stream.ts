// Length-prefixed frames on a libp2p stream: an unsigned varint length, then the bytes (the same
// wire format as libp2p's lpStream). lpStream reads the length a byte at a time, each byte an
// await, a promise and a scan of its list of buffers; on a leader serving sixty workers that
// was a few percent of its time. Here the stream's 'message' events are decoded as they come:
// every frame a chunk completes is handed on at once, and only a frame split across chunks is
// copied, once, when its last piece arrives.
import type { Stream } from '@libp2p/interface'

/** A malformed or oversized length prefix: the stream cannot be read further. */
export class FrameError extends Error {}

/** Lengths of frames up to 2^28 - 1 bytes fit in four varint bytes. */
const MAX_LENGTH_BYTES = 4

export class FrameDecoder {
  private pending: Uint8Array[] = []
  private pendingBytes = 0
  /** Bytes the pending frame needs in all (length prefix included), once its prefix is read. */
  private needed = 0

  constructor(private readonly maxFrameBytes: number) {}

  /** The frames this chunk completes, in order; views of the chunk where a frame lies within it. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.pending.length > 0) {
      this.pending.push(chunk)
      this.pendingBytes += chunk.length
      if (this.pendingBytes < this.needed) return []
      chunk = Buffer.concat(this.pending, this.pendingBytes)
      this.pending = []
      this.pendingBytes = 0
      this.needed = 0
    }
    const frames: Uint8Array[] = []
    let at = 0
    while (at < chunk.length) {
      let length = 0
      let i = at
      for (let shift = 0; ; shift += 7) {
        if (i - at === MAX_LENGTH_BYTES) throw new FrameError(`a frame length longer than ${MAX_LENGTH_BYTES} bytes`)
        if (i === chunk.length) return this.keep(chunk.subarray(at), frames, 0)
        const byte = chunk[i++]!
        length += (byte & 0x7f) * 2 ** shift
        if (byte < 0x80) break
      }
      if (length > this.maxFrameBytes) throw new FrameError(`a frame of ${length} bytes, over the limit of ${this.maxFrameBytes}`)
      if (i + length > chunk.length) return this.keep(chunk.subarray(at), frames, i - at + length)
      frames.push(chunk.subarray(i, i + length))
      at = i + length
    }
    return frames
  }

  private keep(rest: Uint8Array, frames: Uint8Array[], needed: number): Uint8Array[] {
    // A copy: the chunk's buffer may be reused by whoever handed it over.
    this.pending = [Uint8Array.from(rest)]
    this.pendingBytes = rest.length
    this.needed = needed
    return frames
  }
}

/** The length prefix and the frame in one buffer, as one write. */
export function encodeFrameBytes(frame: Uint8Array): Uint8Array {
  let prefix = 1
  while (frame.length >= 2 ** (7 * prefix)) prefix++
  const out = Buffer.allocUnsafe(prefix + frame.length)
  let value = frame.length
  for (let i = 0; i < prefix; i++) {
    out[i] = (value & 0x7f) | (i < prefix - 1 ? 0x80 : 0)
    value = Math.floor(value / 128)
  }
  out.set(frame, prefix)
  return out
}

/** Writes one frame; waits for the stream to drain when its buffer is full. Rejects once the stream cannot be written. */
export async function writeFrame(stream: Stream, frame: Uint8Array): Promise<void> {
  if (!stream.send(encodeFrameBytes(frame))) await stream.onDrain()
}

/**
 * Hands each frame that arrives on `stream` to `onFrame`, in order, until the stream closes, the
 * other end closes its side, a frame is malformed or `onFrame` throws; then calls `onEnd` once.
 */
export function readFrames(stream: Stream, maxFrameBytes: number, onFrame: (frame: Uint8Array) => void, onEnd: (reason: Error) => void): void {
  const decoder = new FrameDecoder(maxFrameBytes)
  let ended = false
  const end = (reason: Error) => {
    if (ended) return
    ended = true
    stream.removeEventListener('message', onMessage)
    onEnd(reason)
  }
  const onMessage = (event: { data: Uint8Array | { subarray(): Uint8Array } }) => {
    if (ended) return
    try {
      for (const frame of decoder.push(event.data instanceof Uint8Array ? event.data : event.data.subarray())) {
        onFrame(frame)
        if (ended) return
      }
    } catch (err) {
      end(err instanceof Error ? err : new Error(String(err)))
    }
  }
  stream.addEventListener('message', onMessage)
  stream.addEventListener('close', (event) => end(event.error ?? new Error('the stream closed')), { once: true })
  // Data the stream still holds is handed over after this (on a timer or a microtask), so the
  // frames the other end sent before closing its side are read first. It may have closed it
  // before these listeners were here.
  const remoteClosed = () => {
    const closed = () => end(new Error('the other end closed the stream'))
    if (stream.readBufferLength > 0) setTimeout(closed, 0)
    else closed()
  }
  if (stream.remoteWriteStatus !== 'writable') remoteClosed()
  else stream.addEventListener('remoteCloseWrite', remoteClosed, { once: true })
}
