// The workloads, written once against what both queues offer: enqueue a batch of no-op jobs,
// count completed jobs, and enqueue one job and wait for its result.
import { percentile, round, sleep, until } from './stats.js'

export interface System {
  enqueue(count: number): Promise<void>
  completed(): Promise<number>
  enqueueAndWait(): Promise<void>
}

export interface Throughput {
  readonly jobs: number
  /** Jobs a second until every job was stored. */
  readonly enqueuePerSecond: number
  /** Jobs a second from the first enqueue to the last result. */
  readonly throughputPerSecond: number
}

/** Enqueues `jobs` in batches, several in flight, while the workers run them; then waits for the last. */
export async function measureThroughput(system: System, jobs: number, batch = 250, inFlight = 4): Promise<Throughput> {
  const before = await system.completed()
  const started = performance.now()
  let sent = 0
  const lanes = Array.from({ length: inFlight }, async () => {
    while (sent < jobs) {
      const n = Math.min(batch, jobs - sent)
      sent += n
      await system.enqueue(n)
    }
  })
  await Promise.all(lanes)
  const enqueued = performance.now()
  const done = await until(async () => (await system.completed()) - before >= jobs, 300_000, 10)
  if (!done) throw new Error(`only ${(await system.completed()) - before} of ${jobs} jobs completed within 300 s`)
  const finished = performance.now()
  return { jobs, enqueuePerSecond: Math.round(jobs / ((enqueued - started) / 1000)), throughputPerSecond: Math.round(jobs / ((finished - started) / 1000)) }
}

export interface Latency {
  readonly jobs: number
  readonly ratePerSecond: number
  readonly p50Ms: number
  readonly p99Ms: number
}

/** One job at a time at a steady rate (moderate load): each job's time from enqueue to its result. */
export async function measureLatency(system: System, jobs: number, ratePerSecond: number): Promise<Latency> {
  const times: number[] = []
  const pending: Promise<void>[] = []
  const gap = 1000 / ratePerSecond
  const started = performance.now()
  for (let i = 0; i < jobs; i++) {
    const wait = started + i * gap - performance.now()
    if (wait > 0) await sleep(wait)
    const t0 = performance.now()
    pending.push(system.enqueueAndWait().then(() => void times.push(performance.now() - t0)))
  }
  await Promise.all(pending)
  times.sort((a, b) => a - b)
  return { jobs, ratePerSecond, p50Ms: round(percentile(times, 0.5), 2), p99Ms: round(percentile(times, 0.99), 2) }
}
