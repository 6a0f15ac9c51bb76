// Segmented write-ahead log. Each record is [u32 length][u32 crc32][payload]; a batch of records
// is written and then made durable with one fdatasync (group commit). On open, a torn record at
// the very end (a crash mid-write) is cut off; a damaged record anywhere else is corruption and
// the log refuses to open rather than silently lose acknowledged entries.
import { mkdir, open, readdir, readFile, rm, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { PeerqueueError, assert } from '../errors.js'

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

export class WriteAheadLog {
  private segments: Segment[] = []
  private active: FileHandle | undefined
  private activeBytes = 0
  private lastIndexWritten = 0

  private constructor(
    private readonly dir: string,
    private readonly segmentBytes: number,
  ) {}

  /** Opens (or creates) the log and returns it with every intact record, oldest first. */
  static async open(dir: string, segmentBytes = DEFAULT_SEGMENT_BYTES): Promise<{ wal: WriteAheadLog; records: WalRecord[] }> {
    await mkdir(dir, { recursive: true })
    const wal = new WriteAheadLog(dir, segmentBytes)
    const names = (await readdir(dir)).filter((n) => /^\d{20}\.log$/.test(n)).sort()
    wal.segments = names.map((n) => ({ firstIndex: Number(n.slice(0, 20)), path: join(dir, n) }))
    const records: WalRecord[] = []
    for (const [i, segment] of wal.segments.entries()) {
      const isLast = i === wal.segments.length - 1
      const { found, validBytes, totalBytes } = await readSegment(segment, isLast)
      for (const record of found) {
        assert(wal.lastIndexWritten === 0 || record.index === wal.lastIndexWritten + 1, `log gap before ${record.index}`)
        wal.lastIndexWritten = record.index
        records.push(record)
      }
      if (isLast) {
        wal.active = await open(segment.path, 'r+')
        if (validBytes < totalBytes) {
          await wal.active.truncate(validBytes)
          await wal.active.datasync()
        }
        wal.activeBytes = validBytes
      }
    }
    return { wal, records }
  }

  get lastIndex(): number {
    return this.lastIndexWritten
  }

  /** Appends records with consecutive indexes and returns once they are on disk. */
  /**
   * Writes records at the end of the log. With `sync` false they are written but not yet made
   * durable; the next synced append (one fdatasync covers the whole file) makes them so.
   */
  async append(records: readonly WalRecord[], sync = true): Promise<void> {
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
    while (this.segments.length > 1 && this.segments[1]!.firstIndex <= index + 1) {
      await rm(this.segments.shift()!.path, { force: true })
    }
  }

  /**
   * Starts a new segment holding `records` (the state still needed) and deletes every older
   * segment. The new segment is durable before the old ones go, so a crash leaves one or both.
   */
  async rewrite(records: readonly Uint8Array[]): Promise<void> {
    const first = this.lastIndexWritten + 1
    await this.roll(first)
    await this.append(records.map((bytes, i) => ({ index: first + i, bytes })))
    await this.compactThrough(first - 1)
  }

  async close(): Promise<void> {
    await this.active?.close()
    this.active = undefined
  }

  /** Writes at an explicit position: a segment reopened after a crash is not in append mode. */
  private async flush(buffers: Buffer[], sync: boolean): Promise<void> {
    if (buffers.length === 0 || !this.active) return
    const { bytesWritten } = await this.active.writev(buffers, this.activeBytes)
    this.activeBytes += bytesWritten
    if (sync) await this.active.datasync()
  }

  private async roll(firstIndex: number): Promise<void> {
    if (this.active) {
      await this.active.datasync()
      await this.active.close()
    }
    const path = join(this.dir, `${String(firstIndex).padStart(20, '0')}.log`)
    this.active = await open(path, 'w+')
    this.activeBytes = 0
    this.segments.push({ firstIndex, path })
    await syncDir(this.dir)
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

async function readSegment(segment: Segment, isLast: boolean) {
  const data = await readFile(segment.path)
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

export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
