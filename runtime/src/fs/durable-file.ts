// Writes that are either whole on disk or an error. A write call may return having written only
// part of its buffers (a full disk does this without an error), so every write loops until all
// bytes are out, and a call that makes no progress is the error it is. A failed fsync is final:
// the kernel may have dropped the dirty pages, so retrying it could report success for lost data.
import { dirname } from 'node:path'
import { PeerqueueError, errorMessage } from '../errors.js'
import { nodeFileSystem, type FileSystem } from './file-system.js'

/** The part of a file handle the durable writers use: small enough to fake in tests. */
export interface WritableFile {
  writev(buffers: readonly NodeJS.ArrayBufferView[], position: number): Promise<{ bytesWritten: number }>
  datasync(): Promise<void>
  sync(): Promise<void>
  truncate(length: number): Promise<void>
  close(): Promise<void>
}

export type OpenFile = (path: string, flags: string, mode?: number) => Promise<WritableFile>

/** Writes every byte of `buffers` at `position`, or throws. Returns the number of bytes written. */
export async function writeAll(file: WritableFile, buffers: readonly Uint8Array[], position: number, path: string): Promise<number> {
  let pending = buffers.filter((b) => b.length > 0)
  let at = position
  while (pending.length > 0) {
    const { bytesWritten } = await file.writev(pending, at)
    if (!(bytesWritten > 0)) {
      throw new PeerqueueError('E_STORAGE', `writing ${path} made no progress at byte ${at} (is the disk full?)`)
    }
    at += bytesWritten
    pending = skipBytes(pending, bytesWritten)
  }
  return at - position
}

/** Where fsync durations go when someone watches them (the metrics of a peer with --http). */
export const fsyncObserver: { observe?: (seconds: number) => void } = {}

/** fsync, turning a failure into the final error it is. */
export async function syncFile(file: WritableFile, path: string, dataOnly = false): Promise<void> {
  const started = fsyncObserver.observe ? performance.now() : 0
  try {
    await (dataOnly ? file.datasync() : file.sync())
    fsyncObserver.observe?.((performance.now() - started) / 1000)
  } catch (err) {
    throw new PeerqueueError('E_STORAGE', `fsync of ${path} failed (${errorMessage(err)}); its contents on disk are unknown, so nothing written since the last good fsync can be trusted`)
  }
}

export interface DurableWriteOptions {
  readonly mode?: number
  /** Fail with EEXIST instead of replacing a file that is already there. */
  readonly exclusive?: boolean
  readonly fs?: FileSystem
}

/**
 * Replaces (or, with `exclusive`, creates) `path` so that after a crash it holds either the old
 * bytes or all of the new ones: temp file, every byte written, fsync, rename, fsync of the folder.
 */
export async function writeFileDurably(path: string, data: string | Uint8Array, options: DurableWriteOptions = {}): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data
  await replaceDurably(path, options, async (file, target) => {
    await writeAll(file, [bytes], 0, target)
  })
}

/** Hands the next bytes of a file being written in pieces; resolves once they are written. */
export type PieceWriter = (bytes: Uint8Array) => Promise<void>

/**
 * The same promise as writeFileDurably, for a file too large to hold as one buffer (a snapshot):
 * `produce` hands its bytes over in order, each written as it comes and made durable every
 * `flushEvery` bytes (a log's fsync on the same disk then never waits behind much), and returns
 * the bytes that go over the file's start at the end (a checksum of what follows, known only then).
 */
export async function writeFileInPieces(path: string, produce: (write: PieceWriter) => Promise<Uint8Array>, options: { readonly fs?: FileSystem; readonly flushEvery: number }): Promise<void> {
  await replaceDurably(path, { fs: options.fs }, async (file, target) => {
    let at = 0
    let unsynced = 0
    const head = await produce(async (bytes) => {
      at += await writeAll(file, [bytes], at, target)
      unsynced += bytes.length
      if (unsynced < options.flushEvery) return
      await syncFile(file, target, true)
      unsynced = 0
    })
    if (head.length > at) throw new PeerqueueError('E_STORAGE', `${target}: the head written last (${head.length} bytes) is longer than the file (${at})`)
    await writeAll(file, [head], 0, target)
  })
}

/** Temp file filled by `fill`, fsync, rename over `path`, fsync of the folder; the temp file goes on failure. */
async function replaceDurably(path: string, options: DurableWriteOptions, fill: (file: WritableFile, target: string) => Promise<void>): Promise<void> {
  const fs = options.fs ?? nodeFileSystem
  const target = options.exclusive ? path : `${path}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`
  const file = await fs.open(target, options.exclusive ? 'wx' : 'w', options.mode)
  try {
    await fill(file, target)
    await syncFile(file, target)
  } catch (err) {
    await file.close().catch(() => undefined)
    await fs.rm(target).catch(() => undefined)
    throw err
  }
  await file.close()
  if (!options.exclusive) await fs.rename(target, path)
  await syncDir(dirname(path), fs)
}

/** Makes a rename or a new file in `dir` durable: the directory entry is data too. */
export async function syncDir(dir: string, fs: FileSystem = nodeFileSystem): Promise<void> {
  try {
    await fs.syncDir(dir)
  } catch (err) {
    throw new PeerqueueError('E_STORAGE', `fsync of ${dir} failed (${errorMessage(err)}); its entries on disk are unknown`)
  }
}

function skipBytes(buffers: readonly Uint8Array[], count: number): Uint8Array[] {
  const out: Uint8Array[] = []
  let skip = count
  for (const buffer of buffers) {
    if (skip >= buffer.length) {
      skip -= buffer.length
      continue
    }
    out.push(skip > 0 ? buffer.subarray(skip) : buffer)
    skip = 0
  }
  return out
}
