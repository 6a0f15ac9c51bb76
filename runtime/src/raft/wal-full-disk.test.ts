import { mkdtemp, readdir, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FullDisk } from '../fs/full-disk.js'
import { WriteAheadLog, type WalRecord } from './wal.js'

const text = (r: WalRecord) => new TextDecoder().decode(r.bytes)
const record = (index: number): WalRecord => ({ index, bytes: new TextEncoder().encode(`entry ${index} `.padEnd(40 + (index % 7) * 13, '.')) })

/** Appends batches of 1-3 records until the disk refuses one; returns what was acknowledged. */
async function fillUp(dir: string, disk: FullDisk, segmentBytes?: number) {
  const { wal } = await WriteAheadLog.open(dir, { fs: disk.fs, segmentBytes })
  const acknowledged: number[] = []
  let attempted: number[] = []
  let failure: unknown
  for (let batch = 0; batch < 200 && failure === undefined; batch++) {
    const next = wal.lastIndex + 1
    attempted = Array.from({ length: 1 + (batch % 3) }, (_, i) => next + i)
    try {
      await wal.append(attempted.map(record))
      acknowledged.push(...attempted)
    } catch (err) {
      failure = err
    }
  }
  return { wal, acknowledged, attempted, failure }
}

describe('write-ahead log on a disk that fills up', () => {
  it('keeps every acknowledged record, at whatever byte the disk fills', async () => {
    // Every capacity from an empty disk to well past the first few batches: the full disk
    // strikes at every offset inside headers, payloads and batch boundaries.
    for (let capacity = 0; capacity <= 700; capacity += 1) {
      const dir = await mkdtemp(join(tmpdir(), 'pq-wal-full-'))
      const disk = new FullDisk({ capacity })
      const { wal, acknowledged, failure } = await fillUp(dir, disk)
      expect(failure, `capacity ${capacity}`).toMatchObject({ code: 'E_STORAGE', message: expect.stringContaining('ENOSPC') })
      await wal.close()
      const { wal: reopened, records } = await WriteAheadLog.open(dir)
      // Nothing acknowledged is lost, and the failed batch was cut back out of the file.
      expect(records.map((r) => r.index), `capacity ${capacity}`).toEqual(acknowledged)
      expect(records.map(text)).toEqual(acknowledged.map((i) => text(record(i))))
      await reopened.append([record(reopened.lastIndex + 1)])
      await reopened.close()
    }
  })

  it('keeps every acknowledged record when the disk fills while rolling to a new segment', async () => {
    for (let capacity = 150; capacity <= 450; capacity += 7) {
      const dir = await mkdtemp(join(tmpdir(), 'pq-wal-full-'))
      const { wal, acknowledged, attempted } = await fillUp(dir, new FullDisk({ capacity }), 128)
      await wal.close()
      const records = await WriteAheadLog.read(dir, { segmentBytes: 128 })
      // The records of the failed batch that went out whole before the roll may be read back:
      // their writer was told the outcome is unknown, never that they were lost or kept.
      const recovered = records.map((r) => r.index)
      expect(recovered.slice(0, acknowledged.length), `capacity ${capacity}`).toEqual(acknowledged)
      expect(attempted.slice(0, recovered.length - acknowledged.length)).toEqual(recovered.slice(acknowledged.length))
    }
  })

  it('refuses every append after a failed one, until it is reopened', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pq-wal-full-'))
    const { wal, failure } = await fillUp(dir, new FullDisk({ capacity: 300 }))
    await expect(wal.append([record(wal.lastIndex + 1)])).rejects.toBe(failure)
    expect(wal.failure).toBe(failure)
    await wal.close()
  })

  it('treats a write that makes no progress as an error instead of spinning', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pq-wal-full-'))
    const { wal, acknowledged, failure } = await fillUp(dir, new FullDisk({ capacity: 250, stall: true }))
    expect(failure).toMatchObject({ code: 'E_STORAGE', message: expect.stringContaining('made no progress') })
    await wal.close()
    expect((await WriteAheadLog.read(dir)).map((r) => r.index)).toEqual(acknowledged)
  })

  it('stops after a failed fsync and never calls fsync on that file again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pq-wal-full-'))
    const disk = new FullDisk({ capacity: 1_000_000 })
    const { wal } = await WriteAheadLog.open(dir, { fs: disk.fs })
    await wal.append([record(1)])
    disk.failSyncs()
    await expect(wal.append([record(2)])).rejects.toMatchObject({ code: 'E_STORAGE', message: expect.stringContaining('fsync') })
    const calls = disk.syncCalls
    await expect(wal.append([record(3)])).rejects.toMatchObject({ code: 'E_STORAGE' })
    expect(disk.syncCalls).toBe(calls)
    await wal.close()
    const [segment] = (await readdir(dir)).filter((n) => n.endsWith('.log'))
    expect((await readFile(join(dir, segment!))).length).toBeGreaterThan(0)
  })
})
