// Raft commit throughput and latency for a 3-member group, in one process and over libp2p on
// 127.0.0.1, with group commit (one fsync per Ready) and without (one fsync per entry).
//   npm run bench:raft [-- --entries 20000 --concurrency 64 --json]
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { RaftNode, type StateMachine } from '../runtime/src/raft/node.js'
import { InProcessHub, type Transport } from '../runtime/src/raft/transport.js'
import { createPeerNode, type PeerNode } from '../runtime/src/net/node.js'
import { Libp2pRaftTransport } from '../runtime/src/net/raft-transport.js'
import type { Message } from '../runtime/src/raft/types.js'

const { values } = parseArgs({ options: { entries: { type: 'string', default: '20000' }, concurrency: { type: 'string', default: '64' }, json: { type: 'boolean', default: false } } })
const ENTRIES = Number(values.entries)
const CONCURRENCY = Number(values.concurrency)
const PAYLOAD = { kind: 'enqueue', id: '4f1c2a7e-0000-4000-8000-000000000000', name: 'resize-image', payload: '{"json":{"url":"https://example.invalid/a.png","width":300}}' }

class Sink implements StateMachine<number> {
  applied = 0
  apply(): number {
    return ++this.applied
  }
  snapshot(): unknown {
    return this.applied
  }
  restore(data: unknown): void {
    this.applied = data as number
  }
}

interface Group {
  nodes: RaftNode<number>[]
  close(): Promise<void>
}

async function inProcessGroup(groupCommit: boolean): Promise<Group> {
  const hub = new InProcessHub()
  return makeGroup(groupCommit, ['a', 'b', 'c'], async (id, receive) => hub.join(id, receive), async () => undefined)
}

async function libp2pGroup(groupCommit: boolean): Promise<Group> {
  const peers: PeerNode[] = []
  for (let i = 0; i < 3; i++) peers.push(await createPeerNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] }))
  const ids = peers.map((p) => p.peerId.toString())
  const addrs = new Map(peers.map((p) => [p.peerId.toString(), p.getMultiaddrs().map((a) => a.toString())]))
  const transports: Libp2pRaftTransport[] = []
  return makeGroup(
    groupCommit,
    ids,
    async (id, receive) => {
      const node = peers[ids.indexOf(id)]!
      const t = await Libp2pRaftTransport.listen(node, 'bench', { members: new Map([...addrs].filter(([other]) => other !== id)) }, receive)
      transports.push(t)
      return t
    },
    async () => {
      for (const t of transports) await t.close()
      for (const p of peers) await p.stop()
    },
  )
}

async function makeGroup(groupCommit: boolean, ids: string[], transportFor: (id: string, receive: (m: Message) => void) => Promise<Transport>, closeNet: () => Promise<void>): Promise<Group> {
  const root = await mkdtemp(join(tmpdir(), 'pq-bench-raft-'))
  const nodes: RaftNode<number>[] = []
  for (const id of ids) {
    let node!: RaftNode<number>
    const transport = await transportFor(id, (m) => node.receive(m))
    node = await RaftNode.open({ id, group: 'bench', membership: { voters: ids, learners: [] }, dir: join(root, id), stateMachine: new Sink(), transport: () => transport, groupCommit, snapshotEvery: 1_000_000 })
    node.start()
    nodes.push(node)
  }
  return {
    nodes,
    async close() {
      for (const n of nodes) await n.close()
      await closeNet()
      await rm(root, { recursive: true, force: true })
    },
  }
}

async function measure(name: string, make: () => Promise<Group>) {
  const group = await make()
  const deadline = Date.now() + 10_000
  while (!group.nodes.some((n) => n.core.isLeader) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  const leader = group.nodes.find((n) => n.core.isLeader)
  if (!leader) throw new Error(`${name}: no leader within 10 s`)
  const latencies: number[] = []
  let next = 0
  const started = performance.now()
  const worker = async () => {
    while (next < ENTRIES) {
      next += 1
      const t0 = performance.now()
      await leader.propose([PAYLOAD])
      latencies.push(performance.now() - t0)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  const seconds = (performance.now() - started) / 1000
  await group.close()
  latencies.sort((a, b) => a - b)
  const pct = (p: number) => Number(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(2))
  return { name, entries: ENTRIES, concurrency: CONCURRENCY, commitsPerSecond: Math.round(ENTRIES / seconds), p50Ms: pct(0.5), p99Ms: pct(0.99) }
}

const results = []
results.push(await measure('in-process, group commit', () => inProcessGroup(true)))
results.push(await measure('in-process, fsync per entry', () => inProcessGroup(false)))
results.push(await measure('libp2p 127.0.0.1, group commit', () => libp2pGroup(true)))
results.push(await measure('libp2p 127.0.0.1, fsync per entry', () => libp2pGroup(false)))
if (values.json) console.log(JSON.stringify(results))
else {
  console.log(`Raft commit, 3 members, ${ENTRIES} entries, ${CONCURRENCY} proposals in flight`)
  for (const r of results) console.log(`  ${r.name.padEnd(36)} ${String(r.commitsPerSecond).padStart(7)} commits/s   p50 ${r.p50Ms} ms   p99 ${r.p99Ms} ms`)
}
process.exit(0)
