// A queue that outgrows one group: the root leader mints shards, each its own Raft group with a
// certificate signed by a majority of the root, and the client and workers route jobs to them.
// All peers are real processes on 127.0.0.1.
import { afterEach, describe, expect, it } from 'vitest'
import { connect, type Queue } from '@peerqueue/sdk/client'
import { TestCluster } from '../helpers/cluster.js'
import { statusOf, tearDown } from '../helpers/cluster-session.js'

const SHARDS = `    shards:\n      maxJobsPerShard: 200\n      retireAfterMs: 3000\n      delegates: any\n`
const TRUSTED = ['trusted-1', 'trusted-2', 'trusted-3']
const DELEGATES = ['worker-1', 'worker-2', 'worker-3']
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('shards', () => {
  let cluster: TestCluster | undefined
  const queues: Queue[] = []
  afterEach((context) => tearDown(context.task.result?.state === 'fail', cluster, queues))

  it('mints shards on trusted peers and delegates as the queue grows, runs every job, survives a shard leader and the root leader killed, and retires drained shards', async () => {
    cluster = await TestCluster.create(3, 3, SHARDS)
    await Promise.all(TRUSTED.map((name) => cluster!.start(name)))
    // Workers that listen offer to keep shards (delegates: any); they also run jobs.
    const startDelegate = (name: string) => cluster!.start(name, ['--listen', '/ip4/127.0.0.1/tcp/0'])
    await Promise.all(DELEGATES.map(startDelegate))
    const delegateIds = new Set(DELEGATES.map((name) => cluster!.peer(name).id))
    const queue = await connect({ registry: cluster.registry, key: cluster.clientKey })
    queues.push(queue)
    const ids: string[] = []
    const keptByDelegates = new Set<number>()
    const ledByDelegates = new Set<number>()
    // Each result is waited for from the moment its job is stored: a retired shard forgets its jobs.
    const results: Promise<{ slept: number }>[] = []
    const batch = async (n: number) => {
      const jobs = await queue.enqueueMany(Array.from({ length: 100 }, (_, i) => ({ job: 'slow', payload: { ms: 100, steps: 1, n: n * 100 + i } })))
      ids.push(...jobs.map((j) => j.id))
      results.push(...jobs.map((j) => queue.job<{ slept: number }>(j.id).result({ timeoutMs: 180_000 })))
      for (const shard of (await statusOf(queue)).shards ?? []) {
        if (shard.members.some((m) => delegateIds.has(m))) keptByDelegates.add(shard.id)
        if (shard.leader && delegateIds.has(shard.leader)) ledByDelegates.add(shard.id)
      }
      await sleep(300)
    }
    // Delegates are trusted with a shard only once they have been about for a few seconds.
    await sleep(3_000)
    for (let n = 0; n < 8; n++) await batch(n)
    await expect.poll(async () => (await statusOf(queue)).shards?.filter((s) => s.leader).length ?? 0, { timeout: 20_000, interval: 100 }).toBeGreaterThanOrEqual(1)

    // A shard's leader, then the root's leader, killed while jobs flow.
    const status = await statusOf(queue)
    const shardLeader = cluster.nameOf(status.shards!.find((s) => s.leader)!.leader)!
    await cluster.kill(shardLeader)
    for (let n = 8; n < 12; n++) await batch(n)
    if (DELEGATES.includes(shardLeader)) await startDelegate(shardLeader)
    else await cluster.start(shardLeader)
    const rootLeader = cluster.nameOf((await statusOf(queue)).leader)!
    await cluster.kill(rootLeader)
    for (let n = 12; n < 20; n++) await batch(n)
    await cluster.start(rootLeader)

    expect(new Set(ids).size).toBe(2_000)
    const shardOf = (id: string) => (id.includes('.') ? Number(id.split('.')[0]) : 0)
    const shardsUsed = new Set(ids.map(shardOf)).size
    expect(shardsUsed).toBeGreaterThanOrEqual(5)
    expect((await Promise.all(results)).every((r) => r.slept === 100)).toBe(true)

    // Shard ids are minted in order, so status counts at least up to the highest id a job
    // landed in; how many more were minted ahead depends on how fast the jobs ran meanwhile.
    const minted = (await statusOf(queue)).shardsMinted ?? 0
    expect(minted).toBeGreaterThanOrEqual(Math.max(...ids.map(shardOf)))
    // Some shards were kept by delegates, and some delegate led one.
    expect(keptByDelegates.size).toBeGreaterThan(0)
    expect(ledByDelegates.size).toBeGreaterThan(0)
    // Drained shards retire once empty for retireAfterMs; the last one minted stays open.
    await expect.poll(async () => (await statusOf(queue)).shards?.length ?? 0, { timeout: 20_000, interval: 500 }).toBeLessThan(minted)
    const final = await statusOf(queue)
    expect(final.certificatesRefused).toBe(0)
    for (const shard of final.shards ?? []) {
      expect(shard.certificate.signers.length).toBeGreaterThanOrEqual(2)
      expect(shard.certificate.signers.some((id) => delegateIds.has(id))).toBe(false)
      expect(shard.members).toHaveLength(3)
    }
  }, 240_000)

  it('moves a shard to a new epoch when a delegate keeping it is gone for good', async () => {
    cluster = await TestCluster.create(3, 4, `    shards:\n      maxJobsPerShard: 60\n      delegates: any\n      replaceAfterMs: 3000\n`)
    const delegates = ['worker-1', 'worker-2', 'worker-3', 'worker-4']
    await Promise.all(TRUSTED.map((name) => cluster!.start(name)))
    await Promise.all(delegates.map((name) => cluster!.start(name, ['--listen', '/ip4/127.0.0.1/tcp/0'])))
    const delegateIds = new Map(delegates.map((name) => [cluster!.peer(name).id, name]))
    const queue = await connect({ registry: cluster.registry, key: cluster.clientKey })
    queues.push(queue)
    await sleep(3_500)
    const results: Promise<{ slept: number }>[] = []
    for (let n = 0; n < 6; n++) {
      const jobs = await queue.enqueueMany(Array.from({ length: 50 }, (_, i) => ({ job: 'slow', payload: { ms: 400, steps: 1, n: n * 50 + i } })))
      results.push(...jobs.map((j) => queue.job<{ slept: number }>(j.id).result({ timeoutMs: 120_000 })))
      await sleep(300)
    }
    const keptByDelegate = async () => (await statusOf(queue)).shards?.find((s) => s.leader && s.members.some((m) => delegateIds.has(m)))
    await expect.poll(keptByDelegate, { timeout: 20_000, interval: 200 }).toBeDefined()
    const shard = (await keptByDelegate())!
    const victim = shard.members.find((m) => delegateIds.has(m))!
    await cluster.kill(delegateIds.get(victim)!)
    await expect
      .poll(async () => (await statusOf(queue)).shards?.find((s) => s.id === shard.id), { timeout: 40_000, interval: 500 })
      .toMatchObject({ certificate: { epoch: 2 }, members: expect.not.arrayContaining([victim]) })
    // The group itself moved: its Raft voters are the new members.
    const moved = async () => {
      const now = (await statusOf(queue)).shards?.find((s) => s.id === shard.id)
      return now?.leader && now.voters ? [...now.voters].sort().join() === [...now.members].sort().join() : false
    }
    await expect.poll(moved, { timeout: 30_000, interval: 500 }).toBe(true)
    expect((await Promise.all(results)).every((r) => r.slept === 400)).toBe(true)
  }, 180_000)
})
