// Finding a queue's peers by its rendezvous string, as PeerPrint does: trusted peers provide a
// DHT key derived from the string (CIDv1, raw, SHA-256 of its bytes: the key go-libp2p's routing
// discovery uses for a namespace), and anyone looks its providers up. Beside that it keeps this
// peer joined: it dials bootstrap addresses again whenever it knows no trusted peer, and dials
// trusted peers that mDNS finds on the local network.
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerInfo } from '@libp2p/interface'
import { errorMessage } from '../errors.js'
import type { DiscoveryStatus } from '../peer-status.js'
import type { DiscoveryPlan } from './discovery-plan.js'
import { locate } from './locate.js'
import type { PeerNode } from './node.js'

const PROVIDE_EVERY_MS = 10 * 60_000
const RETRY_MS = 2_000
const CHECK_JOINED_MS = 3_000
const REFRESH_ADDRS_MS = 1_000

export async function rendezvousKey(rendezvous: string): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(rendezvous)))
}

export class Rendezvous {
  private timers = new Set<NodeJS.Timeout>()
  private stopped = false
  private provided = false
  /** What this peer knows of each trusted peer's addresses, passed on in `status` answers. */
  private readonly addrs = new Map<string, string[]>()
  private readonly onDiscovery = (event: CustomEvent<PeerInfo>) => {
    const id = event.detail.id.toString()
    if (this.trusted.has(id) && this.node.getConnections(event.detail.id).length === 0) {
      this.node.dial(event.detail.id, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined)
    }
  }

  constructor(
    private readonly node: PeerNode,
    private readonly plan: DiscoveryPlan,
    private readonly trusted: ReadonlySet<string>,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  get active(): boolean {
    return this.plan.dht !== 'off'
  }

  /** Whether this peer has provided the rendezvous key at least once. */
  get providing(): boolean {
    return this.provided
  }

  status(): DiscoveryStatus {
    return { dht: this.plan.dht, mdns: this.plan.mdns, bootstrap: this.plan.bootstrap.length, relay: this.plan.relayServer, providing: this.provided }
  }

  start(): void {
    if (!this.active) return
    this.node.addEventListener('peer:discovery', this.onDiscovery)
    this.every(CHECK_JOINED_MS, () => this.keepJoined())
    this.every(REFRESH_ADDRS_MS, () => this.refreshAddrs())
    if (this.plan.dht === 'server') this.later(0, () => this.provide())
  }

  stop(): void {
    this.stopped = true
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    this.node.removeEventListener('peer:discovery', this.onDiscovery)
  }

  /** Addresses this peer knows for a trusted peer (its own listening addresses for itself). */
  addressesOf(id: string): string[] {
    if (!this.active) return []
    if (id === this.node.peerId.toString()) return this.node.getMultiaddrs().map((a) => withoutOwnId(a.toString(), id))
    return this.addrs.get(id) ?? []
  }

  /** Remembers trusted peers' addresses that another trusted peer passed on: the fast path to a leader known only by id. */
  async learn(members: readonly { id: string; addrs?: readonly string[] }[]): Promise<void> {
    for (const member of members) {
      if (!this.trusted.has(member.id) || !member.addrs || member.addrs.length === 0 || member.id === this.node.peerId.toString()) continue
      try {
        await this.node.peerStore.merge(peerIdFromString(member.id), { multiaddrs: member.addrs.map((a) => multiaddr(a)) })
      } catch {
        // An address this peer cannot parse is one it cannot use.
      }
    }
  }

  /** Looks up the peers that provide the rendezvous key and remembers their addresses; returns how many answered. */
  async find(timeoutMs = 5_000): Promise<number> {
    const dht = this.node.services.dht
    if (!dht) return 0
    const key = await rendezvousKey(this.plan.rendezvous)
    let found = 0
    try {
      for await (const provider of this.node.contentRouting.findProviders(key, { signal: AbortSignal.timeout(timeoutMs) })) {
        if (provider.id.equals(this.node.peerId)) continue
        if (provider.multiaddrs.length > 0) await this.node.peerStore.merge(provider.id, { multiaddrs: provider.multiaddrs })
        found++
      }
    } catch {
      // A lookup that ran out of time still found what it found.
    }
    return found
  }

  /**
   * Waits until this peer is connected to at least one trusted peer and its DHT knows a peer to
   * ask (a lookup made before that waits for its whole timeout), or the time runs out.
   */
  async joined(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline && !this.stopped) {
      if (this.connectedToTrusted() && this.dhtKnowsPeers()) return true
      await new Promise((r) => setTimeout(r, 25))
    }
    return this.connectedToTrusted()
  }

  private dhtKnowsPeers(): boolean {
    // The routing table is not in KadDHT's published type, but every implementation has one.
    const table = (this.node.services.dht as unknown as { routingTable?: { size: number } } | undefined)?.routingTable
    return table === undefined || table.size > 0
  }

  private connectedToTrusted(): boolean {
    return this.node.getConnections().some((c) => this.trusted.has(c.remotePeer.toString()))
  }

  private async refreshAddrs(): Promise<void> {
    for (const id of this.trusted) {
      if (id === this.node.peerId.toString()) continue
      const known = await this.node.peerStore.get(peerIdFromString(id)).catch(() => undefined)
      if (known) this.addrs.set(id, known.addresses.map((a) => a.multiaddr.toString()))
    }
  }

  private async keepJoined(): Promise<void> {
    if (this.connectedToTrusted() || this.plan.bootstrap.length === 0) return
    await Promise.all(
      this.plan.bootstrap.map((addr) => this.node.dial(multiaddr(addr), { signal: AbortSignal.timeout(CHECK_JOINED_MS) }).catch(() => undefined)),
    )
  }

  private async provide(): Promise<void> {
    if (this.stopped) return
    if (!this.node.services.dht) return
    if (this.node.getConnections().length === 0) {
      this.later(RETRY_MS / 4, () => this.provide())
      return
    }
    try {
      await this.node.contentRouting.provide(await rendezvousKey(this.plan.rendezvous), { signal: AbortSignal.timeout(30_000) })
      if (!this.provided) this.log(`peerqueue: providing the rendezvous "${this.plan.rendezvous}" in the DHT`)
      this.provided = true
      this.later(PROVIDE_EVERY_MS, () => this.provide())
    } catch (err) {
      if (!this.stopped) this.log(`peerqueue: could not provide the rendezvous yet (${errorMessage(err)}); trying again`)
      this.later(RETRY_MS, () => this.provide())
    }
  }

  private later(ms: number, run: () => Promise<void>): void {
    if (this.stopped) return
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      void run()
    }, ms)
    this.timers.add(timer)
  }

  private every(ms: number, run: () => Promise<void>): void {
    this.later(ms, async () => {
      await run().catch(() => undefined)
      this.every(ms, run)
    })
  }
}

/** Dials a peer by its id alone: libp2p asks the DHT for its addresses when it has none. */
export async function dialById(node: PeerNode, id: string, timeoutMs: number): Promise<unknown> {
  const signal = AbortSignal.timeout(timeoutMs)
  return node.dial(await locate(node, id, signal), { signal })
}

function withoutOwnId(addr: string, id: string): string {
  return addr.endsWith(`/p2p/${id}`) ? addr.slice(0, -`/p2p/${id}`.length) : addr
}
