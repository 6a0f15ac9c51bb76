import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { RaftNode, type StateMachine } from './node.js'
import { InProcessHub } from './transport.js'
import type { FileSystem } from '../fs/file-system.js'
import { FullDisk } from '../fs/full-disk.js'

class ListMachine implements StateMachine<number> {
  items: string[] = []
  apply(data: unknown): number {
    return this.items.push(data as string)
  }
  snapshot(): unknown {
    return [...this.items]
  }
  restore(data: unknown): void {
    this.items = [...(data as string[])]
  }
}

const ids = ['a', 'b', 'c']

describe('Raft node with durable storage', () => {
  const open: RaftNode<number>[] = []
  const errors: unknown[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((n) => n.close()))
    expect(errors.splice(0)).toEqual([])
  })

  async function boot(hub: InProcessHub, dirs: Record<string, string>, id: string, machines: Record<string, ListMachine>, snapshotEvery = 10_000, fileSystem?: FileSystem) {
    machines[id] = new ListMachine()
    const node: RaftNode<number> = await RaftNode.open({
      id,
      group: 'g',
      membership: { voters: ids, learners: [] },
      dir: dirs[id]!,
      stateMachine: machines[id]!,
      transport: (self) => hub.join(id, (m) => self.receive(m)),
      tickMs: 5,
      snapshotEvery,
      fs: fileSystem,
      onError: (err) => errors.push(err),
    })
    node.start()
    open.push(node)
    return node
  }

  async function cluster(snapshotEvery?: number, disks: Record<string, FullDisk> = {}) {
    const hub = new InProcessHub()
    const root = await mkdtemp(join(tmpdir(), 'pq-raft-'))
    const dirs = Object.fromEntries(ids.map((id) => [id, join(root, id)]))
    const machines: Record<string, ListMachine> = {}
    const nodes: Record<string, RaftNode<number>> = {}
    for (const id of ids) nodes[id] = await boot(hub, dirs, id, machines, snapshotEvery, disks[id]?.fs)
    return { hub, dirs, machines, nodes }
  }

  async function leaderOf(nodes: Record<string, RaftNode<number>>): Promise<RaftNode<number>> {
    await expect.poll(() => Object.values(nodes).filter((n) => n.core.isLeader).length, { timeout: 5000 }).toBe(1)
    return Object.values(nodes).find((n) => n.core.isLeader)!
  }

  it('commits proposals on every member and answers each with its result', async () => {
    const { nodes, machines } = await cluster()
    const leader = await leaderOf(nodes)
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => leader.propose([`x${i}`])))
    expect(results.flat()).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    await expect.poll(() => ids.map((id) => machines[id]!.items.length)).toEqual([50, 50, 50])
    const follower = Object.values(nodes).find((n) => n !== leader)!
    await expect(follower.propose(['nope'])).rejects.toMatchObject({ code: 'E_NOT_LEADER' })
  })

  it('keeps term, vote and entries across a restart of the whole group', async () => {
    const { hub, dirs, nodes } = await cluster()
    const leader = await leaderOf(nodes)
    await leader.propose(['one', 'two', 'three'])
    const term = leader.core.term
    await Promise.all(open.splice(0).map((n) => n.close()))
    for (const id of ids) hub.leave(id)
    const machines: Record<string, ListMachine> = {}
    const again: Record<string, RaftNode<number>> = {}
    for (const id of ids) again[id] = await boot(hub, dirs, id, machines)
    for (const node of Object.values(again)) expect(node.core.term).toBeGreaterThanOrEqual(term)
    await leaderOf(again)
    await expect.poll(() => ids.map((id) => machines[id]!.items.join(','))).toEqual(ids.map(() => 'one,two,three'))
  })

  it('brings a member that missed compacted entries up to date with a snapshot', async () => {
    const { hub, dirs, nodes, machines } = await cluster(20)
    const leader = await leaderOf(nodes)
    const lagging = Object.values(nodes).find((n) => n !== leader)!
    hub.block(lagging.id)
    for (let i = 0; i < 60; i++) await leader.propose([`v${i}`])
    expect(leader.core.log.firstIndex()).toBeGreaterThan(lagging.core.log.lastIndex() + 1)
    hub.unblock(lagging.id)
    await expect.poll(() => machines[lagging.id]!.items.length, { timeout: 5000 }).toBe(60)
    expect(lagging.core.log.snapshot).toBeDefined()
    await Promise.all(open.splice(0).map((n) => n.close()))
    hub.leave(lagging.id)
    const restarted: Record<string, ListMachine> = {}
    await boot(hub, dirs, lagging.id, restarted)
    expect(restarted[lagging.id]!.items.length).toBeGreaterThanOrEqual(40)
  })

  for (const role of ['leader', 'follower'] as const) {
    it(`stops a ${role} whose disk fills, loses nothing acknowledged, and catches it up after a restart`, async () => {
      const disks = { a: new FullDisk({ capacity: 6_000 }) }
      const { hub, dirs, nodes, machines: machinesBefore } = await cluster(undefined, disks)
      const full = nodes.a!
      let leader = await leaderOf(nodes)
      if ((leader === full) !== (role === 'leader')) {
        leader.transferLeadership(role === 'leader' ? 'a' : 'b')
        await expect.poll(() => nodes[role === 'leader' ? 'a' : 'b']!.core.isLeader, { timeout: 5000 }).toBe(true)
      }
      const acknowledged: string[] = []
      const padding = 'x'.repeat(200)
      let afterStop = 0
      for (let i = 0; i < 400 && afterStop < 20; i++) {
        const current = Object.values(nodes).find((n) => n.isLeader)
        if (!current) {
          await new Promise((r) => setTimeout(r, 20))
          continue
        }
        try {
          await current.propose([`v${i} ${padding}`])
          acknowledged.push(`v${i} ${padding}`)
        } catch (err) {
          expect((err as { code: string }).code).toMatch(/E_STORAGE|E_NOT_LEADER/)
        }
        if (full.stoppedBy) afterStop += 1
      }
      expect(full.stoppedBy, `${acknowledged.length} acknowledged, ${disks.a.used} bytes written`).toMatchObject({ code: 'E_STORAGE', message: expect.stringContaining('ENOSPC') })
      expect(full.isLeader).toBe(false)
      expect(errors.splice(0)).toEqual([full.stoppedBy])
      expect(afterStop).toBe(20)

      // Only the member whose disk filled restarts; it catches up with no new proposal to prompt it.
      await full.close()
      hub.leave('a')
      open.splice(open.indexOf(full), 1)
      const machines: Record<string, ListMachine> = { b: machinesBefore.b!, c: machinesBefore.c! }
      await boot(hub, dirs, 'a', machines)
      const expected = acknowledged
      // Every member, the one whose disk filled included, holds every acknowledged entry in order.
      for (const id of ids) {
        await expect.poll(() => machines[id]!.items.filter((v) => expected.includes(v)), { timeout: 5000 }).toEqual(expected)
      }
      expect(new Set(ids.map((id) => machines[id]!.items.join('|'))).size).toBe(1)
      // And once it has, the group survives losing one of the others.
      const survivor = Object.values(nodes).find((n) => n !== full && !n.isLeader)!
      const lost = Object.values(nodes).find((n) => n !== full && n !== survivor)!
      await lost.close()
      hub.leave(lost.id)
      await expect.poll(() => Object.values({ a: open.at(-1)!, s: survivor }).some((n) => n.isLeader), { timeout: 5000 }).toBe(true)
    })
  }
})
