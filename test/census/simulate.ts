// The census against a simulated population: the real poller, tally, selection and estimator,
// with peers that answer exactly when the selection hash picks them. No libp2p: what is
// simulated is the network, not the census.
import { estimatePopulation, estimateTotal } from '../../runtime/src/census/estimator.js'
import { CensusPoller } from '../../runtime/src/census/poller.js'
import { selectorFor } from '../../runtime/src/census/selection.js'
import type { Interval } from '../../runtime/src/census/estimator.js'
import { Random } from '../sim/random.js'
import { Population, type Truth } from './population.js'

export interface CensusSimOptions {
  readonly peers: number
  readonly polls: number
  readonly target: number
  /** Share of peers that leave each poll, replaced by newcomers. */
  readonly churn: number
  /** With churn, the population also swings by this share of its start over the run (a full sine period). */
  readonly swing: number
  readonly seed: number
  readonly window?: number
}

export interface PollTrace {
  readonly round: number
  readonly truth: Truth
  readonly p: number
  readonly answers: number
  readonly single: Interval
  readonly window: Interval
  readonly windowPolls: number
  /** The window's estimate of free handler slots (what saturation admits by). */
  readonly freeSlots: Interval
}

export interface CensusSimReport {
  readonly peers: number
  readonly finalPeers: number
  readonly polls: number
  readonly target: number
  readonly churn: number
  readonly swing: number
  readonly seed: number
  /** Polls before the first whose p came from an estimate of at least 10 answers. */
  readonly warmupPolls: number
  readonly meanAnswers: number
  readonly sdAnswers: number
  /** The windowed estimate at the end, and the truth then. */
  readonly estimate: number
  readonly truth: number
  /** Mean |windowed estimate − truth| / truth over the polls after warm-up. */
  readonly relError: number
  /** Share of polls whose own 95% interval held the true population. */
  readonly ciCoverage: number
  /** The same for the windowed interval. */
  readonly windowCoverage: number
  /** Share of polls whose own intervals held the true idle count and free slots. */
  readonly idleCoverage: number
  readonly freeSlotsCoverage: number
  /** Share of disjoint blocks of 10 polls whose pooled estimate was within 10% of the (mean) truth. */
  readonly aggregate10WithinTenPct: number
  readonly aggregateBlocks: number
  readonly leaderMessagesPerPoll: number
  readonly maxLeaderMessagesPerPoll: number
  readonly secondsPerPoll: number
}

