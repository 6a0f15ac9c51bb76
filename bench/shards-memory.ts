// npm run bench:shards [-- --jobs N] [--trusted N] [--per-shard N] [--json]: memory of a queue
// that grew into shards. Trusted peers (no handlers, so every job stays queued) take N jobs
// through the client; the root mints a shard each time one fills up. Reported: each peer's RSS,
// the groups it keeps, and the jobs in each shard.
import { parseArgs } from 'node:util'
import { QueueClient } from '@peerqueue/runtime/client'
import { makeQueue, startPeerProcess, type PeerProcess } from './lib/peers.js'
import { rssMb, sleep } from './lib/stats.js'

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '1000000' },
    trusted: { type: 'string', default: '5' },
    'per-shard': { type: 'string', default: '100000' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help) {
  console.log(`Usage: npm run bench:shards -- [--jobs N] [--trusted N] [--per-shard N] [--json]

Starts N trusted peers (default 5, no handlers) with shards.maxJobsPerShard set by --per-shard
(default 100,000; a value of at least --jobs means one group holds everything, as before
shards), enqueues --jobs jobs (default 1,000,000) and reports each peer's RSS, the groups it
keeps and each shard's jobs.`)
  process.exit(0)
}
const jobs = Number(values.jobs)
const trustedCount = Number(values.trusted)
const perShard = Number(values['per-shard'])
if (![jobs, trustedCount, perShard].every((n) => Number.isInteger(n) && n >= 1)) {
  console.error('bench:shards: --jobs, --trusted and --per-shard take whole numbers of at least 1')
  process.exit(2)
}
const say = (line: string) => values.json || console.error(line)
const BATCH = 2_000
const IN_FLIGHT = 4
const DEADLINE_MS = 30 * 60_000

const queue = await makeQueue(trustedCount, `    shards: { maxJobsPerShard: ${perShard}, maxShards: 1024 }\n`)
const peers: PeerProcess[] = []
let client: QueueClient | undefined
try {
  for (const [i, key] of queue.trustedKeys.entries()) peers.push(await startPeerProcess(queue, key, `trusted-${i + 1}`, ['--no-work']))
  client = await QueueClient.connect({ registry: queue.registry, key: queue.clientKey })
  const started = Date.now()
  let sent = 0
  let reported = 0
  const lane = async () => {
    while (sent < jobs && Date.now() - started < DEADLINE_MS) {
      const count = Math.min(BATCH, jobs - sent)
      sent += count
      const outcomes = await client!.enqueue(Array.from({ length: count }, () => ({ name: 'noop', payload: '{"json":{}}' })))
      const refused = outcomes.find((o) => !o.ok)
      if (refused && !refused.ok) throw new Error(`enqueue refused: ${refused.code} ${refused.message}`)
      if (sent - reported >= 100_000) {
        reported = sent
        say(`bench:shards: ${sent} jobs stored, ${Math.round(sent / ((Date.now() - started) / 1000))} jobs/s`)
      }
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane))
  if (sent < jobs) throw new Error(`only ${sent} of ${jobs} jobs sent within ${DEADLINE_MS / 60_000} minutes`)
  const seconds = (Date.now() - started) / 1000
  // Let snapshots and the heap settle before reading memory.
  await sleep(10_000)
  const status = await client.status()
  const shards = status.shards ?? []
  const rss = await Promise.all(peers.map((p) => rssMb(p.pid)))
  const groupsOf = (id: string) => 1 + shards.filter((s) => s.members.includes(id)).length
  const jobsOf = (s: (typeof shards)[number]) => Object.values(s.jobs ?? {}).reduce((a, b) => a + b, 0)
  const rootJobs = Object.values(status.jobs).reduce((a, b) => a + b, 0) - shards.reduce((a, s) => a + jobsOf(s), 0)
  const heldOf = (id: string) => rootJobs + shards.filter((s) => s.members.includes(id)).reduce((a, s) => a + jobsOf(s), 0)
  const report = {
    jobs,
    trusted: trustedCount,
    maxJobsPerShard: perShard,
    enqueueSeconds: Math.round(seconds),
    enqueuePerSecond: Math.round(jobs / seconds),
    totalJobs: Object.values(status.jobs).reduce((a, b) => a + b, 0),
    rootJobs,
    shards: shards.map((s) => ({ id: s.id, jobs: jobsOf(s), members: s.members.map((m) => queue.trustedIds.indexOf(m) + 1) })),
    peers: queue.trustedIds.map((id, i) => ({ peer: i + 1, rssMb: rss[i], groups: groupsOf(id), jobsHeld: heldOf(id) })),
  }
  if (process.env.PEERQUEUE_BENCH_LOGS) for (const [i, p] of peers.entries()) console.error(`--- trusted-${i + 1}\n${p.output()}`)
  if (values.json) console.log(JSON.stringify(report))
  else {
    console.log(`${jobs} jobs on ${trustedCount} trusted peers, maxJobsPerShard ${perShard}: stored in ${report.enqueueSeconds} s (${report.enqueuePerSecond} jobs/s); root ${rootJobs} jobs, ${shards.length} shard(s)`)
    for (const s of report.shards) console.log(`  shard ${s.id}: ${s.jobs} jobs on peers ${s.members.join(', ')}`)
    for (const p of report.peers) console.log(`  peer ${p.peer}: ${p.rssMb} MB RSS, ${p.groups} group(s), ${p.jobsHeld} jobs held`)
  }
} finally {
  await client?.close()
  await Promise.all(peers.map((p) => p.stop()))
}
