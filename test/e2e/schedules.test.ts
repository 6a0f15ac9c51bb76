// A recurring job on real processes: one job per due time, across a leader killed mid-way.
import { afterEach, describe, expect, it } from 'vitest'
import { connect, type Queue } from '@peerqueue/sdk/client'
import { TestCluster } from '../helpers/cluster.js'
import { statusOf, tearDown } from '../helpers/cluster-session.js'
import { runCli } from '../helpers/project.js'

describe('schedules', () => {
  let cluster: TestCluster | undefined
  const queues: Queue[] = []
  afterEach((context) => tearDown(context.task.result?.state === 'fail', cluster, queues))

  it('makes one job a second for five seconds, never two for one due time, with the leader killed in the middle', async () => {
    cluster = await TestCluster.create(3, 1)
    await cluster.startAll()
    const queue = await connect({ registry: cluster.registry, key: cluster.clientKey })
    queues.push(queue)
    const startAt = Date.now() + 500
    const made = await queue.schedule('ticks', { every: 1000, startAt, limit: 5 }, 'echo', { text: 'tick' })
    expect(made).toMatchObject({ id: 'ticks', every: 1000, nextAt: startAt, count: 0, limit: 5 })

    await new Promise((r) => setTimeout(r, 2_200))
    const leader = cluster.nameOf((await statusOf(queue)).leader)!
    await cluster.kill(leader)
    await expect.poll(async () => (await queue.schedules())[0]?.count, { timeout: 20_000, interval: 200 }).toBe(5)
    const took = Date.now() - startAt
    expect(took).toBeGreaterThanOrEqual(4_000)
    expect(took).toBeLessThan(12_000)
    await expect.poll(async () => (await statusOf(queue)).jobs.completed, { timeout: 20_000, interval: 200 }).toBe(5)
    const [ticks] = await queue.schedules()
    expect(ticks).toMatchObject({ count: 5, nextAt: null })

    const cli = (...args: string[]) => runCli([...args, '--registry', cluster!.registry, '--key', cluster!.clientKey], cluster!.dir)
    expect((await cli('schedules')).stdout).toContain('ticks                echo every 1000 ms, ended, 5 of 5 job(s) made')
    const bad = await cli('schedule', 'bad', 'echo', '{"text":"x"}', '--cron', 'every tuesday')
    expect(bad.stderr).toContain('E_USAGE')
    expect(bad.stderr).toContain('cron "every tuesday"')
    expect((await cli('schedule', 'nightly', 'echo', '{"text":"x"}', '--cron', '0 3 * * *', '--timezone', 'Europe/Paris')).stdout).toMatch(/schedule nightly: echo cron "0 3 \* \* \*" \(Europe\/Paris\), next 20\d\d-/)
    expect((await cli('unschedule', 'nightly')).stdout).toContain('removed schedule nightly; 1 left')
  })
})
