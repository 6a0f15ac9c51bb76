// The leader's count of one open poll. An answer counts once per peer, and only if the peer's
// selection for this poll can be recomputed: no peer can answer a poll that did not pick it.
import type { PeerReport, Poll, PollSummary } from './poll.js'
import { selectorFor } from './selection.js'

export type TallyVerdict = 'counted' | 'not-selected' | 'duplicate'

export class PollTally {
  private readonly selected: (peerId: string) => boolean
  private readonly seen = new Set<string>()
  private busy = 0
  private freeSlots = 0
  private freeSlotsSquared = 0
  private readonly handlers = new Map<string, number>()
  /** Answers refused, for the record: a peer answering out of turn is misbehaving. */
  rejected = 0

  constructor(readonly poll: Poll) {
    this.selected = selectorFor(poll.pollId, poll.p)
  }

  get answers(): number {
    return this.seen.size
  }

  accept(peerId: string, report: PeerReport): TallyVerdict {
    if (!this.selected(peerId)) {
      this.rejected++
      return 'not-selected'
    }
    if (this.seen.has(peerId)) return 'duplicate'
    this.seen.add(peerId)
    if (report.busy) this.busy++
    this.freeSlots += report.freeSlots
    this.freeSlotsSquared += report.freeSlots * report.freeSlots
    for (const name of new Set(report.handlers)) this.handlers.set(name, (this.handlers.get(name) ?? 0) + 1)
    return 'counted'
  }

  summary(at: number): PollSummary {
    return {
      round: this.poll.round,
      p: this.poll.p,
      at,
      answers: this.seen.size,
      busy: this.busy,
      freeSlots: this.freeSlots,
      freeSlotsSquared: this.freeSlotsSquared,
      handlers: Object.fromEntries(this.handlers),
    }
  }
}
