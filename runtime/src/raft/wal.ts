// Segmented write-ahead log. Each record is [u32 length][u32 crc32][payload]; a batch of records
// is written and then made durable with one fdatasync (group commit). On open, a torn record at
// the very end (a crash mid-write) is cut off; a damaged record anywhere else is corruption and
// the log refuses to open rather than silently lose acknowledged entries. A write or fsync that
// fails breaks the log for good: it is cut back to its last whole record, refuses every later
// append, and only a reopen (which reads what is really on disk) makes it usable again.
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { PeerqueueError, assert, errorMessage } from '../errors.js'
import { syncDir, syncFile, writeAll, type WritableFile } from '../fs/durable-file.js'
import { nodeFileSystem, type FileSystem } from '../fs/file-system.js'

const HEADER_BYTES = 8
const MAX_RECORD_BYTES = 64 * 1024 * 1024
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024

export interface WalRecord {
  readonly index: number
  readonly bytes: Uint8Array
}

interface Segment {
  readonly firstIndex: number
  readonly path: string
}

export interface WalOptions {
  readonly segmentBytes?: number
  /** Where the segments live: tests pass a disk whose writes come up short or fail. */
  readonly fs?: FileSystem
}

export class WriteAheadLog {
  private segments: Segment[] = []
  private active: WritableFile | undefined
  private activePath = ''
  private activeBytes = 0
  private lastIndexWritten = 0
  private broken: PeerqueueError | undefined

  private constructor(
    private readonly dir: string,
    private readonly segmentBytes: number,
    private readonly fs: FileSystem,
  ) {}

  /** Opens (or creates) the log and returns it with every intact record, oldest first. */
  static async open(dir: string, options: WalOptions = {}): Promise<{ wal: WriteAheadLog; records: WalRecord[] }> {
    const fs = options.fs ?? nodeFileSystem
    await fs.mkdir(dir)
    const wal = new WriteAheadLog(dir, options.segmentBytes ?? DEFAULT_SEGMENT_BYTES, fs)
    const names = (await fs.readdir(dir)).filter((n) => /^\d{20}\.log$/.test(n)).sort()
    wal.segments = names.map((n) => ({ firstIndex: Number(n.slice(0, 20)), path: join(dir, n) }))
    const records: WalRecord[] = []
    for (const [i, segment] of wal.segments.entries()) {
      const isLast = i === wal.segments.length - 1
      const { found, validBytes, totalBytes } = await readSegment(await fs.readFile(segment.path), segment, isLast)
      for (const record of found) {
        assert(wal.lastIndexWritten === 0 || record.index === wal.lastIndexWritten + 1, `log gap before ${record.index}`)
        wal.lastIndexWritten = record.index
        records.push(record)
      }
      if (isLast) {
        wal.active = await fs.open(segment.path, 'r+')
        wal.activePath = segment.path
        if (validBytes < totalBytes) {
          await wal.active.truncate(validBytes)
          await syncFile(wal.active, segment.path, true)
        }
        wal.activeBytes = validBytes
      }
    }
    return { wal, records }
  }

  /** Every intact record, as open() recovers them, without keeping the log open. */
  static async read(dir: string, options: WalOptions = {}): Promise<WalRecord[]> {
    const { wal, records } = await WriteAheadLog.open(dir, options)
    await wal.close()
    return records
  }

  get lastIndex(): number {
    return this.lastIndexWritten
  }

  /** Why the log refuses writes, once a write or fsync has failed. */
  get failure(): PeerqueueError | undefined {
    return this.broken
  }

  /**
   * Writes records at the end of the log and, with `sync`, returns once they are durable. With
   * `sync` false they are written but not yet durable; the next synced append (one fdatasync
   * covers the whole file) makes them so. Rejects if any byte could not be written or synced,
   * and then the log is broken: see the module comment.
   */
  async append(records: readonly WalRecord[], sync = true): Promise<void> {
    if (this.broken) throw this.broken
    if (records.length === 0) return
    const buffers: Buffer[] = []
    let buffered = 0
    for (const record of records) {
      assert(record.index === this.lastIndexWritten + 1, `append ${record.index} after ${this.lastIndexWritten}`)
      if (!this.active || this.activeBytes + buffered >= this.segmentBytes) {
        await this.flush(buffers, true)
        buffers.length = 0
        buffered = 0
        await this.roll(record.index)
      }
      const framed = frame(record.bytes)
      buffers.push(framed)
      buffered += framed.length
      this.lastIndexWritten = record.index
    }
    await this.flush(buffers, sync)
  }

  /** Deletes whole segments whose records are all at or below `index` (covered by a snapshot). */
  async compactThrough(index: number): Promise<void> {
    if (this.broken) throw this.broken
    let removed = 0
    while (this.segments.length > 1 && this.segments[1]!.firstIndex <= index + 1) {
      await this.fs.rm(this.segments.shift()!.path)
      removed += 1
    }
    // Otherwise a crash could bring back an older segment without the ones after it: a gap.
    if (removed > 0) await this.guard(() => syncDir(this.dir, this.fs))
  }

