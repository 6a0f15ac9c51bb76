// Three trusted peers in a Raft group and worker peers, all real processes on 127.0.0.1.
import { readFile } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { connect, type Queue } from '@peerqueue/sdk/client'
import { TestCluster } from '../helpers/cluster.js'
import { statusOf, tearDown } from '../helpers/cluster-session.js'

describe('a cluster of trusted and worker peers', () => {
  let cluster: TestCluster | undefined
  const queues: Queue[] = []
  afterEach((context) => tearDown(context.task.result?.state === 'fail', cluster, queues))

  it('runs jobs on worker peers and reports the group in status', async () => {
    cluster = await TestCluster.create(3, 2)
    await cluster.startAll()
    const queue = await connect({ registry: cluster.registry, key: cluster.clientKey })
    queues.push(queue)
    const jobs = await queue.enqueueMany(Array.from({ length: 100 }, (_, i) => ({ job: 'echo', payload: { text: `x${i}` } })))
    const results = (await Promise.all(jobs.map((j) => j.result({ timeoutMs: 30_000 })))) as { text: string }[]
    expect(results.map((r) => r.text)).toEqual(Array.from({ length: 100 }, (_, i) => `x${i}`))
    const status = await statusOf(queue)
    expect(status.role).toBe('leader')
    expect(cluster.nameOf(status.leader)).toMatch(/^trusted-/)
    expect(status.members).toHaveLength(3)
    expect(status.members.every((m) => m.healthy === true)).toBe(true)
    expect(status.jobs.completed).toBe(100)
    expect(status.workers.filter((w) => w.capacity === 4).length).toBe(2)
    // Each peer started Node again sized for its role: a worker with a smaller young generation and two malloc arenas.
    for (const peer of cluster.peers) {
      const pid = peer.process!.child.pid!
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')
      const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0')
      expect(cmdline).toContain(peer.trusted ? '--max-semi-space-size=4' : '--max-semi-space-size=1')
      expect(environ.includes('MALLOC_ARENA_MAX=2')).toBe(!peer.trusted)
    }
  })

  it('loses no acknowledged job when the leader and then a worker are killed mid-run', async () => {
    cluster = await TestCluster.create(3, 2)
    await cluster.startAll()
    const queue = await connect({ registry: cluster.registry, key: cluster.clientKey })
    queues.push(queue)
    const ids: string[] = []
    const enqueueBatch = async (from: number) => {
      const jobs = await queue.enqueueMany(Array.from({ length: 25 }, (_, i) => ({ job: 'slow', payload: { ms: 30, steps: 2, n: from + i } })))
      ids.push(...jobs.map((j) => j.id))
    }
    for (let batch = 0; batch < 8; batch++) await enqueueBatch(batch * 25)
    await expect.poll(async () => (await statusOf(queue)).jobs.completed ?? 0, { timeout: 30_000, interval: 100 }).toBeGreaterThanOrEqual(40)

    const oldLeader = cluster.nameOf((await statusOf(queue)).leader)!
    await cluster.kill(oldLeader)
    const killedAt = Date.now()
    await expect.poll(async () => cluster!.nameOf((await statusOf(queue)).leader), { timeout: 10_000, interval: 50 }).not.toBe(oldLeader)
    const failoverMs = Date.now() - killedAt
    expect(failoverMs).toBeLessThan(5_000)

    for (let batch = 8; batch < 20; batch++) await enqueueBatch(batch * 25)
    await cluster.kill('worker-1')
    await cluster.start(oldLeader)
    await cluster.start('worker-1')

    expect(ids).toHaveLength(500)
    const results = await Promise.all(ids.map((id) => queue.job<{ slept: number }>(id).result({ timeoutMs: 90_000 })))
    expect(results.every((r) => r.slept === 30)).toBe(true)
    const statuses = await Promise.all(ids.map((id) => queue.job(id).status()))
    expect(statuses.every((s) => s.state === 'completed')).toBe(true)
    const status = await statusOf(queue)
    expect(status.jobs.completed).toBe(500)
    expect(status.members.filter((m) => m.healthy).length).toBe(3)
  })

  it('keeps serving with 2 of 5 trusted peers down, refuses writes without a majority, and resumes', async () => {
    cluster = await TestCluster.create(5, 1)
    await cluster.startAll()
    const queue = await connect({ registry: cluster.registry, key: cluster.clientKey, retryMs: 4_000 })
    queues.push(queue)
    const leader = cluster.nameOf((await statusOf(queue)).leader)!
    const others = cluster.peers.filter((p) => p.trusted && p.name !== leader).map((p) => p.name)
    await Promise.all([cluster.kill(others[0]!), cluster.kill(others[1]!)])
    expect(await (await queue.enqueue('echo', { text: 'with three' })).result({ timeoutMs: 20_000 })).toMatchObject({ text: 'with three' })

    await cluster.kill(others[2]!)
    const refused = await queue.enqueue('echo', { text: 'no majority' }).catch((err: unknown) => err)
    expect(refused).toMatchObject({ code: expect.stringMatching(/^E_(NOT_LEADER|UNREACHABLE)$/), message: expect.stringMatching(/leader|majority|trusted peer/) })

    await cluster.start(others[0]!)
    const job = await queue.enqueue('echo', { text: 'back' })
    expect(await job.result({ timeoutMs: 20_000 })).toMatchObject({ text: 'back' })
  })

  it('gives work to a worker that joins late, and re-runs the jobs of one that leaves at once', async () => {
    cluster = await TestCluster.create(3, 2)
    for (const p of cluster.peers.filter((p) => p.trusted)) await cluster.start(p.name)
    await cluster.start('worker-1')
    const queue = await connect({ registry: cluster.registry, key: cluster.clientKey })
    queues.push(queue)
    const long = await Promise.all([1, 2, 3, 4].map(() => queue.enqueue('slow', { ms: 60_000, steps: 600 })))
    await expect.poll(async () => (await statusOf(queue)).jobs.leased, { timeout: 10_000 }).toBe(4)

    await cluster.start('worker-2')
    const late = await queue.enqueue('echo', { text: 'for the newcomer' })
    expect(await late.result({ timeoutMs: 20_000 })).toMatchObject({ text: 'for the newcomer' })

    const leftAt = Date.now()
    await cluster.kill('worker-1', 'SIGTERM')
    await expect.poll(async () => Math.min(...(await Promise.all(long.map(async (j) => (await j.status()).attempt)))), { timeout: 5_000, interval: 50 }).toBe(2)
    // Handed back on leaving, not after the lease ran out.
    expect(Date.now() - leftAt).toBeLessThan(4_000)
    // Cancelling reaches the worker with its next lease renewal: the runs stop.
    await Promise.all(long.map((j) => j.cancel()))
    await expect.poll(async () => (await statusOf(queue)).workers.reduce((n, w) => n + w.running, 0), { timeout: 8_000 }).toBe(0)
  })

  it('lets trusted peers run handlers too, followers taking leases from the leader', async () => {
    cluster = await TestCluster.create(3, 0)
    await Promise.all(cluster.peers.map((p) => cluster!.start(p.name, [], true)))
    const queue = await connect({ registry: cluster.registry, key: cluster.clientKey })
    queues.push(queue)
    const jobs = await queue.enqueueMany(Array.from({ length: 60 }, (_, i) => ({ job: 'slow', payload: { ms: 200, steps: 2, n: i } })))
    await Promise.all(jobs.map((j) => j.result({ timeoutMs: 30_000 })))
    const status = await statusOf(queue)
    expect(status.jobs.completed).toBe(60)
    const ranOn = new Set((await Promise.all(jobs.map((j) => j.status()))).map((s) => s.worker?.split('/')[0]))
    // The leader took work from its own log; at least one follower took leases from it over the network.
    expect(ranOn.size).toBeGreaterThanOrEqual(2)
    for (const peer of ranOn) expect(cluster.nameOf(peer)).toMatch(/^trusted-/)
  })
})
