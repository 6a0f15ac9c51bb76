// A queue that outgrows one group: the root leader mints shards, each its own Raft group with a
// certificate signed by a majority of the root, and the client and workers route jobs to them.
// All peers are real processes on 127.0.0.1.
import { afterEach, describe, expect, it } from 'vitest'
import { connect, type Queue } from '@peerqueue/sdk/client'
import { TestCluster } from '../helpers/cluster.js'
import { statusOf, tearDown } from '../helpers/cluster-session.js'

const SHARDS = `    shards:\n      maxJobsPerShard: 200\n      retireAfterMs: 3000\n`
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('shards', () => {
  let cluster: TestCluster | undefined
  const queues: Queue[] = []
  afterEach((context) => tearDown(context.task.result?.state === 'fail', cluster, queues))

  it('mints shards as the queue grows, runs every job, survives a shard leader and the root leader killed, and retires drained shards', async () => {
    cluster = await TestCluster.create(3, 2, SHARDS)
    await cluster.startAll()
    const queue = await connect({ registry: cluster.registry, key: cluster.clientKey })
    queues.push(queue)
    const ids: string[] = []
    // Each result is waited for from the moment its job is stored: a retired shard forgets its jobs.
    const results: Promise<{ slept: number }>[] = []
    const batch = async (n: number) => {
      const jobs = await queue.enqueueMany(Array.from({ length: 100 }, (_, i) => ({ job: 'slow', payload: { ms: 100, steps: 1, n: n * 100 + i } })))
      ids.push(...jobs.map((j) => j.id))
      results.push(...jobs.map((j) => queue.job<{ slept: number }>(j.id).result({ timeoutMs: 180_000 })))
      await sleep(300)
    }
    for (let n = 0; n < 8; n++) await batch(n)
    await expect.poll(async () => (await statusOf(queue)).shards?.filter((s) => s.leader).length ?? 0, { timeout: 20_000, interval: 100 }).toBeGreaterThanOrEqual(1)

    // A shard's leader, then the root's leader, killed while jobs flow.
    const status = await statusOf(queue)
    const shardLeader = cluster.nameOf(status.shards!.find((s) => s.leader)!.leader)!
    await cluster.kill(shardLeader)
    for (let n = 8; n < 12; n++) await batch(n)
    await cluster.start(shardLeader)
    const rootLeader = cluster.nameOf((await statusOf(queue)).leader)!
    await cluster.kill(rootLeader)
    for (let n = 12; n < 20; n++) await batch(n)
    await cluster.start(rootLeader)

    expect(new Set(ids).size).toBe(2_000)
    const shardOf = (id: string) => (id.includes('.') ? Number(id.split('.')[0]) : 0)
    expect(new Set(ids.map(shardOf)).size).toBeGreaterThanOrEqual(5)
    expect((await Promise.all(results)).every((r) => r.slept === 100)).toBe(true)

    const minted = (await statusOf(queue)).shardsMinted ?? 0
    expect(minted).toBeGreaterThanOrEqual(5)
    // Drained shards retire once empty for retireAfterMs; the last one minted stays open.
    await expect.poll(async () => (await statusOf(queue)).shards?.length ?? 0, { timeout: 20_000, interval: 500 }).toBeLessThan(minted)
    const final = await statusOf(queue)
    expect(final.certificatesRefused).toBe(0)
    for (const shard of final.shards ?? []) {
      expect(shard.certificate.signers.length).toBeGreaterThanOrEqual(2)
      expect(shard.members).toHaveLength(3)
    }
  }, 240_000)
})
