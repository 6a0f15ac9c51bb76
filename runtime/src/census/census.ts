// The census on a running peer. The leader opens a poll every interval on the queue's census
// topic and counts the answers that reach it; every peer (the leader too) answers the polls
// that select it, with its own state, straight to the leader. A follower remembers the p of
// the polls it sees, so a new leader picks up where the old one left off.
import { errorMessage } from '../errors.js'
import type { Interval } from './estimator.js'
import type { Answer, PeerReport, Poll } from './poll.js'
import { CensusPoller, type AnswerVerdict } from './poller.js'
import { isSelected } from './selection.js'
import type { CensusEstimate } from './window.js'

/** Until the window holds a full sample, polls come at least this often, so a new leader knows its network soon. */
const WARMUP_INTERVAL_MS = 1_000

export interface CensusConfig {
  readonly targetSample: number
  readonly intervalMs: number
  readonly windowSize: number
}

export interface CensusOptions {
  readonly selfId: string
  readonly config: CensusConfig
  readonly publish: (poll: Poll) => void
  /** Delivers this peer's answer to the leader (used when this peer is not the leader). */
  readonly send: (answer: Answer) => Promise<void>
  readonly report: () => PeerReport
  readonly onError: (err: unknown) => void
}

/** An interval as JSON can carry it: an unbounded end is null. */
export interface IntervalView {
  readonly estimate: number
  readonly low: number
  readonly high: number | null
}

export interface CensusView {
  readonly polls: number
  readonly round: number
  readonly at: string
  readonly p: number
  readonly answers: number
  readonly sampled: number
  readonly intervalMs: number
  /** Answers that came after their poll had closed, since this peer became the leader: many mean the interval is too short for the network. */
  readonly lateAnswers: number
  /** Answers from peers the poll did not select (misbehaving peers), likewise. */
  readonly refusedAnswers: number
  readonly population: IntervalView
  readonly idle: IntervalView
  readonly busy: IntervalView
  readonly freeSlots: IntervalView
  readonly handlers: Readonly<Record<string, IntervalView>>
}

export class Census {
  private poller: CensusPoller | undefined
  private timer: NodeJS.Timeout | undefined
  private lastSeenP: number | undefined
  private latest: CensusEstimate | undefined
  private late = 0
  private refused = 0

  constructor(private readonly options: CensusOptions) {}

  /** This peer became the leader: it runs the polls from now on. */
  lead(): void {
    if (this.poller) return
    const { targetSample, windowSize } = this.options.config
    this.poller = new CensusPoller({ targetSample, windowSize, firstP: this.lastSeenP })
    this.latest = undefined
    this.late = 0
    this.refused = 0
    this.tick()
  }

  /** This peer is no longer the leader. */
  follow(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.poller = undefined
    this.latest = undefined
  }

  /** A poll heard on the census topic (already checked to come from a trusted peer). */
  heard(poll: Poll): void {
    this.lastSeenP = poll.p
    if (this.poller || !isSelected(poll.pollId, this.options.selfId, poll.p)) return
    this.options.send({ pollId: poll.pollId, ...this.options.report() }).catch(() => undefined)
  }

  /** An answer that reached the leader from `peerId`, whose identity the connection proved. */
  answer(peerId: string, answer: Answer): AnswerVerdict {
    if (!this.poller) return 'closed'
    const { pollId, ...report } = answer
    const verdict = this.poller.answer(pollId, peerId, report)
    if (verdict === 'closed') this.late++
    if (verdict === 'not-selected') this.refused++
    return verdict
  }

  estimate(): CensusEstimate | undefined {
    return this.latest
  }

  view(): CensusView | null {
    const e = this.latest
    if (!e) return null
    const handlers = Object.fromEntries(Object.entries(e.handlers).map(([name, interval]) => [name, viewOf(interval)]))
    return {
      polls: e.polls,
      round: e.round,
      at: new Date(e.at).toISOString(),
      p: e.p,
      answers: e.answers,
      sampled: e.sampled,
      intervalMs: this.options.config.intervalMs,
      lateAnswers: this.late,
      refusedAnswers: this.refused,
      population: viewOf(e.population),
      idle: viewOf(e.idle),
      busy: viewOf(e.busy),
      freeSlots: viewOf(e.freeSlots),
      handlers,
    }
  }

  close(): void {
    this.follow()
  }

  private tick(): void {
    const poller = this.poller
    if (!poller) return
    try {
      if (poller.current) this.latest = poller.close(Date.now())
      const poll = poller.next()
      this.options.publish(poll)
      if (isSelected(poll.pollId, this.options.selfId, poll.p)) poller.answer(poll.pollId, this.options.selfId, this.options.report())
    } catch (err) {
      this.options.onError(new Error(`census: ${errorMessage(err)}`))
    }
    const { intervalMs, targetSample } = this.options.config
    const warming = (this.latest?.sampled ?? 0) < targetSample
    this.timer = setTimeout(() => this.tick(), warming ? Math.min(intervalMs, WARMUP_INTERVAL_MS) : intervalMs)
    this.timer.unref()
  }
}

function viewOf(interval: Interval): IntervalView {
  const round = (x: number) => Math.round(x * 10) / 10
  return { estimate: round(interval.estimate), low: round(interval.low), high: Number.isFinite(interval.high) ? round(interval.high) : null }
}
