// npm run sim -- --seeds N [--seed S] [--peers 3|5] [--steps K] [--json] [--history-out FILE]
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { historyLines, simulate, type SimulationResult } from './simulate.js'

const { values } = parseArgs({
  options: {
    seeds: { type: 'string' },
    seed: { type: 'string' },
    peers: { type: 'string' },
    steps: { type: 'string', default: '3000' },
    json: { type: 'boolean', default: false },
    'history-out': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
})

if (values.help) {
  console.log(`Usage: npm run sim -- [--seeds N] [--seed S] [--peers 3|5] [--steps K] [--json] [--history-out FILE]

Runs the Raft core under seeded random faults (drops, delays, reordering, duplicates,
partitions, crashes that lose unsynced writes, restarts, membership changes) with clients
writing and reading, checking safety every step and linearizability at the end.
  --seeds N          how many seeds (default 100), starting at --seed (default 1)
  --peers 3|5        cluster size (default: both, alternating)
  --steps K          time units of faults per seed (default 3000)
  --history-out F    write the client history of the last seed as JSON lines`)
  process.exit(0)
}

const seeds = Number(values.seeds ?? (values.seed === undefined ? 100 : 1))
const first = values.seed === undefined ? 1 : Number(values.seed)
const steps = Number(values.steps)
const peersFlag = values.peers === undefined ? undefined : Number(values.peers)
if (![seeds, first, steps].every(Number.isInteger) || (peersFlag !== undefined && peersFlag !== 3 && peersFlag !== 5)) {
  console.error('sim: --seeds, --seed and --steps take whole numbers; --peers takes 3 or 5')
  process.exit(2)
}

const failures: SimulationResult[] = []
let elections = 0
let diskFulls = 0
let committed = 0
let operations = 0
let nonLinearizable = 0
let unrecovered = 0
let last: SimulationResult | undefined
const started = Date.now()
for (let seed = first; seed < first + seeds; seed++) {
  const peers = peersFlag ?? (seed % 2 === 0 ? 5 : 3)
  const result = simulate({ seed, peers, steps })
  last = result
  elections += result.elections
  diskFulls += result.diskFulls
  committed += result.committed
  operations += result.operations
  if (result.linearizable === false) nonLinearizable += 1
  if (!result.recovered) unrecovered += 1
  if (result.violations.length > 0 || result.linearizable === false || !result.recovered) {
    failures.push(result)
    if (!values.json) {
      console.error(`seed ${seed} (${peers} peers) FAILED: ${result.violations.slice(0, 3).join('; ') || (result.recovered ? 'history is not linearizable' : 'no recovery after faults stopped')}`)
      console.error(`  replay: npm run sim -- --seed ${seed} --seeds 1 --peers ${peers} --steps ${steps}`)
    }
  }
  if (!values.json && (seed - first + 1) % 100 === 0) console.error(`sim: ${seed - first + 1} seeds, ${failures.length} failed, ${((Date.now() - started) / 1000).toFixed(0)} s`)
}

if (values['history-out'] && last) writeFileSync(values['history-out'], historyLines(last.history))

const summary = {
  seeds,
  steps,
  violations: failures.reduce((n, f) => n + f.violations.length, 0),
  nonLinearizable,
  unrecovered,
  elections,
  diskFulls,
  committed,
  operations,
  failedSeeds: failures.map((f) => f.seed),
  seconds: (Date.now() - started) / 1000,
}
if (values.json) console.log(JSON.stringify(summary))
else console.log(`sim: ${summary.seeds} seeds, ${summary.violations} safety violations, ${nonLinearizable} non-linearizable, ${unrecovered} unrecovered, ${elections} elections, ${diskFulls} writes cut short by a full disk, ${committed} entries committed, ${operations} client operations in ${summary.seconds.toFixed(1)} s`)
process.exit(failures.length > 0 ? 1 : 0)
