// The leader's side of the census without clocks or network: open a poll, count the answers
// that reach it, close it, and choose the next poll's p from what the window now says. The
// network code (census.ts) and the census simulator both drive this same object.
import { randomBytes } from 'node:crypto'
import { nextProbability } from './estimator.js'
import type { PeerReport, Poll } from './poll.js'
import { PollTally, type TallyVerdict } from './tally.js'
import { CensusWindow, type CensusEstimate } from './window.js'

/** The first poll assumes a network of up to about 16 million peers; p then grows 16-fold a poll until answers come. */
const FIRST_POLL_POPULATION = 2 ** 24

export interface PollerOptions {
  readonly targetSample: number
  readonly windowSize?: number
  readonly pollId?: () => string
  /** p of the last poll seen, when a new leader takes over the census from an old one. */
  readonly firstP?: number
}

export type AnswerVerdict = TallyVerdict | 'closed'

export class CensusPoller {
  private readonly window: CensusWindow
  private readonly makePollId: () => string
  private open: PollTally | undefined
  private round = 0
  private p: number

  constructor(private readonly options: PollerOptions) {
    this.window = new CensusWindow(options.windowSize ?? 10)
    this.makePollId = options.pollId ?? (() => randomBytes(16).toString('hex'))
    this.p = options.firstP ?? Math.min(1, options.targetSample / FIRST_POLL_POPULATION)
  }

  /** Opens the next poll (closing none: call close first). */
  next(): Poll {
    const poll: Poll = { pollId: this.makePollId(), p: this.p, round: ++this.round }
    this.open = new PollTally(poll)
    return poll
  }

  get current(): Poll | undefined {
    return this.open?.poll
  }

  answer(pollId: string, peerId: string, report: PeerReport): AnswerVerdict {
    if (!this.open || this.open.poll.pollId !== pollId) return 'closed'
    return this.open.accept(peerId, report)
  }

  /** Closes the open poll, adds it to the window and aims the next one at the target. */
  close(at: number): CensusEstimate | undefined {
    const tally = this.open
    if (!tally) return this.window.estimate()
    this.open = undefined
    this.window.push(tally.summary(at))
    const estimate = this.window.estimate()
    const seen = estimate && estimate.population.estimate > 0 ? estimate.population.estimate : undefined
    this.p = nextProbability(seen, tally.poll.p, this.options.targetSample)
    return estimate
  }

  estimate(): CensusEstimate | undefined {
    return this.window.estimate()
  }
}
