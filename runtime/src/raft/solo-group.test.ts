import { mkdtemp, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Command } from '../queue/commands.js'
import { FullDisk } from '../fs/full-disk.js'
import { SoloGroup } from './solo-group.js'

const enqueue = (id: string): Command => ({
  type: 'enqueue',
  maxQueuedJobs: 1000,
  jobs: [{ id, name: 'n', payload: '1', priority: 0, idempotencyKey: undefined, retry: { maxAttempts: 1, backoff: { type: 'fixed', delayMs: 0 } }, timeoutMs: 1000, delayMs: 0 }],
})

describe('one-member group', () => {
  it('applies proposals in order and keeps them across a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pq-solo-'))
    const group = await SoloGroup.open({ dir })
    const results = await Promise.all(['a', 'b', 'c'].map((id) => group.propose([enqueue(id)])))
    expect(results.flat().map((r) => r.type)).toEqual(['enqueue', 'enqueue', 'enqueue'])
    await group.close()
    const reopened = await SoloGroup.open({ dir })
    expect(reopened.state.appliedIndex).toBe(3)
    expect(['a', 'b', 'c'].map((id) => reopened.state.get(id)?.state)).toEqual(['queued', 'queued', 'queued'])
    await reopened.close()
  })

  it('restores from a snapshot plus the log written after it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pq-solo-'))
    const group = await SoloGroup.open({ dir, snapshotEvery: 5 })
    for (let i = 0; i < 12; i++) await group.propose([enqueue(`j${i}`)])
    await group.close()
    expect(await readdir(dir)).toContain('snapshot.json')
    const reopened = await SoloGroup.open({ dir })
    expect(reopened.state.appliedIndex).toBe(12)
    expect(reopened.state.countByState().queued).toBe(12)
    await reopened.close()
  })

  it('stamps entries with a clock that never goes backwards', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pq-solo-'))
    const times = [5000, 4000]
    const group = await SoloGroup.open({ dir, now: () => times.shift() ?? 0 })
    await group.propose([enqueue('a')])
    await group.propose([enqueue('b')])
    expect(group.state.get('b')!.enqueuedAt).toBe(5000)
    await group.close()
  })

  it('answers a failed write with E_STORAGE and refuses work after it, without crashing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pq-solo-'))
    const group = await SoloGroup.open({ dir })
    await group.propose([enqueue('a')])
    // Simulate a dead disk: the log's file handle goes away under the group.
    await (group as unknown as { wal: { active: { close(): Promise<void> } } }).wal.active.close()
    await expect(group.propose([enqueue('b')])).rejects.toMatchObject({ code: 'E_STORAGE', message: expect.stringContaining('could not be written') })
    await expect(group.propose([enqueue('c')])).rejects.toMatchObject({ code: 'E_STORAGE' })
    expect(group.isLeader()).toBe(false)
  })

  it('keeps every acknowledged job when the disk fills at any byte, and serves again after a restart', async () => {
    for (let capacity = 100; capacity <= 5_000; capacity += 53) {
      const dir = await mkdtemp(join(tmpdir(), 'pq-solo-'))
      const errors: unknown[] = []
      const group = await SoloGroup.open({ dir, snapshotEvery: 7, fs: new FullDisk({ capacity }).fs, onError: (err) => errors.push(err) })
      const acknowledged: string[] = []
      // Several proposals in flight at once, so batches of many entries meet the full disk.
      for (let round = 0; round < 50 && group.isLeader(); round++) {
        const ids = [0, 1, 2].map((i) => `r${round}-${i}`)
        const settled = await Promise.allSettled(ids.map((id) => group.propose([enqueue(id)])))
        settled.forEach((s, i) => s.status === 'fulfilled' && acknowledged.push(ids[i]!))
      }
      expect(group.isLeader(), `capacity ${capacity}`).toBe(false)
      expect(errors).toEqual([expect.objectContaining({ code: 'E_STORAGE' })])
      await group.close()
      const reopened = await SoloGroup.open({ dir })
      for (const id of acknowledged) expect(reopened.state.get(id)?.state, `capacity ${capacity}, job ${id}`).toBe('queued')
      await reopened.propose([enqueue('after')])
      await reopened.close()
    }
  })
})
