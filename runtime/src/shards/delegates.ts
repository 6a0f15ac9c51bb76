// Peers other than the root that offer to keep shards (delegates): worker peers that listen on an
// address and that the registry's `shards.delegates` allows announce it with their capacity. The
// root leader picks from those heard lately, the longest-lived first and idle ones before busy
// ones, and fills up with root trusted peers when too few are about.
import type { QueueConfig } from '../registry/schema.js'

/** A delegate heard from within this long is taken as still there. */
export const DELEGATE_FRESH_MS = 5_000
/** A peer heard from for less than this is too new to be trusted with a shard's jobs. */
export const DELEGATE_MIN_AGE_MS = 3_000

interface Heard {
  readonly addrs: readonly string[]
  readonly firstSeen: number
  lastSeen: number
  running: number
}

export function mayDelegate(queue: QueueConfig, peerId: string): boolean {
  const rule = queue.shards.delegates
  if (queue.trustedPeers.some((p) => p.id === peerId)) return true
  if (rule === 'trusted') return false
  return rule === 'any' || rule.includes(peerId)
}

export class DelegateRoster {
  private readonly heard = new Map<string, Heard>()

  constructor(private readonly queue: QueueConfig) {}

  /** A worker's announcement that offers hosting. */
  offer(peerId: string, addrs: readonly string[], running: number, now: number): void {
    if (!mayDelegate(this.queue, peerId) || this.queue.trustedPeers.some((p) => p.id === peerId)) return
    const known = this.heard.get(peerId)
    const firstSeen = known && now - known.lastSeen <= DELEGATE_FRESH_MS ? known.firstSeen : now
    this.heard.set(peerId, { addrs: [...addrs], firstSeen, lastSeen: now, running })
  }

  addrsOf(peerId: string): readonly string[] {
    return this.heard.get(peerId)?.addrs ?? []
  }

  /** Delegates heard from once and silent for `afterMs`: the shards they keep get another member. */
  gone(now: number, afterMs: number): Set<string> {
    return new Set([...this.heard].filter(([, h]) => now - h.lastSeen >= afterMs).map(([id]) => id))
  }

  /** Who may keep a new shard, best first: delegates (old and idle first), then the root's trusted peers. */
  candidates(now: number): string[] {
    const trusted = this.queue.trustedPeers.map((p) => p.id)
    if (this.queue.shards.delegates === 'trusted') return trusted
    const delegates = [...this.heard]
      .filter(([, h]) => now - h.lastSeen <= DELEGATE_FRESH_MS && now - h.firstSeen >= DELEGATE_MIN_AGE_MS)
      .sort(([a, x], [b, y]) => Number(x.running > 0) - Number(y.running > 0) || x.firstSeen - y.firstSeen || (a < b ? -1 : 1))
      .map(([id]) => id)
    return [...delegates, ...trusted]
  }
}
