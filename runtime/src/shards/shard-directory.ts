// A client's or worker's view of the queue's shards: the map read from the root, each shard kept
// only if its certificate checks out (a majority of root signatures, unexpired, this queue and
// shard), and a request channel to each shard's leader found among the members its certificate
// names, so no peer outside a certificate is ever taken for a shard's leader.
import { errorMessage, isPeerqueueError } from '../errors.js'
import { LeaderLink } from '../client/leader-link.js'
import type { PeerNode } from '../net/node.js'
import type { QueueConfig } from '../registry/schema.js'
import { verifyCertificate, type ShardCertificate } from './certificate.js'
import type { ShardMapView, ShardView } from './root-shards.js'
import type { ShardState } from './shard-map.js'
import type { HostedMap } from './shard-host.js'

export interface KnownShard {
  readonly id: number
  readonly state: ShardState
  readonly certificate: ShardCertificate
  readonly founders: readonly string[]
  readonly queued: number
  readonly unfinished: number | null
}

export interface ShardDirectoryOptions {
  readonly node: PeerNode
  readonly queue: QueueConfig
  /** Asks the root group (its leader, through the caller's link). */
  readonly askRoot: (method: string, params: unknown) => Promise<unknown>
  /** This process's own peer id when it is a shard member itself. */
  readonly self?: string
  readonly log?: (line: string) => void
  readonly now?: () => number
}

export class ShardDirectory {
  private known = new Map<number, KnownShard>()
  private retired = new Set<number>()
  private rootState: ShardState = 'open'
  private readonly links = new Map<string, LeaderLink>()
  private refreshedAt = 0
  private refreshing: Promise<void> | undefined
  /** Certificates refused so far (forged, expired, too few signatures, another queue's). */
  refused = 0
  /** Shards the root has minted so far, retired ones included. */
  minted = 0

  constructor(private readonly options: ShardDirectoryOptions) {}

  get rootOpen(): boolean {
    return this.rootState === 'open'
  }

  /** Live shards with a valid certificate, root excluded, by id. */
  shards(): KnownShard[] {
    return [...this.known.values()].sort((a, b) => a.id - b.id)
  }

  get(id: number): KnownShard | undefined {
    return this.known.get(id)
  }

  /** Reads the map again if the copy here is older than `maxAgeMs`; one read at a time. */
  refresh(maxAgeMs = 0): Promise<void> {
    if (this.now() - this.refreshedAt < maxAgeMs) return Promise.resolve()
    this.refreshing ??= this.read().finally(() => {
      this.refreshing = undefined
    })
    return this.refreshing
  }

  /** Addresses the root passed on for a shard member. */
  addrsOf(id: string): readonly string[] {
    return this.addrs.get(id) ?? []
  }

  /** The certified map as a delegate hosts from it (see ShardHost). */
  hostedMap(selfId: string): HostedMap {
    return {
      live: () => this.shards().map((s) => ({ id: s.id, members: s.certificate.members, founders: s.founders, epoch: s.certificate.epoch })),
      dropped: (id) => {
        if (this.retired.has(id)) return 'retired'
        const shard = this.known.get(id)
        return shard && !shard.certificate.members.includes(selfId) ? 'moved' : undefined
      },
    }
  }

  /** The channel to a shard's leader, among the members its certificate names. */
  link(id: number): LeaderLink | undefined {
    const shard = this.known.get(id)
    if (!shard) return undefined
    const key = `${id}/${shard.certificate.epoch}`
    let link = this.links.get(key)
    if (!link) {
      const peers = shard.certificate.members.map((m) => ({ id: m, addrs: this.addrs.get(m) ?? [] }))
      link = new LeaderLink(this.options.node, peers, { hangUpOthers: false, shard: id, findById: true, ...(this.options.self ? { self: this.options.self } : {}) })
      this.links.set(key, link)
    }
    return link
  }

  async close(): Promise<void> {
    await Promise.all([...this.links.values()].map((l) => l.close()))
    this.links.clear()
  }

  private readonly addrs = new Map<string, string[]>()

  private now(): number {
    return (this.options.now ?? Date.now)()
  }

  private async read(): Promise<void> {
    let view: ShardMapView
    try {
      view = (await this.options.askRoot('shards', {})) as ShardMapView
    } catch (err) {
      // A trusted peer of a version before shards: its queue is one group, as it always was.
      if (!isPeerqueueError(err) || err.code !== 'E_PROTOCOL') throw err
      view = { root: { state: 'open', unfinished: 0 }, shards: [], minted: 0, retired: [] }
    }
    const root = this.options.queue.trustedPeers.map((p) => p.id)
    const known = new Map<number, KnownShard>()
    for (const shard of view.shards) {
      if (!shard.certificate) continue
      try {
        await verifyCertificate(shard.certificate, { queue: this.options.queue.name, root, now: this.now(), shard: shard.id })
      } catch (err) {
        this.refused++
        this.options.log?.(`peerqueue: ${errorMessage(err)}`)
        continue
      }
      for (const member of shard.members) if (member.addrs.length > 0) this.addrs.set(member.id, member.addrs.map((a) => a.replace(/\/p2p\/[^/]+$/, '')))
      known.set(shard.id, { id: shard.id, state: shard.state, certificate: shard.certificate, founders: shard.founders ?? shard.certificate.members, queued: shard.load?.queued ?? 0, unfinished: shard.load?.unfinished ?? null })
    }
    this.rootState = view.root.state
    this.retired = new Set(view.retired)
    this.minted = view.minted
    // Channels to shards gone, or to an old epoch's members, are closed.
    for (const [key, link] of this.links) {
      const [id, epoch] = key.split('/').map(Number)
      if (known.get(id!)?.certificate.epoch !== epoch) {
        this.links.delete(key)
        void link.close()
      }
    }
    this.known = known
    this.refreshedAt = this.now()
  }
}

export type { ShardView }
