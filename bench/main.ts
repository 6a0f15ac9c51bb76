// npm run bench [-- --quick] [-- --json]: peerqueue and BullMQ on Redis, side by side, in one run
// on this machine, with the same no-op handler. See BENCHMARKS.md for what each figure means.
import { cpus, totalmem } from 'node:os'
import { parseArgs } from 'node:util'
import { startBullmq } from './bullmq-side.js'
import { redisServerPath } from './lib/redis.js'
import { rssMb, round, sleep } from './lib/stats.js'
import { measureLatency, measureThroughput, type Latency, type System, type Throughput } from './lib/workload.js'
import { measureFailover, measureHolderRss, startCluster, startEmbedded } from './peerqueue-side.js'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '50' },
    help: { type: 'boolean', short: 'h' },
  },
})

if (values.help) {
  console.log(`Usage: npm run bench -- [--quick] [--json] [--concurrency N]

Measures peerqueue (one embedded trusted peer; 3 and 5 trusted peer processes + 1 worker
process) and BullMQ on Redis (appendfsync always and everysec; one worker process) with the
same no-op handler: enqueue rate, end-to-end throughput, enqueue-to-result latency, leader
failover, throughput with 1, 2 and 4 worker peers and with 60 worker peers of one slot each,
and the memory of an idle worker peer and of a trusted peer holding many queued jobs.
  --quick          smaller runs (about a minute), for a smoke test
  --json           print one JSON object
  --concurrency N  jobs each worker runs at once (default 50)`)
  process.exit(0)
}

const quick = values.quick
const concurrency = Number(values.concurrency)
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error('bench: --concurrency takes a whole number of at least 1')
  process.exit(2)
}
const sizes = quick
  ? { jobs: 1_000, latencyJobs: 100, latencyRate: 100, lightJobs: 40, lightRate: 20, heldJobs: 5_000, curveJobs: 1_000, manyJobs: 500 }
  : { jobs: 20_000, latencyJobs: 1_000, latencyRate: 200, lightJobs: 100, lightRate: 20, heldJobs: 100_000, curveJobs: 10_000, manyJobs: 2_000 }
