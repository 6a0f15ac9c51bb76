// Saturation against a simulated network: the census (real poller and estimator) runs over a
// population that joins and leaves, the real Admission turns each estimate into a bound, and two
// submitters push jobs every poll, one flooding (three times what the network can run), one
// steady (a quarter of it). Each free slot finishes one job a poll, shared fairly among the
// submitters with jobs waiting. Reported: how the bound and the unfinished jobs follow the
// network's true capacity, and what each submitter got.
import { Admission } from '../../runtime/src/saturation/admission.js'
import { simulateCensus, type CensusSimOptions } from './simulate.js'

export interface SaturationSimOptions extends CensusSimOptions {
  readonly jobsPerFreeSlot: number
}

export interface SaturationPoll {
  readonly round: number
  /** jobsPerFreeSlot times the true free slots: the bound a perfect census would give. */
  readonly trueBound: number
  readonly bound: number
  readonly unfinished: number
  readonly admitted: { readonly flood: number; readonly steady: number }
  readonly completed: number
}

export interface SaturationSimReport {
  readonly peers: number
  readonly polls: number
  readonly jobsPerFreeSlot: number
  /** Polls (after warm-up) whose unfinished jobs stayed at or under the bound the census gave. */
  readonly withinBound: number
  /** …and under the bound a perfect census would give. */
  readonly withinTrueBound: number
  readonly maxOverTrueBound: number
  /** Mean |admitted − completed| / completed per poll: admissions follow what the network finishes. */
  readonly admissionTracking: number
  /** Mean bound over the true bound: the census' lower end keeps it under. */
  readonly boundOverTrue: number
  /** Share of its demand the steady submitter got admitted, and the flood's. */
  readonly steadyAdmittedShare: number
  readonly floodAdmittedShare: number
  readonly secondsPerPoll: number
}

const SUBMITTERS = ['flood', 'steady'] as const
/** Offers are made in this many chunks a poll, so admission decides at a useful grain. */
const CHUNKS = 200

export function simulateSaturation(options: SaturationSimOptions, onPoll?: (poll: SaturationPoll) => void): SaturationSimReport {
  const admission = new Admission({ jobsPerFreeSlot: options.jobsPerFreeSlot, minCapacity: 100, maxWaitMs: 60_000, weights: {} })
  const held = new Map<string, number>(SUBMITTERS.map((s) => [s, 0]))
  const polls: SaturationPoll[] = []
  const demand = { flood: 0, steady: 0 }
  const got = { flood: 0, steady: 0 }
  let unfinished = 0
  let warmup = Infinity
  const census = simulateCensus(options, (trace) => {
    // The network finishes a job per free slot, shared among submitters with jobs (fair leases).
    const completed = Math.min(unfinished, trace.truth.freeSlots)
    finish(held, completed)
    unfinished -= completed
    admission.census(trace.freeSlots)
    const capacity = trace.truth.freeSlots
    const offers = { flood: 3 * capacity, steady: Math.round(0.25 * capacity) }
    const admitted = { flood: 0, steady: 0 }
    const chunk = Math.max(1, Math.round(admission.bound / CHUNKS))
    for (let turn = 0; turn < 4 * CHUNKS && (offers.flood > 0 || offers.steady > 0); turn++) {
      for (const submitter of SUBMITTERS) {
        const count = Math.min(chunk, offers[submitter])
        if (count <= 0) continue
        offers[submitter] -= count
        if (!admission.decide(submitter, count, unfinished, held, trace.round * 10_000).ok) continue
        unfinished += count
        held.set(submitter, held.get(submitter)! + count)
        admitted[submitter] += count
      }
    }
    if (warmup === Infinity && trace.windowPolls >= 2) warmup = trace.round
    const poll = { round: trace.round, trueBound: options.jobsPerFreeSlot * trace.truth.freeSlots, bound: admission.bound, unfinished, admitted, completed }
    if (trace.round > warmup) {
      demand.flood += 3 * capacity
      demand.steady += Math.round(0.25 * capacity)
      got.flood += admitted.flood
      got.steady += admitted.steady
    }
    polls.push(poll)
    onPoll?.(poll)
  })
  const steady = polls.filter((p) => p.round > warmup + 2)
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length)
  const round4 = (x: number) => Math.round(x * 10_000) / 10_000
  return {
    peers: options.peers,
    polls: options.polls,
    jobsPerFreeSlot: options.jobsPerFreeSlot,
    withinBound: round4(mean(steady.map((p) => (p.unfinished <= p.bound ? 1 : 0)))),
    withinTrueBound: round4(mean(steady.map((p) => (p.unfinished <= p.trueBound ? 1 : 0)))),
    maxOverTrueBound: round4(Math.max(0, ...steady.map((p) => p.unfinished / p.trueBound - 1))),
    admissionTracking: round4(mean(steady.filter((p) => p.completed > 0).map((p) => Math.abs(p.admitted.flood + p.admitted.steady - p.completed) / p.completed))),
    boundOverTrue: round4(mean(steady.map((p) => p.bound / p.trueBound))),
    steadyAdmittedShare: round4(demand.steady === 0 ? 0 : got.steady / demand.steady),
    floodAdmittedShare: round4(demand.flood === 0 ? 0 : got.flood / demand.flood),
    secondsPerPoll: census.secondsPerPoll,
  }
}

/** Completions split evenly among submitters with jobs, each taking no more than it has. */
function finish(held: Map<string, number>, completed: number): void {
  let left = completed
  for (;;) {
    const waiting = [...held].filter(([, n]) => n > 0)
    if (left <= 0 || waiting.length === 0) return
    const each = Math.max(1, Math.floor(left / waiting.length))
    for (const [id, n] of waiting) {
      const take = Math.min(each, n, left)
      held.set(id, n - take)
      left -= take
    }
  }
}
