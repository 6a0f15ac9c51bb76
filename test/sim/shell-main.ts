// npm run sim:shell -- [--seeds N] [--seed S] [--peers 3|5] [--steps K] [--json]
import { parseArgs } from 'node:util'
import { simulateShell, type ShellRun } from './shell-simulate.js'

const { values } = parseArgs({
  options: {
    seeds: { type: 'string' },
    seed: { type: 'string' },
    peers: { type: 'string' },
    steps: { type: 'string', default: '2000' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
})

if (values.help) {
  console.log(`Usage: npm run sim:shell -- [--seeds N] [--seed S] [--peers 3|5] [--steps K] [--json]

Runs the real RaftNode, RaftStorage and write-ahead log, each node on an in-memory disk that
loses unsynced writes when it crashes and can fill up, with the queue state machine, under
seeded faults (crashes, full disks, partitions, dropped and reordered messages, slow fsyncs).
Checks election safety and one queue state per log index on every step, and at the end that
every acknowledged job is on every node and every node caught up.
  --seeds N    how many seeds (default 100), starting at --seed (default 1)
  --peers 3|5  cluster size (default: both, alternating)
  --steps K    time units per seed (default 2000)`)
  process.exit(0)
}

const seeds = Number(values.seeds ?? (values.seed === undefined ? 100 : 1))
const first = values.seed === undefined ? 1 : Number(values.seed)
const steps = Number(values.steps)
const peersFlag = values.peers === undefined ? undefined : Number(values.peers)
if (![seeds, first, steps].every(Number.isInteger) || seeds < 1 || steps < 100 || (peersFlag !== undefined && peersFlag !== 3 && peersFlag !== 5)) {
  console.error('sim:shell: --seeds and --seed take whole numbers, --steps at least 100; --peers takes 3 or 5')
  process.exit(2)
}

const started = Date.now()
const failures: ShellRun[] = []
let crashes = 0
let diskFulls = 0
let acknowledged = 0
for (let seed = first; seed < first + seeds; seed++) {
  const peers = peersFlag ?? (seed % 2 === 0 ? 5 : 3)
  const run = await simulateShell(seed, { peers, steps })
  crashes += run.crashes
  diskFulls += run.diskFulls
  acknowledged += run.acknowledged
  if (run.violations.length > 0) {
    failures.push(run)
    if (!values.json) {
      console.error(`seed ${seed} (${peers} peers) FAILED: ${run.violations.slice(0, 3).join('; ')}`)
      console.error(`  replay: npm run sim:shell -- --seed ${seed} --peers ${peers} --steps ${steps}`)
    }
  }
  if (!values.json && (seed - first + 1) % 100 === 0) console.error(`sim:shell: ${seed - first + 1} seeds, ${failures.length} failed, ${((Date.now() - started) / 1000).toFixed(0)} s`)
}
const summary = { seeds, steps, failedSeeds: failures.map((f) => f.seed), crashes, diskFulls, acknowledged, seconds: (Date.now() - started) / 1000 }
if (values.json) console.log(JSON.stringify(summary))
else console.log(`sim:shell: ${seeds} seeds, ${failures.length} failed, ${crashes} crashes, ${diskFulls} full disks, ${acknowledged} jobs acknowledged in ${summary.seconds.toFixed(1)} s`)
process.exit(failures.length > 0 ? 1 : 0)
