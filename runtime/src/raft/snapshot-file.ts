// A snapshot of the applied state, written beside the log: temp file, fsync, rename, fsync of
// the directory, so a crash leaves either the old snapshot or the new one, never half of one.
import { open, readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { PeerqueueError } from '../errors.js'
import { syncDir } from './wal.js'

const FILE = 'snapshot.json'

export async function writeSnapshot(dir: string, index: number, data: unknown): Promise<void> {
  const body = JSON.stringify({ index, data })
  const text = `${crc32(body)}\n${body}`
  const temp = join(dir, `${FILE}.tmp`)
  const file = await open(temp, 'w')
  try {
    await file.writeFile(text)
    await file.sync()
  } finally {
    await file.close()
  }
  await rename(temp, join(dir, FILE))
  await syncDir(dir)
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
