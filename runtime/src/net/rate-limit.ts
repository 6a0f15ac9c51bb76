// Requests per peer, as a token bucket: a peer may burst, then gets a steady rate; one peer's
// flood is refused with E_RATE_LIMITED while every other peer keeps its own budget.
import { PeerqueueError } from '../errors.js'

export interface RateLimit {
  /** Requests a second, sustained. */
  readonly perSecond: number
  /** Requests allowed at once after a quiet spell. */
  readonly burst: number
}

export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 2_000, burst: 4_000 }
const MAX_TRACKED_PEERS = 10_000

export class PeerRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>()

  constructor(
    private readonly limit: RateLimit = DEFAULT_RATE_LIMIT,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token for `peer`, or throws E_RATE_LIMITED. */
  take(peer: string): void {
    const now = this.now()
    const bucket = this.buckets.get(peer) ?? { tokens: this.limit.burst, at: now }
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.limit.perSecond)
    bucket.at = now
    if (bucket.tokens < 1) {
      this.buckets.set(peer, bucket)
      throw new PeerqueueError('E_RATE_LIMITED', `too many requests from ${peer} (limit ${this.limit.perSecond}/s, bursts of ${this.limit.burst}); slow down and retry`)
    }
    bucket.tokens -= 1
    this.buckets.delete(peer)
    this.buckets.set(peer, bucket)
    // Bounded memory: forget the peers heard from least recently.
    if (this.buckets.size > MAX_TRACKED_PEERS) this.buckets.delete(this.buckets.keys().next().value!)
  }
}
