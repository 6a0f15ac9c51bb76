import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { RaftNode, type StateMachine } from '../raft/node.js'
import type { Message } from '../raft/types.js'
import { createPeerNode, type PeerNode } from './node.js'
import { Libp2pRaftTransport, RAFT_PROTOCOL } from './raft-transport.js'

class Counter implements StateMachine<number> {
  total = 0
  apply(data: unknown): number {
    return (this.total += data as number)
  }
  snapshot(): unknown {
    return this.total
  }
  restore(data: unknown): void {
    this.total = data as number
  }
}

describe('Raft over libp2p on 127.0.0.1', () => {
  const cleanup: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const close of cleanup.splice(0).reverse()) await close()
  })

  async function group(size: number) {
    const libp2p: PeerNode[] = []
    for (let i = 0; i < size; i++) {
      const node = await createPeerNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
      libp2p.push(node)
      cleanup.push(async () => {
        await node.stop()
      })
    }
    const ids = libp2p.map((n) => n.peerId.toString())
    const addrs = new Map(libp2p.map((n) => [n.peerId.toString(), n.getMultiaddrs().map((a) => a.toString())]))
    const root = await mkdtemp(join(tmpdir(), 'pq-raft-net-'))
    const counters: Counter[] = []
    const nodes: RaftNode<number>[] = []
    for (const [i, node] of libp2p.entries()) {
      const counter = new Counter()
      counters.push(counter)
      const members = new Map([...addrs].filter(([id]) => id !== ids[i]))
      let transport!: Libp2pRaftTransport
      let raft!: RaftNode<number>
      transport = await Libp2pRaftTransport.listen(node, 'q', { members }, (m) => raft.receive(m))
      raft = await RaftNode.open({ id: ids[i]!, group: 'q', membership: { voters: ids, learners: [] }, dir: join(root, `n${i}`), stateMachine: counter, transport: () => transport, tickMs: 10 })
      raft.start()
      nodes.push(raft)
      cleanup.push(async () => {
        await raft.close()
        await transport.close()
      })
    }
    return { libp2p, nodes, counters, ids }
  }

  it('elects a leader and replicates to every member', async () => {
    const { nodes, counters } = await group(3)
    await expect.poll(() => nodes.filter((n) => n.core.isLeader).length, { timeout: 10_000 }).toBe(1)
    const leader = nodes.find((n) => n.core.isLeader)!
    const results = await Promise.all(Array.from({ length: 100 }, () => leader.propose([1])))
    expect(Math.max(...results.flat().map(Number))).toBe(100)
    await expect.poll(() => counters.map((c) => c.total), { timeout: 5_000 }).toEqual([100, 100, 100])
  })

  it('refuses Raft streams from a peer that is not a member of the group', async () => {
    const { libp2p, nodes, ids } = await group(3)
    await expect.poll(() => nodes.filter((n) => n.core.isLeader).length, { timeout: 10_000 }).toBe(1)
    const term = Math.max(...nodes.map((n) => n.core.term))
    const intruder = await createPeerNode({ privateKey: await generateKeyPair('Ed25519'), listen: [] })
    cleanup.push(async () => {
      await intruder.stop()
    })
    const stream = await intruder.dialProtocol(libp2p[0]!.getMultiaddrs()[0]!, `${RAFT_PROTOCOL}/q`)
    const forged: Message = { group: 'q', from: ids[1]!, to: ids[0]!, term: term + 50, type: 'timeoutNow' }
    await lpStream(stream).write(new TextEncoder().encode(JSON.stringify([forged]))).catch(() => undefined)
    await new Promise((r) => setTimeout(r, 300))
    expect(Math.max(...nodes.map((n) => n.core.term))).toBeLessThan(term + 50)
  })

  it('carries a message larger than a frame, such as the snapshot of a big queue, in one piece', async () => {
    const [a, b] = await Promise.all([0, 1].map(async () => createPeerNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })))
    cleanup.push(async () => {
      await a!.stop()
      await b!.stop()
    })
    const [idA, idB] = [a!.peerId.toString(), b!.peerId.toString()]
    const received: Message[] = []
    const sender = await Libp2pRaftTransport.listen(a!, 'q', { members: new Map([[idB, b!.getMultiaddrs().map(String)]]) }, () => undefined)
    const receiver = await Libp2pRaftTransport.listen(b!, 'q', { members: new Map([[idA, a!.getMultiaddrs().map(String)]]) }, (m) => received.push(m))
    cleanup.push(async () => {
      await sender.close()
      await receiver.close()
    })
    // 40 MB of state: more than twice the frame limit, ten chunks on the wire.
    const data = { jobs: 'x'.repeat(40 * 1024 * 1024) }
    const snapshot: Message = { group: 'q', from: idA, to: idB, term: 3, type: 'snapshot', snapshot: { index: 9, term: 2, membership: { voters: [idA, idB], learners: [] }, data } }
    const heartbeat = (commit: number): Message => ({ group: 'q', from: idA, to: idB, term: 3, type: 'heartbeat', commit, readCtx: undefined })
    const small = heartbeat(9)
    // The first send opens the stream; send until it is there, then the big message and one after it.
    await expect.poll(() => (sender.send([small]), received.length), { timeout: 5_000 }).toBeGreaterThan(0)
    sender.send([snapshot])
    const marker = heartbeat(10)
    sender.send([marker])
    // The big message arrives whole, and what was sent after it arrives after it.
    await expect.poll(() => received.findIndex((m) => m.type === 'heartbeat' && m.commit === 10), { timeout: 20_000 }).toBeGreaterThan(-1)
    const at = received.findIndex((m) => m.type === 'snapshot')
    expect(at).toBeGreaterThan(-1)
    expect(at).toBeLessThan(received.findIndex((m) => m.type === 'heartbeat' && m.commit === 10))
    expect(((received[at] as Extract<Message, { type: 'snapshot' }>).snapshot.data as typeof data).jobs.length).toBe(data.jobs.length)
  })
})
