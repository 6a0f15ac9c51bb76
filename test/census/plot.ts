// npm run census-plot: runs the census simulation with churn and draws the estimate and its
// interval against the truth, poll by poll, as docs/census-churn.svg.
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { simulateCensus, type PollTrace } from './simulate.js'

const { values } = parseArgs({
  options: {
    peers: { type: 'string', default: '50000' },
    polls: { type: 'string', default: '200' },
    churn: { type: 'string', default: '0.02' },
    swing: { type: 'string', default: '0.4' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: 'docs/census-churn.svg' },
  },
})

const options = { peers: Number(values.peers), polls: Number(values.polls), target: 50, churn: Number(values.churn), swing: Number(values.swing), seed: Number(values.seed) }
const traces: PollTrace[] = []
const report = simulateCensus(options, (trace) => traces.push(trace))

const W = 900
const H = 420
const left = 80
const right = 20
const top = 40
const bottom = 50
const shown = traces.slice(report.warmupPolls)
const highs = shown.map((t) => Math.max(t.truth.peers, Number.isFinite(t.window.high) ? t.window.high : 0, t.single.estimate))
const yMax = niceCeiling(Math.max(...highs) * 1.05)
const x = (round: number) => left + ((round - 1) / (options.polls - 1)) * (W - left - right)
const y = (value: number) => top + (1 - Math.min(value, yMax) / yMax) * (H - top - bottom)
const path = (points: readonly [number, number][]) => points.map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${px.toFixed(1)},${py.toFixed(1)}`).join(' ')

const band = [...shown.map((t) => [x(t.round), y(t.window.high)] as [number, number]), ...[...shown].reverse().map((t) => [x(t.round), y(t.window.low)] as [number, number])]
const ticks = Array.from({ length: 6 }, (_, i) => (yMax / 5) * i)
const roundTicks = Array.from({ length: 5 }, (_, i) => Math.round(1 + ((options.polls - 1) / 4) * i))
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${left}" y="22" font-size="14">Census with churn: ${options.peers.toLocaleString('en')} peers at the start, ${options.churn * 100}% leaving a poll, swing ±${options.swing * 100}%, target 50 answers</text>
${ticks.map((t) => `<line x1="${left}" x2="${W - right}" y1="${y(t)}" y2="${y(t)}" stroke="#eee"/><text x="${left - 6}" y="${y(t) + 4}" text-anchor="end">${Math.round(t).toLocaleString('en')}</text>`).join('\n')}
${roundTicks.map((r) => `<text x="${x(r)}" y="${H - bottom + 18}" text-anchor="middle">${r}</text>`).join('\n')}
<text x="${(left + W - right) / 2}" y="${H - 12}" text-anchor="middle">poll</text>
<path d="${path(band)} Z" fill="#9ecae1" fill-opacity="0.5" stroke="none"/>
${shown.map((t) => `<circle cx="${x(t.round).toFixed(1)}" cy="${y(t.single.estimate).toFixed(1)}" r="1.6" fill="#999"/>`).join('\n')}
<path d="${path(shown.map((t) => [x(t.round), y(t.window.estimate)]))}" fill="none" stroke="#08519c" stroke-width="1.8"/>
<path d="${path(shown.map((t) => [x(t.round), y(t.truth.peers)]))}" fill="none" stroke="black" stroke-width="1.4" stroke-dasharray="5,3"/>
<g transform="translate(${W - right - 330}, ${top + 8})">
<rect width="325" height="70" fill="white" stroke="#ccc"/>
<line x1="10" x2="40" y1="15" y2="15" stroke="black" stroke-width="1.4" stroke-dasharray="5,3"/><text x="48" y="19">true number of peers</text>
<line x1="10" x2="40" y1="33" y2="33" stroke="#08519c" stroke-width="1.8"/><text x="48" y="37">estimate over the window, with its 95% band</text>
<circle cx="25" cy="52" r="2.5" fill="#999"/><text x="48" y="56">one poll alone (k / p)</text>
</g>
</svg>
`
writeFileSync(values.out, svg)
console.log(`census-plot: wrote ${values.out} (relError ${report.relError}, per-poll coverage ${report.ciCoverage}, window coverage ${report.windowCoverage})`)

function niceCeiling(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(value))
  return Math.ceil(value / magnitude) * magnitude
}
