// JSON.stringify's text, made a slice at a time with a rest between slices:
// a snapshot of a queue holding 100,000 jobs is ~40 MB of JSON and ~150 ms of one thread, which
// would otherwise stall every commit and request on the peer while it is made (a slice of 250
// jobs is well under a millisecond). Large arrays are
// cut into slices; everything else is stringified whole. The CRC-32 is kept as the text grows.
// The text is handed on in pieces of a few hundred kilobytes as it is made: joined and encoded
// whole at the end, a 20,000-job snapshot's 8 MB had taken the peer away for 10-15 ms.
import { crc32 } from 'node:zlib'

const SLICE = 250
/** Characters gathered before they go to the sink. */
const PIECE = 256 * 1024

/** Takes the text in order, a piece at a time; the next slice waits for the piece it was given. */
export type JsonSink = (text: string) => void | Promise<void>

/** Hands JSON.stringify's text of `value` to `sink` in pieces, slices apart; returns the text's CRC-32. */
export async function writeJsonInSlices(value: unknown, sink: JsonSink, slice = SLICE): Promise<number> {
  const out = new Writer(sink)
  await write(value, out, slice)
  await out.pass(0)
  return out.crc
}

class Writer {
  private parts: string[] = []
  private length = 0
  crc = 0
  constructor(private readonly sink: JsonSink) {}
  add(text: string): void {
    this.parts.push(text)
    this.length += text.length
    this.crc = crc32(text, this.crc)
  }
  /** Hands what was gathered to the sink once it is at least `least` characters. */
  async pass(least = PIECE): Promise<void> {
    if (this.length === 0 || this.length < least) return
    const text = this.parts.join('')
    this.parts = []
    this.length = 0
    await this.sink(text)
  }
}

/**
 * Between slices the process sleeps at least as long as the slice took: yielding the event loop
 * alone would keep the process on a core throughout, and on a machine with few cores the other
 * peers (a commit needs two of them) would wait for one for the whole snapshot.
 */
const rest = (busyMs: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(1, Math.ceil(busyMs))))

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return (proto === Object.prototype || proto === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function'
}

/** Whether `value` holds an array longer than a slice anywhere inside plain objects and arrays. */
function large(value: unknown, slice: number): boolean {
  if (Array.isArray(value)) return value.length > slice
  if (!isPlainObject(value)) return false
  for (const key in value) if (large(value[key], slice)) return true
  return false
}

async function write(value: unknown, out: Writer, slice: number): Promise<void> {
  if (!large(value, slice)) {
    out.add(JSON.stringify(value) ?? 'null')
    return
  }
  if (Array.isArray(value)) {
    out.add('[')
    for (let at = 0; at < value.length; at += slice) {
      const started = performance.now()
      // Array elements JSON.stringify would write as null (undefined, functions) stay null here.
      const text = JSON.stringify(value.slice(at, at + slice))
      out.add((at > 0 ? ',' : '') + text.slice(1, -1))
      await out.pass()
      await rest(performance.now() - started)
    }
    out.add(']')
    return
  }
  const object = value as Record<string, unknown>
  out.add('{')
  let first = true
  for (const key in object) {
    const field = object[key]
    if (field === undefined || typeof field === 'function' || typeof field === 'symbol') continue
    out.add(`${first ? '' : ','}${JSON.stringify(key)}:`)
    first = false
    await write(field, out, slice)
  }
  out.add('}')
}
