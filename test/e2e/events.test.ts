// The event stream on real processes: every state change of 100 jobs, in order, none missed or
// repeated, while the leader is killed in the middle and the stream follows the new one.
import { afterEach, describe, expect, it } from 'vitest'
import { connect, type JobEvent, type Queue } from '@peerqueue/sdk/client'
import { TestCluster } from '../helpers/cluster.js'
import { statusOf, tearDown } from '../helpers/cluster-session.js'
import { runCli } from '../helpers/project.js'

describe('job events', () => {
  let cluster: TestCluster | undefined
  const queues: Queue[] = []
  afterEach((context) => tearDown(context.task.result?.state === 'fail', cluster, queues))

  it('sees every state change of 100 jobs across a leader change, without gaps or repeats', async () => {
    cluster = await TestCluster.create(3, 1)
    await cluster.startAll()
    const queue = await connect({ registry: cluster.registry, key: cluster.clientKey })
    const watcher = await connect({ registry: cluster.registry, key: cluster.clientKey })
    queues.push(queue, watcher)
    const seen: JobEvent[] = []
    const ids = new Set<string>()
    const done = new Set<string>()
    const stream = watcher.events({ jobs: ['slow'] })
    // Wait for the stream's first answer before submitting, so it starts before the first job.
    const first = stream.next()
    await new Promise((r) => setTimeout(r, 300))
    const following = (async () => {
      for (let next = await first; !next.done; next = await stream.next()) {
        const event = next.value
        seen.push(event)
        if (event.state === 'completed') done.add(event.jobId)
        if (ids.size === 100 && [...ids].every((id) => done.has(id))) break
      }
    })()
    const submit = async (from: number) => {
      const jobs = await queue.enqueueMany(Array.from({ length: 25 }, (_, i) => ({ job: 'slow', payload: { ms: 20, steps: 1, n: from + i } })))
      for (const j of jobs) ids.add(j.id)
    }
    await submit(0)
    await submit(25)
    const leader = cluster.nameOf((await statusOf(queue)).leader)!
    await cluster.kill(leader)
    await submit(50)
    await submit(75)
    await Promise.race([following, new Promise((_, reject) => setTimeout(() => reject(new Error(`saw ${done.size} of 100 completions`)), 45_000))])
    await stream.return(undefined)

    const positions = seen.map((e) => e.position)
    expect(new Set(positions).size).toBe(positions.length)
    expect([...positions].sort((a, b) => a - b)).toEqual(positions)
    for (const id of ids) {
      const states = seen.filter((e) => e.jobId === id).map((e) => e.state)
      expect(states[0]).toBe('queued')
      expect(states.at(-1)).toBe('completed')
      expect(states.filter((s) => s === 'leased').length).toBeGreaterThanOrEqual(1)
    }
    expect(seen.every((e) => e.name === 'slow')).toBe(true)

    const tail = await runCli(['events', '--count', '1', '--json', '--from', String(positions[0]), '--registry', cluster.registry, '--key', cluster.clientKey], cluster.dir)
    expect(JSON.parse(tail.stdout)).toMatchObject({ position: positions[0], state: 'queued' })
  })
})
