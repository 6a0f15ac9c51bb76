// Flows on real processes: a parent with ten children on worker peers runs once after the last
// of them, reads their results, and starts a follow-up only with its accepted result.
import { afterEach, describe, expect, it } from 'vitest'
import { connect, type Queue } from '@peerqueue/sdk/client'
import { TestCluster } from '../helpers/cluster.js'
import { statusOf, tearDown } from '../helpers/cluster-session.js'

describe('flows', () => {
  let cluster: TestCluster | undefined
  const queues: Queue[] = []
  afterEach((context) => tearDown(context.task.result?.state === 'fail', cluster, queues))

  it('runs a parent once after its ten children, with their results, and its follow-up once', async () => {
    cluster = await TestCluster.create(3, 2)
    await cluster.startAll()
    const queue = await connect({ registry: cluster.registry, key: cluster.clientKey })
    queues.push(queue)
    const flow = await queue.enqueueFlow({
      job: 'merge',
      payload: { label: 'total' },
      children: Array.from({ length: 10 }, (_, n) => ({ job: 'part', payload: { n: n + 1 } })),
    })
    expect(flow.children).toHaveLength(10)
    const merged = (await flow.job.result({ timeoutMs: 30_000 })) as { sum: number; children: number; followUp: string }
    expect(merged).toMatchObject({ sum: 55, children: 10 })
    for (const child of flow.children) expect((await child.job.status()).state).toBe('completed')
    const parent = await flow.job.status()
    expect(parent.attempt).toBe(1)
    expect(await queue.job(merged.followUp).result({ timeoutMs: 20_000 })).toMatchObject({ text: 'total: 55' })
    expect((await statusOf(queue)).jobs.completed).toBe(12)

    // A child that fails for good fails a parent that asked for it, and leaves the other waiting.
    const failing = await queue.enqueueFlow({ job: 'merge', payload: { label: 'strict' }, children: [{ job: 'part', payload: { n: 1, fail: true }, options: { failParentOnFailure: true } }] })
    await expect(failing.job.result({ timeoutMs: 20_000 })).rejects.toThrow(/ChildFailed|child .* ended dead/)
    const patient = await queue.enqueueFlow({ job: 'merge', payload: { label: 'patient' }, children: [{ job: 'part', payload: { n: 2, fail: true } }] })
    await expect(patient.children[0]!.job.result({ timeoutMs: 20_000 })).rejects.toThrow(/asked to fail/)
    expect((await patient.job.status()).state).toBe('waiting-children')
  })
})
