import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { RaftNode, type StateMachine } from './node.js'
import { InProcessHub } from './transport.js'

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

  async function boot(hub: InProcessHub, dirs: Record<string, string>, id: string, machines: Record<string, ListMachine>, snapshotEvery = 10_000) {
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
      onError: (err) => errors.push(err),
    })
    node.start()
    open.push(node)
    return node
  }

  async function cluster(snapshotEvery?: number) {
    const hub = new InProcessHub()
    const root = await mkdtemp(join(tmpdir(), 'pq-raft-'))
    const dirs = Object.fromEntries(ids.map((id) => [id, join(root, id)]))
    const machines: Record<string, ListMachine> = {}
    const nodes: Record<string, RaftNode<number>> = {}
    for (const id of ids) nodes[id] = await boot(hub, dirs, id, machines, snapshotEvery)
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
})
