// npm run census-sim -- --peers N --polls K --target T [--churn R] [--swing S] [--seed S] [--json] [--trace-out F]
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { simulateCensus, type PollTrace } from './simulate.js'

const { values } = parseArgs({
  options: {
    peers: { type: 'string', default: '100000' },
    polls: { type: 'string', default: '200' },
    target: { type: 'string', default: '50' },
    churn: { type: 'string', default: '0' },
    swing: { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    window: { type: 'string', default: '10' },
    json: { type: 'boolean', default: false },
    'trace-out': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
})

if (values.help) {
  console.log(`Usage: npm run census-sim -- [options]

Runs the census (the leader's poller, the selection hash, the estimator and the window) against
a simulated population in which every peer answers exactly when the selection picks it.
  --peers N      peers at the start (default 100000)
  --polls K      polls to run (default 200)
  --target T     answers wanted per poll (default 50)
  --churn R      share of peers leaving each poll, replaced by newcomers (default 0)
  --swing S      with churn, the population also swings by S of its start over the run (default 0)
  --window W     polls aggregated (default 10)
  --seed S       random seed (default 1)
  --json         print one JSON object
  --trace-out F  write every poll (truth, p, answers, intervals) as JSON lines, for the plot`)
  process.exit(0)
}

const numbers = { peers: Number(values.peers), polls: Number(values.polls), target: Number(values.target), seed: Number(values.seed), window: Number(values.window) }
const churn = Number(values.churn)
const swing = Number(values.swing)
if (!Object.values(numbers).every((n) => Number.isInteger(n) && n >= 1) || !(churn >= 0 && churn < 1) || !(swing >= 0 && swing < 1)) {
  console.error('census-sim: --peers, --polls, --target, --window and --seed take whole numbers of at least 1; --churn and --swing take a share in [0, 1)')
  process.exit(2)
}

const traces: PollTrace[] = []
let lastProgress = Date.now()
const report = simulateCensus({ ...numbers, churn, swing }, (trace) => {
  if (values['trace-out']) traces.push(trace)
  if (!values.json && Date.now() - lastProgress > 5_000) {
    lastProgress = Date.now()
    process.stderr.write(`  poll ${trace.round}/${numbers.polls}: ${trace.truth.peers} peers, ${trace.answers} answers, estimate ${Math.round(trace.window.estimate)}\n`)
  }
})
if (values['trace-out']) writeFileSync(values['trace-out'], traces.map((t) => JSON.stringify(t)).join('\n') + '\n')

if (values.json) {
  console.log(JSON.stringify(report))
} else {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`
  console.log(`census-sim: ${report.peers} peers (${report.finalPeers} at the end), ${report.polls} polls aiming at ${report.target} answers, churn ${report.churn}, swing ${report.swing}, seed ${report.seed}
  answers per poll      ${report.meanAnswers} ± ${report.sdAnswers} (after ${report.warmupPolls} warm-up polls)
  leader messages/poll  ${report.leaderMessagesPerPoll} (at most ${report.maxLeaderMessagesPerPoll})
  95% interval held     ${pct(report.ciCoverage)} of polls (windowed: ${pct(report.windowCoverage)}; idle ${pct(report.idleCoverage)}, free slots ${pct(report.freeSlotsCoverage)})
  windowed estimate     off by ${pct(report.relError)} on average; at the end ${report.estimate} for ${report.truth}
  10 polls pooled       within 10% in ${pct(report.aggregate10WithinTenPct)} of ${report.aggregateBlocks} blocks
  time                  ${report.secondsPerPoll} s a poll`)
}
