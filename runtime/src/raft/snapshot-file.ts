// A snapshot of the applied state, written beside the log: temp file, fsync, rename, fsync of
// the directory, so a crash leaves either the old snapshot or the new one, never half of one.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { PeerqueueError } from '../errors.js'
import { writeFileDurably, type OpenFile } from '../fs/durable-file.js'

const FILE = 'snapshot.json'

export async function writeSnapshot(dir: string, index: number, data: unknown, open?: OpenFile): Promise<void> {
  const body = JSON.stringify({ index, data })
  await writeFileDurably(join(dir, FILE), `${crc32(body)}\n${body}`, { open })
}

export async function readSnapshot<T>(dir: string): Promise<{ index: number; data: T } | undefined> {
  let text: string
  try {
    text = await readFile(join(dir, FILE), 'utf8')
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
