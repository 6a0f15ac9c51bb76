// The messages of a census: the leader's poll, published on <rendezvous>/census, and a selected
// peer's answer, sent to the leader alone so that the leader handles O(target) messages a poll.
import { z } from 'zod'

export interface Poll {
  /** Random, so no one can grind a peer id that a future poll selects. */
  readonly pollId: string
  readonly p: number
  readonly round: number
}

/** What a peer reports of itself. */
export interface PeerReport {
  readonly busy: boolean
  readonly freeSlots: number
  readonly handlers: readonly string[]
  readonly version: string
}

export interface Answer extends PeerReport {
  readonly pollId: string
}

export const pollShape = z.strictObject({
  pollId: z.string().regex(/^[0-9a-f]{8,64}$/),
  p: z.number().gt(0).max(1),
  round: z.int().min(1),
})

export const answerShape = z.strictObject({
  pollId: z.string().max(64),
  busy: z.boolean(),
  freeSlots: z.int().min(0).max(1_000_000),
  handlers: z.array(z.string().max(200)).max(1000),
  version: z.string().max(64),
})

/** A closed poll, summed: all the leader keeps of it. */
export interface PollSummary {
  readonly round: number
  readonly p: number
  /** When the poll closed (ms since the epoch). */
  readonly at: number
  readonly answers: number
  readonly busy: number
  readonly freeSlots: number
  readonly freeSlotsSquared: number
  /** Answers by handler name served. */
  readonly handlers: Readonly<Record<string, number>>
}
