// A snapshot of the applied state, written beside the log: temp file, fsync, rename, fsync of
// the directory, so a crash leaves either the old snapshot or the new one, never half of one.
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { PeerqueueError } from '../errors.js'
import { writeFileDurably, writeFileInPieces } from '../fs/durable-file.js'
import { nodeFileSystem, type FileSystem } from '../fs/file-system.js'
import { writeJsonInSlices } from './sliced-json.js'

const FILE = 'snapshot.json'
/** A snapshot written in the background goes to disk a megabyte at a time, so the log's fsyncs do not queue behind all of it. */
const FLUSH_BYTES = 1024 * 1024

export async function writeSnapshot(dir: string, index: number, data: unknown, fs?: FileSystem): Promise<void> {
  const body = JSON.stringify({ index, data })
  await writeFileDurably(join(dir, FILE), `${crc32(body)}\n${body}`, { fs })
}

/** A CRC-32 in decimal has at most this many digits; the streamed file's checksum is zero-padded to it. */
const CRC_DIGITS = 10

/**
 * The same file, its JSON made a slice at a time and written as it is made, so the peer keeps
 * serving meanwhile. The checksum is known only at the end: a zero-padded placeholder of the
 * same width goes first and the real one over it (readers take the number either way).
 */
export async function writeSnapshotInSlices(dir: string, index: number, data: unknown, fs?: FileSystem): Promise<void> {
  await writeFileInPieces(
    join(dir, FILE),
    async (write) => {
      await write(Buffer.from(`${'0'.repeat(CRC_DIGITS)}\n`))
      const crc = await writeJsonInSlices({ index, data }, (text) => write(Buffer.from(text)))
      return Buffer.from(String(crc).padStart(CRC_DIGITS, '0'))
    },
    { fs, flushEvery: FLUSH_BYTES },
  )
}

export async function readSnapshot<T>(dir: string, fs: FileSystem = nodeFileSystem): Promise<{ index: number; data: T } | undefined> {
  let text: string
  try {
    text = (await fs.readFile(join(dir, FILE))).toString('utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  const newline = text.indexOf('\n')
  const body = text.slice(newline + 1)
  if (newline < 0 || Number(text.slice(0, newline)) !== crc32(body)) {
    throw new PeerqueueError('E_LOG_CORRUPT', `snapshot ${join(dir, FILE)} fails its checksum; refusing to start`)
  }
  return JSON.parse(body) as { index: number; data: T }
}