/** How long the worker waits, ready and without work, before its idle RSS is read. */
const WORKER_IDLE_MS = 15_000
/** Worker peers of one slot each in the many-small-workers row, as the issue's setup and the census test run them. */
const SMALL_WORKERS = 60
const t0 = Date.now()
const say = (line: string) => values.json || console.error(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${line}`)

interface SideFigures extends Throughput {
  readonly latency: Latency
  /** One job at a time, at a light rate: the path itself, without queueing behind other work. */
  readonly lightLatency: Latency
}

async function measure(name: string, system: System): Promise<SideFigures> {
  say(`${name}: warming up`)
  await measureThroughput(system, 200)
  say(`${name}: ${sizes.jobs} jobs end to end`)
  const throughput = await measureThroughput(system, sizes.jobs)
  say(`${name}: ${throughput.throughputPerSecond} jobs/s; latency at ${sizes.latencyRate} jobs/s`)
  const latency = await measureLatency(system, sizes.latencyJobs, sizes.latencyRate)
  say(`${name}: p50 ${latency.p50Ms} ms, p99 ${latency.p99Ms} ms; latency at ${sizes.lightRate} jobs/s`)
  const lightLatency = await measureLatency(system, sizes.lightJobs, sizes.lightRate)
  say(`${name}: p50 ${lightLatency.p50Ms} ms at light load`)
  return { ...throughput, latency, lightLatency }
}

const started = Date.now()

const embedded = await startEmbedded(concurrency)
const embeddedFigures = await measure('peerqueue, 1 trusted peer embedded', embedded.system)
await embedded.close()

const cluster = await startCluster(concurrency)
// The worker just after it is ready (2 s), and once it has waited for work for a while: V8
// returns what start-up left behind at its first idle-time collection, several seconds later.
await sleep(2_000)
const workerStartRssMb = await rssMb(cluster.workers[0]!.pid)
await sleep(quick ? 1_000 : WORKER_IDLE_MS - 2_000)
const workerIdleRssMb = await rssMb(cluster.workers[0]!.pid)
const clusterFigures = await measure('peerqueue, 3 trusted + 1 worker', cluster.system)
say('peerqueue, 3 trusted + 1 worker: SIGKILL the leader under load')
const failoverMs = await measureFailover(cluster)
say(`peerqueue: writes resumed ${failoverMs} ms after the leader was killed`)
await cluster.close()

say('peerqueue, 5 trusted + 1 worker')
const five = await startCluster(concurrency, { trusted: 5 })
const fiveFigures = await measure('peerqueue, 5 trusted + 1 worker', five.system)
await five.close()

// End-to-end throughput as worker peers are added (1 is the row above).
const workerCurve: { workers: number; throughputPerSecond: number }[] = [{ workers: 1, throughputPerSecond: clusterFigures.throughputPerSecond }]
for (const workers of [2, 4]) {
  const setup = await startCluster(concurrency, { workers })
  await measureThroughput(setup.system, 200)
  const { throughputPerSecond } = await measureThroughput(setup.system, sizes.curveJobs)
  say(`peerqueue, 3 trusted + ${workers} workers: ${throughputPerSecond} jobs/s`)
  workerCurve.push({ workers, throughputPerSecond })
  await setup.close()
}

// The seed's network: many peers with one slot each, against one worker with many slots.
say(`peerqueue, 3 trusted + ${SMALL_WORKERS} workers of concurrency 1`)
const many = await startCluster(concurrency, { smallWorkers: SMALL_WORKERS })
await sleep(2_000)
await measureThroughput(many.system, 200)
const manyThroughput = await measureThroughput(many.system, sizes.manyJobs)
const oneWorker = await startCluster(concurrency)
await measureThroughput(oneWorker.system, 200)
const oneWorkerThroughput = await measureThroughput(oneWorker.system, sizes.manyJobs)
await oneWorker.close()
const manyTrustedRssMb = Math.max(...(await Promise.all(many.trusted.map((p) => rssMb(p.pid)))).map((r) => r ?? 0))
say(`peerqueue, ${SMALL_WORKERS} small workers: ${manyThroughput.throughputPerSecond} jobs/s (one worker: ${oneWorkerThroughput.throughputPerSecond}); trusted peer ${manyTrustedRssMb} MB`)
await many.close()

say(`peerqueue: RSS of a trusted peer holding ${sizes.heldJobs} queued jobs`)
const holderRssMb = await measureHolderRss(sizes.heldJobs)

const redis = redisServerPath()
let bullmq: { always: SideFigures; everysec: SideFigures } | null = null
if (!redis) {
  say('BullMQ baseline skipped: redis-server is not installed (Debian/Ubuntu: sudo apt-get install redis-server); peerqueue figures only')
} else {
  const scripts = import.meta.dirname
  const always = await startBullmq(redis, 'always', concurrency, scripts)
  const alwaysFigures = await measure('BullMQ, Redis appendfsync always', always.system)
  await always.close()
  const everysec = await startBullmq(redis, 'everysec', concurrency, scripts)
  const everysecFigures = await measure('BullMQ, Redis appendfsync everysec', everysec.system)
  await everysec.close()
  bullmq = { always: alwaysFigures, everysec: everysecFigures }
}

const ratio = (a: number, b: number | undefined) => (b ? round(a / b, 2) : null)
const report = {
  quick,
  concurrency,
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', memoryGb: round(totalmem() / 2 ** 30, 1), node: process.version },
  sizes,
  peerqueue: {
    embedded: embeddedFigures,
    cluster: { ...clusterFigures, failoverMs, workerStartRssMb, workerIdleRssMb },
    fiveTrusted: fiveFigures,
    workerCurve,
    manySmallWorkers: { workers: SMALL_WORKERS, jobs: sizes.manyJobs, throughputPerSecond: manyThroughput.throughputPerSecond, oneWorkerThroughputPerSecond: oneWorkerThroughput.throughputPerSecond, trustedRssMb: manyTrustedRssMb },
    holder: { jobs: sizes.heldJobs, rssMb: holderRssMb },
  },
  bullmq,
  ratios: {
    throughputVsBullmqAlways: ratio(clusterFigures.throughputPerSecond, bullmq?.always.throughputPerSecond),
    latencyP50VsBullmqAlways: ratio(clusterFigures.latency.p50Ms, bullmq?.always.latency.p50Ms),
    embeddedThroughputVsBullmqAlways: ratio(embeddedFigures.throughputPerSecond, bullmq?.always.throughputPerSecond),
    embeddedLatencyP50VsBullmqAlways: ratio(embeddedFigures.latency.p50Ms, bullmq?.always.latency.p50Ms),
    lightLatencyP50VsBullmqAlways: ratio(clusterFigures.lightLatency.p50Ms, bullmq?.always.lightLatency.p50Ms),
    throughputVsBullmqEverysec: ratio(clusterFigures.throughputPerSecond, bullmq?.everysec.throughputPerSecond),
    fiveTrustedThroughputVsBullmqAlways: ratio(fiveFigures.throughputPerSecond, bullmq?.always.throughputPerSecond),
    manyWorkersVsOneWorker: ratio(manyThroughput.throughputPerSecond, oneWorkerThroughput.throughputPerSecond),
    workerIdleRssMb,
  },
  seconds: Math.round((Date.now() - started) / 1000),
}

if (values.json) {
  console.log(JSON.stringify(report))
} else {
  const row = (name: string, f: SideFigures, extra = '') =>
    `| ${name} | ${f.enqueuePerSecond} | ${f.throughputPerSecond} | ${f.latency.p50Ms} | ${f.latency.p99Ms} | ${f.lightLatency.p50Ms} |${extra}`
  console.log(`
| setup | enqueue jobs/s | end-to-end jobs/s | p50 ms | p99 ms | p50 ms, light load |
|---|---|---|---|---|---|
${row('peerqueue, 1 trusted peer embedded', embeddedFigures)}
${row('peerqueue, 3 trusted + 1 worker', clusterFigures)}
${row('peerqueue, 5 trusted + 1 worker', fiveFigures)}
${bullmq ? `${row('BullMQ, appendfsync always', bullmq.always)}\n${row('BullMQ, appendfsync everysec', bullmq.everysec)}` : '| BullMQ | (redis-server not installed) | | | | |'}

end-to-end jobs/s by worker peers (3 trusted): ${workerCurve.map((c) => `${c.workers}: ${c.throughputPerSecond}`).join(', ')}
${SMALL_WORKERS} worker peers of concurrency 1: ${manyThroughput.throughputPerSecond} jobs/s against ${oneWorkerThroughput.throughputPerSecond} for one worker of ${concurrency} (${sizes.manyJobs} jobs each); a trusted peer with them connected: ${manyTrustedRssMb} MB
failover (SIGKILL the leader, until writes commit again): ${failoverMs} ms
idle worker peer RSS: ${workerIdleRssMb} MB after ${quick ? 3 : WORKER_IDLE_MS / 1000} s without work (${workerStartRssMb} MB 2 s after it was ready); trusted peer holding ${sizes.heldJobs} queued jobs: ${holderRssMb} MB
ratios: ${JSON.stringify(report.ratios)}
(${report.seconds} s, ${report.machine.cpus} × ${report.machine.model}, Node ${report.machine.node}${quick ? ', quick' : ''})`)
}
process.exit(0)
