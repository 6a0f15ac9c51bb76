// Raft behaviours, each scripted on the in-process cluster: the situations from the Raft paper
// and thesis that the random simulator only meets by chance.
import { describe, expect, it } from 'vitest'
import { Cluster, TICK, type SimNode } from './cluster.js'
import { checkHistory, kvModel } from './linearizability.js'
import type { ConfChange, Message } from '../../runtime/src/raft/types.js'

function electedCluster(options: ConstructorParameters<typeof Cluster>[0]): Cluster {
  const cluster = new Cluster(options)
  expect(cluster.runUntil(() => cluster.leader() !== undefined, 200 * TICK)).toBe(true)
  cluster.run(5 * TICK)
  return cluster
}

function leaderOf(cluster: Cluster) {
  const leader = cluster.leader()
  if (!leader?.core) throw new Error('no leader')
  return leader
}

function writeAndWait(cluster: Cluster, client: number, key: string, value: string): void {
  expect(cluster.write(client, key, value, leaderOf(cluster).id)).toBe(true)
  expect(cluster.runUntil(() => !cluster.hasPendingWrite(client), 100 * TICK)).toBe(true)
}

describe('Raft scenarios', () => {
  it('pre-vote: a partitioned follower that rejoins does not depose a healthy leader', () => {
    const cluster = electedCluster({ peers: 3, seed: 1 })
    const leader = leaderOf(cluster)
    const term = leader.core!.term
    const follower = cluster.nodes.find((n) => n !== leader)!
    cluster.isolate(follower.id)
    cluster.run(100 * TICK)
    expect(follower.core!.term).toBe(term)
    cluster.heal()
    cluster.run(50 * TICK)
    expect(cluster.leader()).toBe(leader)
    expect(leader.core!.term).toBe(term)
    expect(cluster.violations).toEqual([])
  })

  it('without pre-vote the same rejoin bumps the term and forces an election', () => {
    const cluster = electedCluster({ peers: 3, seed: 1, preVote: false, checkQuorum: false })
    const leader = leaderOf(cluster)
    const term = leader.core!.term
    const follower = cluster.nodes.find((n) => n !== leader)!
    cluster.isolate(follower.id)
    cluster.run(100 * TICK)
    cluster.heal()
    cluster.run(50 * TICK)
    expect(leaderOf(cluster).core!.term).toBeGreaterThan(term)
  })

  it('a follower told that the leader is unreachable campaigns within a few ticks; while others still hear the leader, nothing changes', () => {
    const cluster = electedCluster({ peers: 3, seed: 4 })
    const leader = leaderOf(cluster)
    const term = leader.core!.term
    const [a, b] = cluster.nodes.filter((n) => n !== leader)
    // A false alarm at one follower: the other still hears the leader and refuses its pre-vote.
    a!.core!.leaderUnreachable(leader.id)
    cluster.run(20 * TICK)
    expect(cluster.leader()).toBe(leader)
    expect(leader.core!.term).toBe(term)
    // The leader dies; both followers notice at once and elect a new leader well within one election timeout.
    cluster.crash(leader.id)
    a!.core!.leaderUnreachable(leader.id)
    b!.core!.leaderUnreachable(leader.id)
    expect(cluster.runUntil(() => cluster.leader() !== undefined && cluster.leader() !== leader, 8 * TICK)).toBe(true)
    expect(cluster.violations).toEqual([])
  })

  it('check-quorum: an isolated leader steps down while the others elect a new one', () => {
    const cluster = electedCluster({ peers: 5, seed: 2 })
    const old = leaderOf(cluster)
    cluster.isolate(old.id)
    expect(cluster.runUntil(() => !old.core!.isLeader, 30 * TICK)).toBe(true)
    expect(cluster.runUntil(() => cluster.nodes.some((n) => n !== old && n.core?.isLeader), 100 * TICK)).toBe(true)
    expect(cluster.violations).toEqual([])
  })

  it("figure 8: a leader does not commit an older term's entry by counting its replicas", () => {
    const cluster = electedCluster({ peers: 5, seed: 11, maxEntriesPerMessage: 1, slowDisk: 0 })
    writeAndWait(cluster, 1, 'a', '1')
    const first = leaderOf(cluster)
    const [a, b, c, d] = cluster.nodes.filter((n) => n !== first) as [SimNode, SimNode, SimNode, SimNode]
    const k = first.core!.log.lastIndex() + 1
    const termAt = (node: SimNode, index: number) => node.core!.log.term(index)
    // 1. The first leader's entry at k (term t) reaches one follower only, then it dies.
    for (const n of [b, c, d]) cluster.partition(first.id, n.id)
    expect(cluster.write(1, 'x', 'old', first.id)).toBe(true)
    expect(cluster.runUntil(() => a.core!.log.lastIndex() >= k, 20 * TICK)).toBe(true)
    const oldTerm = termAt(a, k)!
    cluster.crash(first.id)
    // 2. b, c and d elect one of them, whose entry at k (its no-op, a newer term) stays with it.
    cluster.isolate(a.id)
    cluster.dropIf = (m) => m.type === 'append' && [b, c, d].some((n) => n.id === m.from)
    expect(cluster.runUntil(() => [b, c, d].some((n) => n.core!.isLeader), 300 * TICK)).toBe(true)
    const second = [b, c, d].find((n) => n.core!.isLeader)!
    const [y, z] = [b, c, d].filter((n) => n !== second) as [SimNode, SimNode]
    expect(termAt(second, k)).toBeGreaterThan(oldTerm)
    cluster.crash(second.id)
    cluster.heal()
    // 3. The first (or a, which holds the same entry) leads again and sends the old entry to y:
    // it is then on a majority (the leader, the other holder, y), its own no-op on a minority.
    cluster.dropIf = (m) => m.type === 'append' && (m.from === first.id || m.from === a.id) && (m.to === z.id || (m.to === y.id && termAt(y, k) === oldTerm))
    cluster.restart(first.id)
    expect(cluster.runUntil(() => termAt(y, k) === oldTerm && (first.core?.isLeader || a.core?.isLeader) === true, 300 * TICK)).toBe(true)
    const third = first.core!.isLeader ? first : a
    const other = third === first ? a : first
    cluster.run(3)
    expect([third, other, y].every((n) => termAt(n, k) === oldTerm)).toBe(true)
    expect(third.core!.log.committed).toBeLessThan(k)
    // 4. It dies; the second comes back and, with the votes of y and z, overwrites k: legal only
    // because k was never committed.
    cluster.crash(third.id)
    cluster.isolate(other.id)
    cluster.dropIf = undefined
    cluster.restart(second.id)
    expect(cluster.runUntil(() => second.core!.isLeader && termAt(y, k) === termAt(second, k), 300 * TICK)).toBe(true)
    cluster.heal()
    cluster.restart(third.id)
    writeAndWait(cluster, 1, 'a', '2')
    expect(cluster.violations).toEqual([])
  })

  it('transfers leadership to a chosen voter', () => {
    const cluster = electedCluster({ peers: 3, seed: 3 })
    const leader = leaderOf(cluster)
    const target = cluster.nodes.find((n) => n !== leader)!
    writeAndWait(cluster, 1, 'a', '1')
    leader.core!.transferLeadership(target.id)
    expect(() => leader.core!.propose([{ client: 1, seq: 99, key: 'x', value: 'y' }])).toThrow(/leadership is moving/)
    expect(cluster.runUntil(() => target.core!.isLeader, 20 * TICK)).toBe(true)
    expect(target.core!.term).toBe(leader.core!.term)
    writeAndWait(cluster, 1, 'a', '2')
    expect(cluster.violations).toEqual([])
  })

  it('a follower that fell behind the compacted log catches up from a snapshot', () => {
    const cluster = electedCluster({ peers: 3, seed: 4, compactEvery: 10 })
    const leader = leaderOf(cluster)
    const lagging = cluster.nodes.find((n) => n !== leader)!
    cluster.crash(lagging.id)
    for (let i = 0; i < 60; i++) writeAndWait(cluster, 1, `k${i % 4}`, `v${i}`)
    expect(leader.core!.log.firstIndex()).toBeGreaterThan(lagging.storage.restored(cluster.initial).entries.length + 1)
    cluster.restart(lagging.id)
    expect(cluster.runUntil(() => lagging.core!.log.applied === leader.core!.log.applied, 100 * TICK)).toBe(true)
    expect(lagging.core!.log.snapshot?.index).toBeGreaterThan(0)
    expect(Object.fromEntries(lagging.kv.data)).toEqual(Object.fromEntries(leader.kv.data))
    expect(cluster.violations).toEqual([])
  })

  it('removes a member, adds it back as a learner and promotes it, all under load', () => {
    const cluster = electedCluster({ peers: 5, seed: 5, compactEvery: 25 })
    let value = 0
    const load = (steps: number) => {
      for (let i = 0; i < steps; i++) {
        for (const client of [1, 2]) {
          const leader = cluster.leader()
          if (leader && !cluster.hasPendingWrite(client) && cluster.random.chance(0.2)) cluster.write(client, `k${client}`, `v${++value}`, leader.id)
        }
        cluster.step()
      }
    }
    const change = (conf: ConfChange) => {
      const leader = leaderOf(cluster)
      const index = leader.core!.proposeConfChange(conf)
      expect(cluster.runUntil(() => leader.core!.log.applied >= index, 100 * TICK)).toBe(true)
    }
    load(20 * TICK)
    const victim = cluster.nodes.find((n) => !n.core!.isLeader)!.id
    change({ type: 'remove', node: victim })
    expect(leaderOf(cluster).core!.membership.voters).not.toContain(victim)
    load(30 * TICK)
    change({ type: 'addLearner', node: victim })
    load(30 * TICK)
    expect(leaderOf(cluster).core!.membership.learners).toEqual([victim])
    change({ type: 'addVoter', node: victim })
    load(30 * TICK)
    const leader = leaderOf(cluster)
    expect(leader.core!.membership).toEqual({ voters: cluster.nodes.map((n) => n.id).sort(), learners: [] })
    expect(cluster.runUntil(() => cluster.node(victim).core!.log.applied === leader.core!.log.committed, 100 * TICK)).toBe(true)
    expect(value).toBeGreaterThan(20)
    expect(cluster.violations).toEqual([])
    expect(checkHistory(kvModel, cluster.history)).toEqual({ ok: true })
  })

  it('applies a retried client request once', () => {
    const cluster = electedCluster({ peers: 3, seed: 6 })
    const leader = leaderOf(cluster)
    expect(cluster.write(7, 'counter', 'once', leader.id)).toBe(true)
    expect(cluster.retryWrite(7, leader.id)).toBe(true)
    expect(cluster.retryWrite(7, leader.id)).toBe(true)
    cluster.run(20 * TICK)
    for (const node of cluster.nodes) {
      expect(node.kv.data.get('counter')).toBe('once')
      expect(node.kv.duplicates).toBe(2)
    }
  })

  it('serves linearizable reads through ReadIndex, also from a new leader', () => {
    const cluster = electedCluster({ peers: 3, seed: 7 })
    writeAndWait(cluster, 1, 'x', 'first')
    const leader = leaderOf(cluster)
    expect(cluster.read(2, 'x', leader.id)).toBe(true)
    expect(cluster.runUntil(() => !cluster.hasPendingRead(2), 50 * TICK)).toBe(true)
    cluster.isolate(leader.id)
    expect(cluster.runUntil(() => cluster.nodes.some((n) => n !== leader && n.core?.isLeader), 100 * TICK)).toBe(true)
    const next = cluster.nodes.find((n) => n !== leader && n.core?.isLeader)!
    expect(cluster.read(2, 'x', next.id)).toBe(true)
    expect(cluster.runUntil(() => !cluster.hasPendingRead(2), 50 * TICK)).toBe(true)
    const reads = cluster.history.filter((op) => op.input.kind === 'get')
    expect(reads.map((op) => op.output)).toEqual([{ value: 'first' }, { value: 'first' }])
  })

  it('answers reads from the leader lease without a heartbeat round when lease reads are on', () => {
    // Disks that never hold a Ready back: the two steps below are about rounds on the network,
    // and a slow disk (a random draw per step) would hold the read's Ready for a step or more
    // (over seeds 1-40, 6-7 of them with slow disks, none without).
    const cluster = electedCluster({ peers: 3, seed: 8, leaseReads: true, slowDisk: 0 })
    writeAndWait(cluster, 1, 'x', 'v')
    const leader = leaderOf(cluster)
    expect(cluster.read(2, 'x', leader.id)).toBe(true)
    cluster.step()
    cluster.step()
    expect(cluster.hasPendingRead(2)).toBe(false)
    expect(cluster.history.at(-1)).toMatchObject({ input: { kind: 'get' }, output: { value: 'v' } })
  })

  it('catches a follower up in appends bounded in bytes, however far behind it is', () => {
    const cluster = electedCluster({ peers: 3, seed: 4, maxEntriesPerMessage: 512, maxBytesPerMessage: 10_000 })
    const leader = leaderOf(cluster)
    const follower = cluster.nodes.find((n) => n !== leader)!
    cluster.isolate(follower.id)
    for (let i = 0; i < 30; i++) writeAndWait(cluster, 1, `k${i % 3}`, `${i}:${'v'.repeat(3_000)}`)
    const appends: number[] = []
    const inner = cluster as unknown as { send(m: Message): void }
    const send = inner.send.bind(cluster)
    inner.send = (m: Message) => {
      if (m.type === 'append' && m.to === follower.id && m.entries.length > 0) appends.push(m.entries.length)
      send(m)
    }
    cluster.heal()
    expect(cluster.runUntil(() => follower.core!.log.lastIndex() === leader.core!.log.lastIndex(), 200 * TICK)).toBe(true)
    // 3,000-byte entries under a 10,000-byte bound: at most four to a message, never all thirty at once.
    expect(Math.max(...appends)).toBeLessThanOrEqual(4)
    expect(appends.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(30)
    expect(cluster.violations).toEqual([])
  })
})
