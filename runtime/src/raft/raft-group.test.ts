import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Command } from '../queue/commands.js'
import { RaftGroup } from './raft-group.js'
import { InProcessHub } from './transport.js'

const ids = ['a', 'b', 'c']
const enqueue = (id: string): Command => ({
  type: 'enqueue',
  maxQueuedJobs: 1000,
  jobs: [{ id, name: 'n', payload: '1', priority: 0, idempotencyKey: undefined, retry: { maxAttempts: 2, backoff: { type: 'fixed', delayMs: 0 } }, timeoutMs: 1000, delayMs: 0 }],
})

describe('the queue in a Raft group', () => {
  const groups: RaftGroup[] = []
  afterEach(async () => {
    await Promise.all(groups.splice(0).map((g) => g.close()))
  })

  it('replicates queue state, and a member that fell behind the log gets it by snapshot', async () => {
    const hub = new InProcessHub()
    const root = await mkdtemp(join(tmpdir(), 'pq-rgroup-'))
    for (const id of ids) {
      groups.push(
        await RaftGroup.open({ id, group: 'q', membership: { voters: ids, learners: [] }, dir: join(root, id), tickMs: 5, snapshotEvery: 10, transport: async (receive) => hub.join(id, receive) }),
      )
    }
    await expect.poll(() => groups.filter((g) => g.isLeader()).length, { timeout: 5000 }).toBe(1)
    const leader = groups.find((g) => g.isLeader())!
    const behind = groups.find((g) => g !== leader)!
    await expect(behind.propose([enqueue('x')])).rejects.toMatchObject({ code: 'E_NOT_LEADER' })
    hub.block(behind.raft.id)
    for (let i = 0; i < 40; i++) await leader.propose([enqueue(`j${i}`)])
    await leader.propose([{ type: 'lease', worker: 'w/1', count: 5, leaseMs: 60_000, exclude: [] }])
    // Snapshots come every 10 entries or as many as the state holds jobs, stretched by up to half:
    // entries that add no job take the log past that for any member.
    for (let i = 0; i < 100; i++) await leader.propose([{ type: 'advance' }])
    hub.unblock(behind.raft.id)
    await expect.poll(() => behind.state.countByState(), { timeout: 5000 }).toEqual(leader.state.countByState())
    expect(behind.raft.core.log.snapshot).toBeDefined()
    expect(behind.state.leasesOf('w/1').map((j) => j.id)).toEqual(leader.state.leasesOf('w/1').map((j) => j.id))
    expect(behind.state.get('j0')?.enqueuedAt).toBe(leader.state.get('j0')?.enqueuedAt)
  })
})
