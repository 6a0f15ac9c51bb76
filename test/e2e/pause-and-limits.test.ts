// Pausing a queue and a job name, across a leader change, and a limit on runs across every
// peer (a handler's globalConcurrency): real processes on 127.0.0.1.
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { connect, type Queue } from '@peerqueue/sdk/client'
import { TestCluster } from '../helpers/cluster.js'
import { statusOf, tearDown } from '../helpers/cluster-session.js'
import { runCli } from '../helpers/project.js'

describe('pausing and limits across the network', () => {
  let cluster: TestCluster | undefined
  const queues: Queue[] = []
  afterEach((context) => tearDown(context.task.result?.state === 'fail', cluster, queues))

  it('holds paused jobs queued across a leader change, and resume releases them', async () => {
    cluster = await TestCluster.create(3, 1)
    await cluster.startAll()
    const queue = await connect({ registry: cluster.registry, key: cluster.clientKey })
    queues.push(queue)
    const cli = (...args: string[]) => runCli([...args, '--registry', cluster!.registry, '--key', cluster!.clientKey], cluster!.dir)

    const paused = await cli('pause', 'echo')
    expect(paused.stdout).toContain('paused "echo"; paused now: echo')
    const held = await queue.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ job: 'echo', payload: { text: `held ${i}` } })))
    const other = await queue.enqueue('slow', { ms: 10 })
    await other.result({ timeoutMs: 20_000 })
    expect((await statusOf(queue)).jobs.queued).toBe(5)

    const leader = cluster.nameOf((await statusOf(queue)).leader)!
    await cluster.kill(leader)
    await expect.poll(async () => cluster!.nameOf((await statusOf(queue)).leader), { timeout: 10_000, interval: 100 }).not.toBe(leader)
    const after = await statusOf(queue)
    expect(after.paused).toEqual({ all: false, names: ['echo'] })
    expect(after.jobs.queued).toBe(5)
    expect((await cli('status')).stdout).toContain('paused      echo')

    await queue.pause()
    await queue.resume('echo')
    expect((await statusOf(queue)).paused).toEqual({ all: true, names: [] })
    await new Promise((r) => setTimeout(r, 500))
    expect((await statusOf(queue)).jobs.queued).toBe(5)
    const resumed = JSON.parse((await cli('resume', '--json')).stdout)
    expect(resumed).toEqual({ all: false, names: [] })
    const results = (await Promise.all(held.map((j) => j.result({ timeoutMs: 20_000 })))) as { text: string }[]
    expect(results.map((r) => r.text)).toEqual(Array.from({ length: 5 }, (_, i) => `held ${i}`))
  })

  it('never runs more of a job than its globalConcurrency, across three worker peers', async () => {
    cluster = await TestCluster.create(3, 3)
    await cluster.startAll()
    const queue = await connect({ registry: cluster.registry, key: cluster.clientKey })
    queues.push(queue)
    const log = join(await mkdtemp(join(tmpdir(), 'pq-limited-')), 'runs.log')
    const jobs = await queue.enqueueMany(Array.from({ length: 12 }, (_, n) => ({ job: 'limited', payload: { log, ms: 150, n } })))
    await Promise.all(jobs.map((j) => j.result({ timeoutMs: 30_000 })))
    const events = (await readFile(log, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => line.split(' '))
      .map(([kind, , at]) => ({ kind: kind!, at: Number(at) }))
      .sort((a, b) => a.at - b.at || (a.kind === 'end' ? -1 : 1))
    let running = 0
    let most = 0
    for (const e of events) {
      running += e.kind === 'start' ? 1 : -1
      most = Math.max(most, running)
    }
    expect(events.filter((e) => e.kind === 'start')).toHaveLength(12)
    expect(most).toBe(2)
    const workers = (await statusOf(queue)).workers.filter((w) => w.capacity === 4)
    expect(workers).toHaveLength(3)
  })
})