  /**
   * Starts a new segment holding `records` (the state still needed) and deletes every older
   * segment. The new segment is durable before the old ones go, so a crash leaves one or both.
   */
  async rewrite(records: readonly Uint8Array[]): Promise<void> {
    await this.startSegment(records, this.lastIndexWritten + 1)
  }

  /**
   * Starts a new segment holding `records`, then deletes the older segments whose records all
   * come before `keepFrom` (what a snapshot covers), keeping the rest as they are. The new
   * segment is durable before any old one goes.
   */
  async startSegment(records: readonly Uint8Array[], keepFrom: number): Promise<void> {
    if (this.broken) throw this.broken
    const first = this.lastIndexWritten + 1
    await this.roll(first)
    await this.append(records.map((bytes, i) => ({ index: first + i, bytes })))
    await this.compactThrough(Math.min(keepFrom, first) - 1)
  }

  async close(): Promise<void> {
    await this.active?.close()
    this.active = undefined
  }

  /** Writes at an explicit position: a segment reopened after a crash is not in append mode. */
  private async flush(buffers: Buffer[], sync: boolean): Promise<void> {
    if (buffers.length === 0 || !this.active) return
    const file = this.active
    try {
      this.activeBytes += await writeAll(file, buffers, this.activeBytes, this.activePath)
    } catch (err) {
      await this.breakAfterWrite(file, err)
    }
    if (sync) await this.guard(() => syncFile(file, this.activePath, true))
  }

  private async roll(firstIndex: number): Promise<void> {
    await this.guard(async () => {
      if (this.active) {
        await syncFile(this.active, this.activePath, true)
        await this.active.close()
      }
      this.active = undefined
      const path = join(this.dir, `${String(firstIndex).padStart(20, '0')}.log`)
      this.active = await this.fs.open(path, 'w+')
      this.activePath = path
      this.activeBytes = 0
      this.segments.push({ firstIndex, path })
      await syncDir(this.dir, this.fs)
    })
  }

  /** Runs a step whose failure breaks the log (an fsync, a new segment): no retry, no cleanup. */
  private async guard(step: () => Promise<void>): Promise<void> {
    try {
      await step()
    } catch (err) {
      throw this.breakWith(err)
    }
  }

  /**
   * Part of a batch may be in the file: cut it back to the last whole record, so that nothing
   * unacknowledged is read back as if it were. If even that fails, a reopen still cuts the torn
   * tail; a whole record of the failed batch found then is an entry that was never acknowledged,
   * which the log may hold (its writer was told the outcome is unknown).
   */
  private async breakAfterWrite(file: WritableFile, err: unknown): Promise<never> {
    const failure = this.breakWith(err)
    try {
      await file.truncate(this.activeBytes)
      await file.datasync()
    } catch {
      // Recovery on reopen handles a torn tail.
    }
    throw failure
  }

  private breakWith(err: unknown): PeerqueueError {
    const failure = err instanceof PeerqueueError ? err : new PeerqueueError('E_STORAGE', `the write-ahead log in ${this.dir} could not be written: ${errorMessage(err)}`)
    this.broken ??= failure
    return failure
  }
}

function frame(payload: Uint8Array): Buffer {
  assert(payload.length <= MAX_RECORD_BYTES, `record of ${payload.length} bytes`)
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length)
  out.writeUInt32LE(payload.length, 0)
  out.writeUInt32LE(crc32(payload), 4)
  out.set(payload, HEADER_BYTES)
  return out
}

async function readSegment(data: Buffer, segment: Segment, isLast: boolean) {
  const found: WalRecord[] = []
  let offset = 0
  let index = segment.firstIndex
  while (offset < data.length) {
    const problem = recordProblem(data, offset)
    if (problem) {
      const end = offset + HEADER_BYTES + (data.length - offset >= 4 ? data.readUInt32LE(offset) : 0)
      const isTail = isLast && (problem === 'short' || end >= data.length)
      if (isTail) break
      throw new PeerqueueError(
        'E_LOG_CORRUPT',
        `write-ahead log ${segment.path} is damaged at byte ${offset} (record ${index}: ${problem}); refusing to start. Restore this peer's data from a replica or a backup.`,
      )
    }
    const length = data.readUInt32LE(offset)
    found.push({ index, bytes: data.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length) })
    offset += HEADER_BYTES + length
    index += 1
  }
  return { found, validBytes: offset, totalBytes: data.length }
}

function recordProblem(data: Buffer, offset: number): 'short' | 'checksum' | 'length' | undefined {
  if (data.length - offset < HEADER_BYTES) return 'short'
  const length = data.readUInt32LE(offset)
  if (length > MAX_RECORD_BYTES) return 'length'
  if (data.length - offset - HEADER_BYTES < length) return 'short'
  const payload = data.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length)
  return crc32(payload) === data.readUInt32LE(offset + 4) ? undefined : 'checksum'
}
