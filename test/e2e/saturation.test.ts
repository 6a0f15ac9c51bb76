// Saturation on real processes: one trusted peer and worker peers of one slot each, with
// jobsPerFreeSlot 5. A burst beyond what the network can host is refused with a hint, a client
// that waits gets every job in and every result out, a worker joining raises the bound, and two
// submitters, one flooding, get even shares.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { connect, isPeerqueueError, type Queue } from '@peerqueue/sdk/client'
import { createKeyFile } from '@peerqueue/runtime'
import { TestCluster } from '../helpers/cluster.js'
import { statusOf, tearDown } from '../helpers/cluster-session.js'
import { runCli } from '../helpers/project.js'

const SETTINGS = `    saturation: { jobsPerFreeSlot: 5, minCapacity: 5, maxWaitMs: 60000 }\n    census: { targetSample: 20, intervalMs: 500, windowSize: 2 }\n`
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('saturation', () => {
  let cluster: TestCluster | undefined
  const queues: Queue[] = []
  afterEach((context) => tearDown(context.task.result?.state === 'fail', cluster, queues))

  it('refuses what the network cannot host, waits for room, follows the workers, and shares fairly', async () => {
    cluster = await TestCluster.create(1, 3, SETTINGS)
    // Any peer may submit: a second submitter's key below.
    await writeFile(cluster.registry, (await readFile(cluster.registry, 'utf8')).replace(/submitters: \[[^\]]*\]/, 'submitters: any'))
    await cluster.start('trusted-1')
    await Promise.all(['worker-1', 'worker-2'].map((name) => cluster!.start(name, ['--concurrency', '1'])))
    const quick = await connect({ registry: cluster.registry, key: cluster.clientKey, onSaturated: 'throw' })
    queues.push(quick)
    // Two idle workers of one slot: 2 free slots, a bound of 10 once the census has answered (the
    // lower end of its interval may sit a little above the truth, as an interval may).
    await expect.poll(async () => (await statusOf(quick)).saturation?.bound ?? 0, { timeout: 15_000, interval: 250 }).toBeGreaterThanOrEqual(10)
    const bound = (await statusOf(quick)).saturation!.bound
    expect(bound).toBeLessThan(15)

    // A burst of 200, one job a request, refused past the bound with a hint.
    const burst = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => quick.enqueue('slow', { ms: 300, steps: 1, n: i })))
    const refused = burst.filter((r) => r.status === 'rejected')
    expect(refused.length).toBeGreaterThan(150)
    expect(refused.every((r) => isPeerqueueError(r.reason) && r.reason.code === 'E_QUEUE_SATURATED')).toBe(true)
    const cli = await runCli(['enqueue', 'slow', '{"ms":1}', '--json', '--on-saturated', 'throw', '--registry', cluster.registry, '--key', cluster.clientKey])
    expect(cli.code).toBe(1)
    expect(JSON.parse(cli.stdout)).toMatchObject({ ok: false, code: 'E_QUEUE_SATURATED', retryAfterMs: expect.any(Number) })
    const status = await statusOf(quick)
    expect(status.saturation).toMatchObject({ saturated: true, bound })

    // A client that waits gets every job in, and every result out.
    const waits: number[] = []
    const patient = await connect({ registry: cluster.registry, key: cluster.clientKey, onSaturatedWait: (w) => waits.push(w.delayMs) })
    queues.push(patient)
    const jobs = await Promise.all(Array.from({ length: 40 }, (_, i) => patient.enqueue('slow', { ms: 100, steps: 1, n: i })))
    expect(waits.length).toBeGreaterThan(0)
    const results = await Promise.all(jobs.map((j) => j.result({ timeoutMs: 120_000 })))
    expect(results).toHaveLength(40)

    // A third worker joins: three free slots, the bound rises to 15 or so.
    await cluster.start('worker-3', ['--concurrency', '1'])
    await expect.poll(async () => (await statusOf(quick)).saturation?.bound ?? 0, { timeout: 20_000, interval: 250 }).toBeGreaterThanOrEqual(15)

    // Two submitters, one flooding: while saturated, admissions split evenly.
    const otherKey = join(cluster.dir, 'other.key')
    await createKeyFile(otherKey)
    const other = await connect({ registry: cluster.registry, key: otherKey })
    queues.push(other)
    const admitted = { flood: 0, other: 0 }
    const deadline = Date.now() + 12_000
    const flood = (async () => {
      while (Date.now() < deadline) {
        const batch = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => quick.enqueue('slow', { ms: 150, steps: 1, n: i })))
        if (Date.now() < deadline) admitted.flood += batch.filter((r) => r.status === 'fulfilled').length
        await sleep(20)
      }
    })()
    // The other submitter keeps ten enqueues going, each waiting for room as the client does by default.
    const steady = Array.from({ length: 10 }, async (_, i) => {
      while (Date.now() < deadline) {
        await other.enqueue('slow', { ms: 150, steps: 1, n: i })
        if (Date.now() < deadline) admitted.other++
      }
    })
    await Promise.all([flood, ...steady])
    const total = admitted.flood + admitted.other
    process.stderr.write(`saturation test: admitted while saturated ${JSON.stringify(admitted)}\n`)
    expect(total).toBeGreaterThan(40)
    expect(Math.abs(admitted.flood - admitted.other) / total).toBeLessThan(0.2)
  }, 240_000)
})
