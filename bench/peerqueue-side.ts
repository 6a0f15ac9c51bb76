// peerqueue set up two ways: one trusted peer embedded in this process (it keeps the queue and
// runs the handlers), and 3 trusted peers in 3 processes plus 1 worker peer process.
import { join } from 'node:path'
import { Peer } from '@peerqueue/runtime'
import { QueueClient } from '@peerqueue/runtime/client'
import { BENCH_JOBS, SWARM_SIZE, makeQueue, startPeerProcess, startSwarmProcess, type BenchQueue, type PeerProcess } from './lib/peers.js'
import { rssMb, sleep } from './lib/stats.js'
import type { System } from './lib/workload.js'

const EMPTY_PAYLOAD = '{"json":{}}'

export interface PeerqueueSetup {
  readonly system: System
  readonly client: QueueClient
  readonly queue: BenchQueue
  readonly trusted: PeerProcess[]
  /** Worker peer processes (a swarm process holds many peers). */
  readonly workers: PeerProcess[]
  close(): Promise<void>
}

export interface ClusterShape {
  readonly trusted?: number
  /** Worker peer processes, each with `concurrency` slots. */
  readonly workers?: number
  /** Instead of worker processes: this many worker peers of one slot each, in processes of 20. */
  readonly smallWorkers?: number
}

function systemOf(client: QueueClient): System {
  return {
    async enqueue(count) {
      await client.enqueue(Array.from({ length: count }, () => ({ name: 'noop', payload: EMPTY_PAYLOAD })))
    },
    async completed() {
      return (await client.status()).jobs.completed ?? 0
    },
    // run: enqueue and wait in one request, the quickest way to a result (as waitUntilFinished is BullMQ's).
    async enqueueAndWait() {
      const { outcome, job } = await client.run({ name: 'noop', payload: EMPTY_PAYLOAD }, 30_000)
      if (job?.state !== 'completed') throw new Error(`job ended ${job?.state ?? JSON.stringify(outcome)}`)
    },
  }
}

export async function startEmbedded(concurrency: number): Promise<PeerqueueSetup> {
  const queue = await makeQueue(1)
  const peer = await Peer.start({ registry: queue.registry, keyFile: queue.trustedKeys[0]!, dataDir: join(queue.dir, 'data'), jobsDir: BENCH_JOBS, concurrency })
  const client = await QueueClient.connect({ registry: queue.registry, key: queue.clientKey })
  return {
    system: systemOf(client),
    client,
    queue,
    trusted: [],
    workers: [],
    async close() {
      await client.close()
      await peer.close()
    },
  }
}

export async function startCluster(concurrency: number, shape: ClusterShape = {}): Promise<PeerqueueSetup> {
  const queue = await makeQueue(shape.trusted ?? 3)
  const trusted = await Promise.all(queue.trustedKeys.map((key, i) => startPeerProcess(queue, key, `trusted-${i + 1}`, ['--no-work'])))
  const workers: PeerProcess[] = []
  if (shape.smallWorkers) {
    for (let left = shape.smallWorkers, i = 0; left > 0; left -= SWARM_SIZE, i++) workers.push(await startSwarmProcess(queue, `swarm-${i}`, Math.min(SWARM_SIZE, left)))
  } else {
    const { createKeyFile } = await import('@peerqueue/runtime')
    for (let i = 0; i < (shape.workers ?? 1); i++) {
      const workerKey = join(queue.dir, `worker-${i}.key`)
      await createKeyFile(workerKey)
      workers.push(await startPeerProcess(queue, workerKey, `worker-${i}`, ['--jobs', BENCH_JOBS, '--concurrency', String(concurrency)]))
    }
  }
  const client = await QueueClient.connect({ registry: queue.registry, key: queue.clientKey })
  return {
    system: systemOf(client),
    client,
    queue,
    trusted,
    workers,
    async close() {
      await client.close()
      await Promise.all([...trusted, ...workers].map((p) => p.stop()))
    },
  }
}

/**
 * SIGKILLs the leader while a client keeps enqueueing, and measures how long writes stop: from
 * the kill to the first enqueue committed afterwards.
 */
export async function measureFailover(setup: PeerqueueSetup): Promise<number> {
  const leader = (await setup.client.status()).leader
  const index = setup.queue.trustedIds.indexOf(leader ?? '')
  if (index < 0) throw new Error('no leader to kill')
  // Each acknowledged batch with the time it was sent: one sent before the kill and acknowledged
  // after it says nothing of the new leader.
  const committed: { sent: number; at: number }[] = []
  let stop = false
  const load = (async () => {
    const deadline = performance.now() + 20_000
    while (!stop && performance.now() < deadline) {
      const sent = performance.now()
      await setup.system.enqueue(10).then(
        () => void committed.push({ sent, at: performance.now() }),
        () => undefined,
      )
    }
  })()
  await sleep(1_000)
  const killedAt = performance.now()
  await setup.trusted[index]!.stop('SIGKILL')
  const resumed = () => committed.find((c) => c.sent > killedAt)
  while (!resumed() && performance.now() - killedAt < 15_000) await sleep(5)
  stop = true
  await load
  const after = resumed()
  if (after === undefined) throw new Error('writes did not resume within 15 s of killing the leader')
  return Math.round(after.at - killedAt)
}

/** RSS of a trusted peer (one-peer queue, no handlers) once it holds `jobs` queued jobs. */
export async function measureHolderRss(jobs: number): Promise<number | null> {
  const queue = await makeQueue(1)
  const holder = await startPeerProcess(queue, queue.trustedKeys[0]!, 'holder', ['--no-work'])
  const client = await QueueClient.connect({ registry: queue.registry, key: queue.clientKey })
  try {
    const batch = 1_000
    for (let sent = 0; sent < jobs; sent += batch) {
      await client.enqueue(Array.from({ length: Math.min(batch, jobs - sent) }, () => ({ name: 'noop', payload: EMPTY_PAYLOAD })))
    }
    await sleep(1_000)
    return await rssMb(holder.pid)
  } finally {
    await client.close()
    await holder.stop()
  }
}