export function simulateCensus(options: CensusSimOptions, onPoll?: (trace: PollTrace) => void): CensusSimReport {
  const random = new Random(options.seed)
  const population = new Population(random, options.peers)
  const hex = () => Array.from({ length: 4 }, () => Math.floor(random.next() * 2 ** 32).toString(16).padStart(8, '0')).join('')
  const poller = new CensusPoller({ targetSample: options.target, windowSize: options.window, pollId: hex })
  const started = performance.now()
  const counted: { answers: number; single: boolean; window: boolean; idle: boolean; slots: boolean; error: number }[] = []
  const blocks: { p: number; count: number; truth: number }[][] = [[]]
  let warmupPolls = options.polls
  let messagesMax = 0
  let messagesTotal = 0
  let last: { estimate: number; truth: number } = { estimate: 0, truth: population.size }
  for (let round = 1; round <= options.polls; round++) {
    const poll = poller.next()
    const truth = population.truth()
    // The peers' side: each one checks its own selection with the same function the leader uses.
    const selected = selectorFor(poll.pollId, poll.p)
    let idle = 0
    let slots = 0
    let slotsSquared = 0
    let messages = 1 // the poll itself, published once
    population.forEachSelected(selected, (peerId, report) => {
      messages++
      if (poller.answer(poll.pollId, peerId, report) !== 'counted') return
      if (!report.busy) idle++
      slots += report.freeSlots
      slotsSquared += report.freeSlots ** 2
    })
    const estimate = poller.close(round)!
    messagesTotal += messages
    messagesMax = Math.max(messagesMax, messages)
    const single = estimatePopulation([{ p: poll.p, count: estimate.answers }])
    const trace: PollTrace = { round, truth, p: poll.p, answers: estimate.answers, single, window: estimate.population, windowPolls: estimate.polls, freeSlots: estimate.freeSlots }
    onPoll?.(trace)
    if (round > warmupPolls) {
      const idleInterval = estimatePopulation([{ p: poll.p, count: idle }])
      const slotInterval = estimateTotal([{ p: poll.p, count: estimate.answers, sum: slots, sumOfSquares: slotsSquared }])
      counted.push({
        answers: estimate.answers,
        single: holds(single, truth.peers),
        window: holds(estimate.population, truth.peers),
        idle: holds(idleInterval, truth.idle),
        slots: holds(slotInterval, truth.freeSlots),
        error: Math.abs(estimate.population.estimate - truth.peers) / truth.peers,
      })
      const block = blocks.at(-1)!
      block.push({ p: poll.p, count: estimate.answers, truth: truth.peers })
      if (block.length === 10) blocks.push([])
    }
    last = { estimate: estimate.population.estimate, truth: truth.peers }
    // The next poll's p comes from this window: from there on the census is under way.
    if (warmupPolls === options.polls && estimate.sampled >= 10) warmupPolls = round
    churn(population, random, options, round)
  }
  const full = blocks.filter((block) => block.length === 10)
  const within = full.filter((block) => {
    const truth = block.reduce((s, b) => s + b.truth, 0) / block.length
    return Math.abs(estimatePopulation(block).estimate - truth) / truth <= 0.1
  })
  const answers = counted.map((c) => c.answers)
  const mean = average(answers)
  return {
    peers: options.peers,
    finalPeers: population.size,
    polls: options.polls,
    target: options.target,
    churn: options.churn,
    swing: options.swing,
    seed: options.seed,
    warmupPolls,
    meanAnswers: round2(mean),
    sdAnswers: round2(Math.sqrt(average(answers.map((a) => (a - mean) ** 2)))),
    estimate: Math.round(last.estimate),
    truth: last.truth,
    relError: round4(average(counted.map((c) => c.error))),
    ciCoverage: round4(share(counted, (c) => c.single)),
    windowCoverage: round4(share(counted, (c) => c.window)),
    idleCoverage: round4(share(counted, (c) => c.idle)),
    freeSlotsCoverage: round4(share(counted, (c) => c.slots)),
    aggregate10WithinTenPct: round4(full.length === 0 ? 0 : within.length / full.length),
    aggregateBlocks: full.length,
    leaderMessagesPerPoll: round2(messagesTotal / options.polls),
    maxLeaderMessagesPerPoll: messagesMax,
    secondsPerPoll: round4((performance.now() - started) / 1000 / options.polls),
  }
}

/** Peers leave at the churn rate; arrivals keep the population on its swing. */
function churn(population: Population, random: Random, options: CensusSimOptions, round: number): void {
  if (options.churn <= 0) return
  const path = (r: number) => Math.round(options.peers * (1 + options.swing * Math.sin((2 * Math.PI * r) / options.polls)))
  const size = population.size
  const leaving = Math.max(Math.round(size * options.churn * (0.5 + random.next())), size - path(round + 1))
  population.leave(Math.min(size, leaving))
  population.join(Math.max(0, path(round + 1) - population.size))
}

function holds(interval: Interval, value: number): boolean {
  return interval.low <= value && value <= interval.high
}

function average(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((s, v) => s + v, 0) / values.length
}

function share<T>(items: readonly T[], test: (item: T) => boolean): number {
  return items.length === 0 ? 0 : items.filter(test).length / items.length
}

function round2(x: number): number {
  return Math.round(x * 100) / 100
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000
}
