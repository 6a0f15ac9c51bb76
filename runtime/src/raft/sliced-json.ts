// JSON.stringify's text, made a slice at a time with a turn of the event loop between slices:
// a snapshot of a queue holding 100,000 jobs is ~40 MB of JSON and ~150 ms of one thread, which
// would otherwise stall every commit and request on the peer while it is made (a slice of 250
// jobs is well under a millisecond). Large arrays are
// cut into slices; everything else is stringified whole. The CRC-32 is kept as the text grows.
import { crc32 } from 'node:zlib'

const SLICE = 250

export interface SlicedJson {
  readonly text: string
  readonly crc: number
}

export async function stringifyInSlices(value: unknown, slice = SLICE): Promise<SlicedJson> {
  const out = new Writer()
  await write(value, out, slice)
  return { text: out.parts.join(''), crc: out.crc }
}

class Writer {
  readonly parts: string[] = []
  crc = 0
  add(text: string): void {
    this.parts.push(text)
    this.crc = crc32(text, this.crc)
  }
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

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
      // Array elements JSON.stringify would write as null (undefined, functions) stay null here.
      const text = JSON.stringify(value.slice(at, at + slice))
      out.add((at > 0 ? ',' : '') + text.slice(1, -1))
      await nextTurn()
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
