import { appendFile, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { WriteAheadLog, type WalRecord } from './wal.js'

const text = (r: WalRecord) => new TextDecoder().decode(r.bytes)
const record = (index: number, body = `entry ${index}`): WalRecord => ({ index, bytes: new TextEncoder().encode(body) })

async function tempDir() {
  return mkdtemp(join(tmpdir(), 'pq-wal-'))
}

async function onlySegment(dir: string) {
  const [name] = (await readdir(dir)).filter((n) => n.endsWith('.log'))
  return join(dir, name!)
}

describe('write-ahead log', () => {
  it('returns every appended record after a reopen, in order', async () => {
    const dir = await tempDir()
    const { wal } = await WriteAheadLog.open(dir)
    await wal.append([record(1), record(2)])
    await wal.append([record(3)])
    await wal.close()
    const { wal: again, records } = await WriteAheadLog.open(dir)
    expect(records.map(text)).toEqual(['entry 1', 'entry 2', 'entry 3'])
    expect(again.lastIndex).toBe(3)
    await again.append([record(4)])
    await again.close()
  })

  it('cuts off a torn last record and keeps the ones before it', async () => {
    const dir = await tempDir()
    const { wal } = await WriteAheadLog.open(dir)
    await wal.append([record(1), record(2)])
    await wal.close()
    const segment = await onlySegment(dir)
    const intact = (await stat(segment)).size
    // A crash in the middle of writing record 3: its header claims 100 bytes, 5 arrived.
    const torn = Buffer.alloc(13)
    torn.writeUInt32LE(100, 0)
    await appendFile(segment, torn)
    const { wal: reopened, records } = await WriteAheadLog.open(dir)
    expect(records.map(text)).toEqual(['entry 1', 'entry 2'])
    expect((await stat(segment)).size).toBe(intact)
    await reopened.append([record(3)])
    await reopened.close()
    expect((await WriteAheadLog.read(dir)).map(text)).toEqual(['entry 1', 'entry 2', 'entry 3'])
  })

  it('treats a last record whose checksum fails as torn', async () => {
    const dir = await tempDir()
    const { wal } = await WriteAheadLog.open(dir)
    await wal.append([record(1), record(2)])
    await wal.close()
    const segment = await onlySegment(dir)
    const data = await readFile(segment)
    data[data.length - 1]! ^= 0xff
    await writeFile(segment, data)
    expect((await WriteAheadLog.read(dir)).map(text)).toEqual(['entry 1'])
  })

  it('refuses to open when a record before the end is damaged', async () => {
    const dir = await tempDir()
    const { wal } = await WriteAheadLog.open(dir)
    await wal.append([record(1), record(2), record(3)])
    await wal.close()
    const segment = await onlySegment(dir)
    const data = await readFile(segment)
    data[10]! ^= 0xff // inside the payload of record 1
    await writeFile(segment, data)
    await expect(WriteAheadLog.open(dir)).rejects.toMatchObject({ code: 'E_LOG_CORRUPT', message: expect.stringContaining('record 1') })
  })

  it('rolls segments and deletes those a snapshot covers', async () => {
    const dir = await tempDir()
    const { wal } = await WriteAheadLog.open(dir, { segmentBytes: 64 })
    for (let i = 1; i <= 20; i++) await wal.append([record(i, 'x'.repeat(30))])
    const before = (await readdir(dir)).length
    await wal.compactThrough(15)
    await wal.close()
    const records = await WriteAheadLog.read(dir, { segmentBytes: 64 })
    expect(before).toBeGreaterThan(5)
    expect(records[0]!.index).toBeLessThanOrEqual(16)
    expect(records.at(-1)!.index).toBe(20)
  })
})
