// Keeps a request channel to the leader of a queue's trusted group. It finds the leader by
// asking trusted peers, follows it across elections, and retries requests that failed because
// the peer it asked was not (or no longer) the leader or went away. Only requests that are safe
// to repeat are sent through it: every write carries an id that makes a repeat harmless.
import { peerIdFromString } from '@libp2p/peer-id'
import { PeerqueueError, isPeerqueueError, type ErrorCode } from '../errors.js'
import type { PeerNode } from '../net/node.js'
import { RpcClient } from '../net/rpc.js'
import type { TrustedPeer } from '../registry/schema.js'

// Each of these means the request was not acted on, or may be repeated safely (writes carry ids).
const RETRYABLE: ReadonlySet<ErrorCode> = new Set(['E_NOT_LEADER', 'E_UNREACHABLE', 'E_CLOSED', 'E_RATE_LIMITED'])
export const DEFAULT_RETRY_MS = 30_000
const PROBE_TIMEOUT_MS = 2_000
/** A dial by id alone may first ask the DHT where the peer is. */
const FIND_TIMEOUT_MS = 5_000

export interface LeaderLinkOptions {
  /** Hang up on trusted peers that turn out not to lead. Off on trusted peers, whose connections to each other carry Raft. */
  readonly hangUpOthers?: boolean
  /** This process's own peer id, when it is a trusted peer that may itself become the leader. */
  readonly self?: string
  /** Dial trusted peers by id when their registry addresses fail or are missing (the DHT finds them). */
  readonly findById?: boolean
  /** Takes the members' addresses a trusted peer passed on in its status answer. */
  readonly learn?: (members: readonly { id: string; addrs?: readonly string[] }[]) => Promise<void>
  /** Address one shard of the queue: every method goes out as `shard/<id>/<method>` (see shards/). */
  readonly shard?: number
}

export class LeaderLink {
  private rpc: RpcClient | undefined
  private leader: string | undefined
  private hint: string | undefined
  /** The leader a call last failed on: asked last in the next search, as it is likely down (its dial can wait on a lookup by id). */
  private suspect: string | undefined
  /** One search for the leader at a time, shared by every request that needs it. */
  private searching: Promise<RpcClient> | undefined

  private readonly hangUpOthers: boolean
  private readonly self: string | undefined
  private readonly findById: boolean
  private readonly learn: LeaderLinkOptions['learn']
  private readonly prefix: string

  constructor(
    private readonly node: PeerNode,
    private readonly trusted: readonly TrustedPeer[],
    options: LeaderLinkOptions = {},
  ) {
    this.hangUpOthers = options.hangUpOthers ?? true
    this.self = options.self
    this.findById = options.findById ?? false
    this.learn = options.learn
    this.prefix = options.shard === undefined ? '' : `shard/${options.shard}/`
  }

  /** A leader heard of elsewhere (a gossipsub announcement): tried first next time. */
  suggest(leader: string): void {
    if (leader !== this.leader) this.hint = leader
  }

  /** The leader's peer id, once known. */
  get leaderId(): string | undefined {
    return this.leader
  }

  async call(method: string, params: unknown, retryMs = DEFAULT_RETRY_MS): Promise<unknown> {
    const started = Date.now()
    const deadline = started + retryMs
    let delay = 25
    for (;;) {
      let used: RpcClient | undefined
      try {
        used = await this.connection()
        return await used.call(this.prefix + method, params, answerWithinMs(method, params))
      } catch (err) {
        if (!isPeerqueueError(err) || !RETRYABLE.has(err.code) || Date.now() + delay > deadline) throw err
        // Drop the channel only if no one replaced it meanwhile.
        if (used !== undefined && used === this.rpc && err.code === 'E_UNREACHABLE') this.suspect = this.leader
        if (used === undefined || used === this.rpc) await this.forget()
        await new Promise((r) => setTimeout(r, delay))
        // An election takes a few hundred ms: look again often at first, then back off.
        delay = Math.min(delay * 2, Date.now() - started < 5_000 ? 100 : 1_000)
      }
    }
  }

  async close(): Promise<void> {
    await this.forget()
  }

  private async forget(): Promise<void> {
    const rpc = this.rpc
    this.rpc = undefined
    this.leader = undefined
    await rpc?.close().catch(() => undefined)
  }

  private connection(): Promise<RpcClient> {
    if (this.rpc && !this.rpc.closed) return Promise.resolve(this.rpc)
    this.searching ??= this.search().finally(() => {
      this.searching = undefined
    })
    return this.searching
  }

  private async search(): Promise<RpcClient> {
    const order = [...this.trusted].sort(
      (a, b) => Number(b.id === this.hint) - Number(a.id === this.hint) || Number(a.id === this.suspect) - Number(b.id === this.suspect) || Math.random() - 0.5,
    )
    const tried = new Set<string>()
    let lastError: unknown
    for (;;) {
      // The leader a peer just named is asked next, before the rest (some of which may be down).
      const peer = order.find((p) => p.id === this.hint && !tried.has(p.id)) ?? order.find((p) => !tried.has(p.id))
      if (!peer) break
      tried.add(peer.id)
      if (peer.id === this.self) continue
      let rpc: RpcClient | undefined
      try {
        rpc = await this.open(peer)
        const status = (await rpc.call(`${this.prefix}status`, {})) as { leader?: string | null; members?: { id: string; addrs?: string[] }[] }
        if (status.members) await this.learn?.(status.members)
        if (status.leader === peer.id) {
          this.rpc = rpc
          this.leader = peer.id
          this.suspect = undefined
          return rpc
        }
        if (status.leader === this.self) {
          await rpc.close().catch(() => undefined)
          throw new PeerqueueError('E_LEADER_IS_SELF', 'this peer is the leader now')
        }
        this.hint = status.leader ?? this.hint
      } catch (err) {
        if (isPeerqueueError(err) && err.code === 'E_LEADER_IS_SELF') throw err
        lastError = err
      }
      await rpc?.close().catch(() => undefined)
      // Keep few connections: hang up on trusted peers that are not the leader.
      if (this.hangUpOthers) await this.node.hangUp(peerIdFromString(peer.id)).catch(() => undefined)
    }
    if (lastError && this.hint === undefined) {
      throw new PeerqueueError('E_UNREACHABLE', `no trusted peer of the queue answered (${this.trusted.length} tried): ${lastError instanceof Error ? lastError.message : String(lastError)}`)
    }
    throw new PeerqueueError('E_NOT_LEADER', 'the trusted peers have no leader right now (an election is under way, or a majority is down)')
  }

  /** The registry's addresses first (the fastest path), then the peer's id alone. */
  private async open(peer: TrustedPeer): Promise<RpcClient> {
    if (peer.addrs.length === 0) return RpcClient.openPeer(this.node, peer.id, FIND_TIMEOUT_MS)
    try {
      return await RpcClient.open(this.node, peer.addrs.map((a) => `${a}/p2p/${peer.id}`), PROBE_TIMEOUT_MS)
    } catch (err) {
      if (!this.findById) throw err
      return RpcClient.openPeer(this.node, peer.id, FIND_TIMEOUT_MS)
    }
  }
}

/** A long poll is answered when its wait ends; anything else should be answered promptly. */
function answerWithinMs(method: string, params: unknown): number {
  const waitMs = (params as { timeoutMs?: unknown; waitMs?: unknown } | null) ?? {}
  if (method === 'wait' && typeof waitMs.timeoutMs === 'number') return waitMs.timeoutMs + 10_000
  return 15_000
}
