// Peers that find each other by the queue's rendezvous: trusted peers listed by id only, one
// bootstrap address, the DHT, and a circuit relay for a peer that cannot be dialled.
import { afterEach, describe, expect, it } from 'vitest'
import { connect, type Queue } from '@peerqueue/sdk/client'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { createPeerNode } from '../../runtime/src/net/node.js'
import { locate } from '../../runtime/src/net/locate.js'
import { Rendezvous } from '../../runtime/src/net/rendezvous.js'
import { TestCluster } from '../helpers/cluster.js'
import { statusOf, tearDown } from '../helpers/cluster-session.js'

async function runEcho(queue: Queue, count: number, tag: string): Promise<void> {
  const jobs = await queue.enqueueMany(Array.from({ length: count }, (_, i) => ({ job: 'echo', payload: { text: `${tag}${i}` } })))
  const results = (await Promise.all(jobs.map((j) => j.result({ timeoutMs: 30_000 })))) as { text: string }[]
  expect(results.map((r) => r.text)).toEqual(Array.from({ length: count }, (_, i) => `${tag}${i}`))
}

describe('finding the queue by its rendezvous', () => {
  let cluster: TestCluster | undefined
  const queues: Queue[] = []
  afterEach((context) => tearDown(context.task.result?.state === 'fail', cluster, queues))

  it('forms the group from peer ids and one bootstrap address, and a new worker joins through the DHT after the bootstrap peer is gone', async () => {
    cluster = await TestCluster.create(3, 2, '', { rendezvous: true })
    await cluster.start('trusted-1')
    await Promise.all([cluster.start('trusted-2'), cluster.start('trusted-3')])
    await cluster.start('worker-1')
    const queue = await connect({ registry: cluster.registry, key: cluster.clientKey })
    queues.push(queue)
    await runEcho(queue, 20, 'a')
    await expect.poll(async () => (await statusOf(queue)).members.every((m) => m.self || m.healthy === true), { timeout: 10_000, interval: 100 }).toBe(true)
    const status = await statusOf(queue)
    expect(status.discovery).toMatchObject({ dht: 'server', mdns: false, relay: true, providing: true })
    expect(status.workers.some((w) => w.id.startsWith(cluster!.peer('worker-1').id))).toBe(true)

    await cluster.kill('trusted-1')
    await queue.close()
    queues.length = 0
    // The survivor that does not lead is the only address the newcomers get: they must find the leader by its id.
    const leaderOf = async () => {
      const q = await connect({ registry: cluster!.registry, key: cluster!.clientKey, bootstrap: [cluster!.bootstrapAddr('trusted-2')] })
      queues.push(q)
      return q
    }
    const second = await leaderOf()
    await expect.poll(async () => cluster!.nameOf((await statusOf(second)).leader), { timeout: 10_000, interval: 100 }).toMatch(/^trusted-[23]$/)
    const leader = cluster.nameOf((await statusOf(second)).leader)!
    const other = leader === 'trusted-2' ? 'trusted-3' : 'trusted-2'

    // The DHT itself, from a bare node that knows only the survivor that does not lead: the
    // rendezvous key has both survivors as providers, and the leader is found by its id.
    const plan = { dht: 'client', bootstrap: [cluster.bootstrapAddr(other)], mdns: false, relayServer: false, relayTransport: true, rendezvous: 'cluster-test' } as const
    const probe = await createPeerNode({ privateKey: await generateKeyPair('Ed25519'), listen: [], discovery: plan })
    const rendezvous = new Rendezvous(probe, plan, new Set(cluster.peers.filter((p) => p.trusted).map((p) => p.id)))
    try {
      rendezvous.start()
      expect(await rendezvous.joined(5_000)).toBe(true)
      await expect.poll(() => rendezvous.find(), { timeout: 15_000, interval: 200 }).toBeGreaterThanOrEqual(2)
      const leaderId = cluster.peer(leader).id
      await locate(probe, leaderId, AbortSignal.timeout(10_000), true)
      expect((await probe.peerStore.get(peerIdFromString(leaderId))).addresses.map((a) => a.multiaddr.toString())).toContain(cluster.addrs.get(leader))
    } finally {
      rendezvous.stop()
      await probe.stop()
    }

    await cluster.kill('worker-1')
    await cluster.start('worker-2', ['--bootstrap', cluster.bootstrapAddr(other)])
    await runEcho(second, 20, 'b')
    const after = await statusOf(second)
    expect(after.workers.some((w) => w.id.startsWith(cluster!.peer('worker-2').id))).toBe(true)
  })

  it('keeps a trusted peer that listens only through a relay in the group, and a worker behind the relay runs jobs', async () => {
    cluster = await TestCluster.create(3, 1, '', { rendezvous: true, relayOnly: ['trusted-3', 'worker-1'] })
    await cluster.start('trusted-1')
    await cluster.start('trusted-2')
    await cluster.start('trusted-3')
    await cluster.start('worker-1')
    expect(cluster.peer('trusted-3').process!.output()).toMatch(/listening on \S*\/p2p-circuit/)
    const queue = await connect({ registry: cluster.registry, key: cluster.clientKey })
    queues.push(queue)
    await runEcho(queue, 20, 'a')
    await expect.poll(async () => (await statusOf(queue)).members.every((m) => m.self || m.healthy === true), { timeout: 10_000, interval: 100 }).toBe(true)
    // Without trusted-2 a commit needs trusted-3's vote, which reaches the group only through the relay.
    await cluster.kill('trusted-2')
    await runEcho(queue, 20, 'b')
    const status = await statusOf(queue)
    expect(cluster.nameOf(status.leader)).toMatch(/^trusted-[13]$/)
    expect(status.workers.some((w) => w.id.startsWith(cluster!.peer('worker-1').id))).toBe(true)
  })

  it("runs jobs end to end from a registry in PeerPrint's own shape", async () => {
    cluster = await TestCluster.create(2, 1, '', { peerprintShape: true })
    await cluster.start('trusted-1')
    await Promise.all([cluster.start('trusted-2'), cluster.start('worker-1')])
    const queue = await connect({ registry: cluster.registry, key: cluster.clientKey, bootstrap: [cluster.bootstrapAddr()] })
    queues.push(queue)
    await runEcho(queue, 20, 'p')
    const status = await statusOf(queue)
    expect(status.queue).toMatch(/^cluster-queue-[0-9a-f]{8}$/)
    expect(status.members).toHaveLength(3)
  })
})
