// npm run sim:shards -- [--seeds N] [--seed S] [--steps K] [--json]
import { parseArgs } from 'node:util'
import { simulateShards, type ShardSimulationResult } from './shard-simulate.js'

const { values } = parseArgs({
  options: {
    seeds: { type: 'string' },
    seed: { type: 'string' },
    steps: { type: 'string', default: '3000' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
})

if (values.help) {
  console.log(`Usage: npm run sim:shards -- [--seeds N] [--seed S] [--steps K] [--json]

Simulates a sharded queue: a root Raft group of three trusted peers whose log holds the shard
map, and a Raft group per shard kept by root peers and delegates, minted as jobs pile up,
drained, sealed and retired, its members replaced when one is gone for good, its certificate
signed by a majority of root members and renewed before it lapses. Faults hit peers (a crash
takes down a peer's node in every group it keeps), links, and the root itself (split in three,
so certificates lapse). Checks Raft safety and the queue's rules in every group at every step,
and at the end: no job in two shards, one set of members per shard and epoch, no unfinished job
in a retired shard, every job ended.
  --seeds N    how many seeds (default 100), starting at --seed (default 1)
  --steps K    time units of faults per seed before the calm (default 3000)`)
  process.exit(0)
}

const seeds = Number(values.seeds ?? (values.seed === undefined ? 100 : 1))
const first = values.seed === undefined ? 1 : Number(values.seed)
const steps = Number(values.steps)
if (![seeds, first, steps].every(Number.isInteger) || seeds < 1 || steps < 100) {
  console.error('sim:shards: --seeds and --seed take whole numbers, --steps at least 100')
  process.exit(2)
}

const started = Date.now()
const failures: ShardSimulationResult[] = []
const totals = { minted: 0, retired: 0, jobs: 0, certificates: 0, renewals: 0, replacements: 0, certificatesRefused: 0 }
for (let seed = first; seed < first + seeds; seed++) {
  const run = simulateShards(seed, steps)
  for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += run[key]
  if (run.violations.length > 0 || !run.settled) {
    failures.push(run)
    if (!values.json) {
      console.error(`seed ${seed} FAILED: ${run.violations.slice(0, 3).join('; ') || 'did not settle'}`)
      console.error(`  replay: npm run sim:shards -- --seed ${seed} --steps ${steps}`)
    }
  }
  if (!values.json && (seed - first + 1) % 100 === 0) console.error(`sim:shards: ${seed - first + 1} seeds, ${failures.length} failed, ${((Date.now() - started) / 1000).toFixed(0)} s`)
}
const summary = { seeds, steps, failedSeeds: failures.map((f) => f.seed), ...totals, seconds: (Date.now() - started) / 1000 }
if (values.json) console.log(JSON.stringify(summary))
else console.log(`sim:shards: ${seeds} seeds, ${failures.length} failed; ${totals.minted} shards minted, ${totals.retired} retired, ${totals.replacements} members replaced, ${totals.certificates} certificates (${totals.renewals} renewals), ${totals.certificatesRefused} refused as lapsed, ${totals.jobs} jobs, in ${summary.seconds.toFixed(1)} s`)
process.exit(failures.length > 0 ? 1 : 0)
