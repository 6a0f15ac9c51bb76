// Which discovery modules a peer runs. When the registry gives every trusted peer's address,
// nothing needs finding and none run: the address path stays as fast and as small as it was.
// Otherwise peers find each other by the queue's rendezvous: a DHT (trusted peers serve it,
// workers and clients only ask), bootstrap addresses, mDNS on a local network, and circuit
// relays offered by trusted peers for those that cannot be dialled.
import { multiaddr } from '@multiformats/multiaddr'
import type { QueueConfig } from '../registry/schema.js'

export interface DiscoveryPlan {
  /** The DHT: 'server' answers queries (trusted peers), 'client' only asks. */
  readonly dht: 'server' | 'client' | 'off'
  /** Addresses (with /p2p/) dialled at start and whenever this peer knows no trusted peer. */
  readonly bootstrap: readonly string[]
  readonly mdns: boolean
  /** Offer a circuit relay to peers that cannot be dialled. */
  readonly relayServer: boolean
  /** Dial and listen through relays (and upgrade to direct connections with DCUtR). */
  readonly relayTransport: boolean
  /** The rendezvous string whose key trusted peers provide and everyone looks up. */
  readonly rendezvous: string
}

export interface PlanInput {
  readonly queue: QueueConfig
  readonly selfId: string
  readonly role: 'trusted' | 'worker' | 'client'
  readonly listen: readonly string[]
  /** From the command line: more bootstrap addresses. */
  readonly bootstrap?: readonly string[]
  /** From the command line: false for --no-mdns. */
  readonly mdns?: boolean
}

export const NO_DISCOVERY: Omit<DiscoveryPlan, 'rendezvous'> = { dht: 'off', bootstrap: [], mdns: false, relayServer: false, relayTransport: false }

export function planDiscovery(input: PlanInput): DiscoveryPlan {
  const { queue, role } = input
  const registryAddrs = queue.trustedPeers.flatMap((p) => p.addrs)
  const bootstrap = [...new Set([...queue.bootstrap, ...(input.bootstrap ?? [])])].filter((a) => !a.endsWith(`/p2p/${input.selfId}`))
  const needed =
    // A trusted peer without an address (this one too: others must find it) is found through the rendezvous.
    queue.trustedPeers.some((p) => p.addrs.length === 0) ||
    bootstrap.length > 0 ||
    [...input.listen, ...registryAddrs].some(isRelayed)
  if (!needed) return { ...NO_DISCOVERY, rendezvous: queue.rendezvous }
  const known = [...input.listen, ...registryAddrs, ...bootstrap].filter((a) => !isRelayOnly(a))
  // mDNS only helps on a local network: off when every address this peer knows is loopback.
  const lan = !(known.length > 0 && known.every(isLoopback))
  const direct = input.listen.some((a) => !isRelayed(a))
  return {
    dht: role === 'trusted' ? 'server' : 'client',
    bootstrap,
    mdns: input.mdns ?? lan,
    relayServer: role === 'trusted' && direct,
    relayTransport: true,
    rendezvous: queue.rendezvous,
  }
}

function isRelayed(addr: string): boolean {
  return addr.includes('/p2p-circuit')
}

function isRelayOnly(addr: string): boolean {
  return addr === '/p2p-circuit'
}

export function isLoopback(addr: string): boolean {
  try {
    const first = multiaddr(addr).getComponents()[0]
    if (!first) return false
    if (first.name === 'ip4') return first.value?.startsWith('127.') ?? false
    if (first.name === 'ip6') return first.value === '::1'
    if (first.name === 'dns' || first.name === 'dns4' || first.name === 'dns6') return first.value === 'localhost'
    return false
  } catch {
    return false
  }
}
