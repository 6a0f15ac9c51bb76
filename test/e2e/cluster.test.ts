// Three trusted peers in a Raft group and worker peers, all real processes on 127.0.0.1.
import { afterEach, describe, expect, it } from 'vitest'
import { connect, type Queue } from '@peerqueue/sdk/client'
import type { PeerStatus } from '@peerqueue/runtime/client'
import { TestCluster } from '../helpers/cluster.js'

async function statusOf(queue: Queue): Promise<PeerStatus> {
  return (queue as unknown as { client: { status(): Promise<PeerStatus> } }).client.status()
}

describe('a cluster of trusted and worker peers', () => {
  let cluster: TestCluster | undefined
  const queues: Queue[] = []
  afterEach(async () => {
    for (const q of queues.splice(0)) await q.close().catch(() => undefined)
    await cluster?.stopAll()
  })

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
  })
})
