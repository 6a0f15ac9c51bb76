import { mkdtemp, readdir, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { RaftStorage } from './raft-storage.js'
import type { LogEntry, Ready } from './types.js'

const membership = { voters: ['a', 'b', 'c'], learners: [] }
const entry = (index: number, term: number, data = `e${index}`): LogEntry => ({ index, term, kind: 'data', data })
const ready = (parts: Partial<Ready>): Ready => ({ hardState: undefined, entries: [], snapshot: undefined, messages: [], committed: [], reads: [], ...parts })

describe('Raft storage', () => {
  it('replays a replaced suffix as the core left it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pq-rs-'))
    const { storage } = await RaftStorage.open(dir, membership)
    await storage.save(ready({ entries: [entry(1, 1), entry(2, 1), entry(3, 1)], hardState: { term: 1, vote: 'a', commit: 1 } }))
    // A new leader of term 2 overwrote indexes 2 and 3 with its own entry.
    await storage.save(ready({ entries: [entry(2, 2, 'x')], hardState: { term: 2, vote: 'b', commit: 2 } }))
    await storage.close()
    const { restored } = await RaftStorage.open(dir, membership)
    expect(restored.entries).toEqual([entry(1, 1), entry(2, 2, 'x')])
    expect(restored.hardState).toEqual({ term: 2, vote: 'b', commit: 2 })
  })

  it('writes nothing for a commit index alone, and carries it with the next record', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pq-rs-'))
    const { storage } = await RaftStorage.open(dir, membership)
    await storage.save(ready({ entries: [entry(1, 1), entry(2, 1)], hardState: { term: 1, vote: 'a', commit: 0 } }))
    const walBytes = async () => (await Promise.all((await readdir(join(dir, 'wal'))).map(async (f) => (await stat(join(dir, 'wal', f))).size))).reduce((a, b) => a + b, 0)
    const before = await walBytes()
    await storage.save(ready({ hardState: { term: 1, vote: 'a', commit: 2 } }))
    expect(await walBytes()).toBe(before)
    // A crash now finds the older commit index: lower is safe, the leader repeats it.
    expect((await RaftStorage.open(dir, membership)).restored.hardState).toEqual({ term: 1, vote: 'a', commit: 0 })
    await storage.save(ready({ entries: [entry(3, 1)] }))
    await storage.close()
    const { restored } = await RaftStorage.open(dir, membership)
    expect(restored.hardState).toEqual({ term: 1, vote: 'a', commit: 2 })
    expect(restored.entries.map((e) => e.index)).toEqual([1, 2, 3])
  })

  it('starts the log afresh after a snapshot, keeping the hard state and later entries', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pq-rs-'))
    const { storage } = await RaftStorage.open(dir, membership)
    await storage.save(ready({ entries: [1, 2, 3, 4].map((i) => entry(i, 1)), hardState: { term: 1, vote: undefined, commit: 4 } }))
    await storage.saveSnapshot({ index: 3, term: 1, membership, data: { state: 'at 3' } }, [entry(4, 1)])
    await storage.save(ready({ entries: [entry(5, 1)] }))
    await storage.close()
    const { restored } = await RaftStorage.open(dir, membership)
    expect(restored.snapshot).toMatchObject({ index: 3, data: { state: 'at 3' } })
    expect(restored.entries.map((e) => e.index)).toEqual([4, 5])
    expect(restored.hardState).toEqual({ term: 1, vote: undefined, commit: 4 })
  })

  it('writes a snapshot beside a log that goes on, and trims the log only once it is on disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pq-rs-'))
    const { storage } = await RaftStorage.open(dir, membership)
    await storage.save(ready({ entries: [1, 2, 3].map((i) => entry(i, 1)), hardState: { term: 1, vote: undefined, commit: 3 } }))
    const jobs = Array.from({ length: 2_500 }, (_, i) => ({ id: `job-${i}`, state: 'completed' }))
    const writing = storage.writeSnapshotFile({ index: 3, term: 1, membership, data: { jobs } })
    // The log is written while the snapshot is: trimming for it does nothing until it is there.
    await storage.save(ready({ entries: [entry(4, 1)] }))
    await storage.trimLog(3)
    expect(await writing).toBe(true)
    const before = await RaftStorage.open(dir, membership)
    expect(before.restored.entries.map((e) => e.index)).toEqual([4])
    await storage.trimLog(3)
    await storage.save(ready({ entries: [entry(5, 1)] }))
    await storage.close()
    const { restored } = await RaftStorage.open(dir, membership)
    expect(restored.snapshot).toMatchObject({ index: 3, data: { jobs } })
    expect(restored.entries.map((e) => e.index)).toEqual([4, 5])
  })

  it('skips a snapshot of its own that a newer one from the leader overtook', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pq-rs-'))
    const { storage } = await RaftStorage.open(dir, membership)
    await storage.save(ready({ entries: [1, 2].map((i) => entry(i, 1)), hardState: { term: 1, vote: undefined, commit: 2 } }))
    await storage.saveSnapshot({ index: 9, term: 2, membership, data: { state: 'at 9' } }, [])
    expect(await storage.writeSnapshotFile({ index: 2, term: 1, membership, data: { state: 'at 2' } })).toBe(false)
    await storage.trimLog(2)
    await storage.close()
    const { restored } = await RaftStorage.open(dir, membership)
    expect(restored.snapshot).toMatchObject({ index: 9, data: { state: 'at 9' } })
  })

  it('after trimming, keeps the entries past the snapshot through further snapshots and restarts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pq-rs-'))
    let { storage } = await RaftStorage.open(dir, membership)
    await storage.save(ready({ entries: [1, 2, 3].map((i) => entry(i, 1)), hardState: { term: 1, vote: 'a', commit: 3 } }))
    await storage.save(ready({ entries: [4, 5].map((i) => entry(i, 1)), hardState: { term: 1, vote: 'a', commit: 5 } }))
    expect(await storage.writeSnapshotFile({ index: 3, term: 1, membership, data: { at: 3 } })).toBe(true)
    await storage.trimLog(3)
    await storage.save(ready({ entries: [entry(6, 2)], hardState: { term: 2, vote: 'b', commit: 6 } }))
    await storage.close()
    ;({ storage } = await RaftStorage.open(dir, membership))
    expect(await storage.writeSnapshotFile({ index: 3, term: 1, membership, data: { at: 3 } })).toBe(false)
    expect(await storage.writeSnapshotFile({ index: 5, term: 1, membership, data: { at: 5 } })).toBe(true)
    await storage.trimLog(5)
    await storage.close()
    const { restored } = await RaftStorage.open(dir, membership)
    expect(restored.snapshot).toMatchObject({ index: 5, data: { at: 5 } })
    expect(restored.entries.map((e) => e.index)).toEqual([6])
    expect(restored.hardState).toEqual({ term: 2, vote: 'b', commit: 6 })
  })
})
