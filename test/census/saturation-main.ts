// npm run saturation-sim -- [--peers N] [--polls K] [--churn R] [--swing S] [--jobs-per-free-slot J] [--seed S] [--json] [--plot-out F]
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { simulateSaturation, type SaturationPoll } from './saturation-sim.js'

const { values } = parseArgs({
  options: {
    peers: { type: 'string', default: '1000000' },
    polls: { type: 'string', default: '100' },
    churn: { type: 'string', default: '0.02' },
    swing: { type: 'string', default: '0.4' },
    'jobs-per-free-slot': { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    'plot-out': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help) {
  console.log(`Usage: npm run saturation-sim -- [options]

The census over a simulated network that joins and leaves, the real admission rule turning each
estimate into a bound on unfinished jobs, and two submitters pushing jobs every poll: one
flooding (three times what the network runs), one steady (a quarter of it).
  --peers N                 peers at the start (default 1000000)
  --polls K                 polls (default 100)
  --churn R, --swing S      as census-sim (defaults 0.02 and 0.4)
  --jobs-per-free-slot J    the registry's saturation.jobsPerFreeSlot (default 2)
  --json                    print one JSON object
  --plot-out F              draw the bound, the true bound and the unfinished jobs as an SVG`)
  process.exit(0)
}
const options = { peers: Number(values.peers), polls: Number(values.polls), target: 50, churn: Number(values.churn), swing: Number(values.swing), seed: Number(values.seed), jobsPerFreeSlot: Number(values['jobs-per-free-slot']) }
if (![options.peers, options.polls, options.seed].every((n) => Number.isInteger(n) && n >= 1) || !(options.churn >= 0 && options.churn < 1) || !(options.swing >= 0 && options.swing < 1) || !(options.jobsPerFreeSlot > 0)) {
  console.error('saturation-sim: --peers, --polls and --seed take whole numbers of at least 1; --churn and --swing a share in [0, 1); --jobs-per-free-slot a positive number')
  process.exit(2)
}
const polls: SaturationPoll[] = []
const report = simulateSaturation(options, (poll) => {
  polls.push(poll)
  if (!values.json && poll.round % 20 === 0) process.stderr.write(`  poll ${poll.round}/${options.polls}: bound ${poll.bound}, unfinished ${poll.unfinished}, true bound ${poll.trueBound}\n`)
})
if (values['plot-out']) writeFileSync(values['plot-out'], plot(polls))
if (values.json) console.log(JSON.stringify(report))
else {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`
  console.log(`saturation-sim: ${options.peers.toLocaleString('en')} peers, ${options.polls} polls, ${options.jobsPerFreeSlot} jobs per free slot
  unfinished jobs within the census' bound: ${pct(report.withinBound)} of polls; within the true bound: ${pct(report.withinTrueBound)} (at most ${pct(report.maxOverTrueBound)} over)
  bound / true bound: ${report.boundOverTrue.toFixed(3)} on average (the census' lower end)
  admissions against completions: ${pct(report.admissionTracking)} apart on average
  admitted: the steady submitter ${pct(report.steadyAdmittedShare)} of its demand, the flooding one ${pct(report.floodAdmittedShare)}`)
}

function plot(points: readonly SaturationPoll[]): string {
  const W = 900
  const H = 420
  const [left, right, top, bottom] = [90, 20, 40, 50]
  const yMax = Math.max(...points.map((p) => Math.max(p.trueBound, p.bound, p.unfinished))) * 1.05
  const x = (round: number) => left + ((round - 1) / Math.max(1, points.length - 1)) * (W - left - right)
  const y = (v: number) => top + (1 - v / yMax) * (H - top - bottom)
  const line = (value: (p: SaturationPoll) => number) => points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.round).toFixed(1)},${y(value(p)).toFixed(1)}`).join(' ')
  const ticks = Array.from({ length: 6 }, (_, i) => (yMax / 5) * i)
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${left}" y="22" font-size="14">Saturation: ${options.peers.toLocaleString('en')} peers at the start, ${options.churn * 100}% leaving a poll, swing ±${options.swing * 100}%, ${options.jobsPerFreeSlot} jobs per free slot</text>
${ticks.map((t) => `<line x1="${left}" x2="${W - right}" y1="${y(t)}" y2="${y(t)}" stroke="#eee"/><text x="${left - 6}" y="${y(t) + 4}" text-anchor="end">${Math.round(t).toLocaleString('en')}</text>`).join('\n')}
<text x="${(left + W - right) / 2}" y="${H - 12}" text-anchor="middle">poll</text>
<path d="${line((p) => p.trueBound)}" fill="none" stroke="black" stroke-width="1.4" stroke-dasharray="5,3"/>
<path d="${line((p) => p.bound)}" fill="none" stroke="#08519c" stroke-width="1.8"/>
<path d="${line((p) => p.unfinished)}" fill="none" stroke="#e6550d" stroke-width="1.4"/>
<g transform="translate(${W - right - 330}, ${H - bottom - 80})">
<rect width="325" height="70" fill="white" stroke="#ccc"/>
<line x1="10" x2="40" y1="15" y2="15" stroke="black" stroke-width="1.4" stroke-dasharray="5,3"/><text x="48" y="19">true bound (jobs per free slot × true free slots)</text>
<line x1="10" x2="40" y1="33" y2="33" stroke="#08519c" stroke-width="1.8"/><text x="48" y="37">bound from the census (lower end of its interval)</text>
<line x1="10" x2="40" y1="51" y2="51" stroke="#e6550d" stroke-width="1.4"/><text x="48" y="55">unfinished jobs</text>
</g>
</svg>
`
}
