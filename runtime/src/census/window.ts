// Aggregation of recent polls. A window of polls narrows the interval (ten polls of 50 answers
// act like one of 500), but it assumes the population held still while they were taken. When
// the population moves, the window must let go of the old polls or the estimate lags: a poll
// that contradicts the polls before it, or a newer half that contradicts the older half,
// drops the polls that no longer describe the network.
import { Z95, estimatePopulation, estimateTotal, type Interval } from './estimator.js'
import type { PollSummary } from './poll.js'

/** |z| beyond which a newest poll is taken to show a changed population (two-sided p ≈ 0.001). */
const CHANGE_Z = 3.29
/** The same for the halves of the window: each half holds several polls, so smaller shifts show. */
const DRIFT_Z = 2.58

export interface CensusEstimate {
  /** Polls aggregated. */
  readonly polls: number
  readonly round: number
  /** When the newest of them closed. */
  readonly at: number
  /** p and answers of the newest poll. */
  readonly p: number
  readonly answers: number
  /** Answers over all the polls aggregated. */
  readonly sampled: number
  readonly population: Interval
  readonly busy: Interval
  readonly idle: Interval
  readonly freeSlots: Interval
  /** Peers serving each handler name. */
  readonly handlers: Readonly<Record<string, Interval>>
}

export class CensusWindow {
  private polls: PollSummary[] = []

  constructor(readonly size = 10) {
    if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`a census window holds at least one poll, got ${size}`)
  }

  get length(): number {
    return this.polls.length
  }

  push(poll: PollSummary): void {
    this.polls.push(poll)
    if (this.polls.length > this.size) this.polls.shift()
    if (this.polls.length < 2) return
    const before = this.polls.slice(0, -1)
    if (disagree(before, [poll], CHANGE_Z)) {
      this.polls = [poll]
      return
    }
    if (this.polls.length >= 4) {
      const half = Math.floor(this.polls.length / 2)
      if (disagree(this.polls.slice(0, half), this.polls.slice(half), DRIFT_Z)) this.polls = this.polls.slice(half)
    }
  }

  estimate(z = Z95): CensusEstimate | undefined {
    const polls = this.polls
    const newest = polls.at(-1)
    if (!newest) return undefined
    const names = new Set(polls.flatMap((poll) => Object.keys(poll.handlers)))
    return {
      polls: polls.length,
      round: newest.round,
      at: newest.at,
      p: newest.p,
      answers: newest.answers,
      sampled: polls.reduce((sum, poll) => sum + poll.answers, 0),
      population: estimatePopulation(polls.map((poll) => ({ p: poll.p, count: poll.answers })), z),
      busy: estimatePopulation(polls.map((poll) => ({ p: poll.p, count: poll.busy })), z),
      idle: estimatePopulation(polls.map((poll) => ({ p: poll.p, count: poll.answers - poll.busy })), z),
      freeSlots: estimateTotal(polls.map((poll) => ({ p: poll.p, count: poll.answers, sum: poll.freeSlots, sumOfSquares: poll.freeSlotsSquared })), z),
      handlers: Object.fromEntries([...names].map((name) => [name, estimatePopulation(polls.map((poll) => ({ p: poll.p, count: poll.handlers[name] ?? 0 })), z)])),
    }
  }
}

/** Do two sets of polls describe different populations? A z-test on N̂ under their pooled N. */
function disagree(a: readonly PollSummary[], b: readonly PollSummary[], z: number): boolean {
  const sums = (polls: readonly PollSummary[]) => {
    let K = 0
    let P = 0
    let Q = 0
    for (const poll of polls) {
      K += poll.answers
      P += poll.p
      Q += poll.p * (1 - poll.p)
    }
    return { K, P, Q }
  }
  const x = sums(a)
  const y = sums(b)
  if (x.P <= 0 || y.P <= 0) return false
  const pooled = (x.K + y.K) / (x.P + y.P)
  const variance = pooled * (x.Q / (x.P * x.P) + y.Q / (y.P * y.P))
  if (variance <= 0) return x.K / x.P !== y.K / y.P
  return Math.abs(x.K / x.P - y.K / y.P) / Math.sqrt(variance) > z
}
