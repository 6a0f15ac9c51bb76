// Builds the libp2p node every peerqueue process uses: TCP and WebSockets, Noise, Yamux,
// identify, and for peers (not clients) gossipsub with signed messages only. Discovery modules
// (DHT, bootstrap, mDNS, circuit relay, DCUtR) are added only when the plan asks for them.
import { createLibp2p, type Libp2p, type Libp2pOptions } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { coalescingWrites } from './coalesced-writes.js'
import { fastMessageId } from './fast-message-id.js'
import { identify } from '@libp2p/identify'
import { gossipsub, StrictSign, type GossipSub } from '@libp2p/gossipsub'
import type { KadDHT } from '@libp2p/kad-dht'
import type { PrivateKey } from '@libp2p/interface'
import { PeerqueueError, errorMessage } from '../errors.js'
import type { DiscoveryPlan } from './discovery-plan.js'

export interface NodeOptions {
  readonly privateKey: PrivateKey
  /** Multiaddrs to listen on; empty for a dial-only node such as a client. */
  readonly listen: readonly string[]
  /** What other peers are told to dial, in place of the listen addresses (default: those). */
  readonly announce?: readonly string[]
  /** Join gossipsub (peers do; short-lived clients need not). */
  readonly pubsub?: boolean
  /** How this node finds peers it has no address for (default: it does not). */
  readonly discovery?: DiscoveryPlan
  /** At most this many connections (workers and clients keep few). */
  readonly maxConnections?: number
  /** libp2p's metrics implementation (Prometheus, when the peer serves /metrics). */
  readonly metrics?: unknown
}

/** Peers one address may hold before gossipsub's scoring starts to distrust them. */
const COLOCATED_PEERS = 1_000
/** One DHT for every peerqueue queue, apart from the public IPFS one: queues help each other find peers. */
export const DHT_PROTOCOL = '/peerqueue/kad/1.0.0'
const MDNS_SERVICE_TAG = '_peerqueue._udp.local'

export type PeerNode = Libp2p<{ identify: ReturnType<ReturnType<typeof identify>>; pubsub?: GossipSub; dht?: KadDHT }>

export async function createPeerNode(options: NodeOptions): Promise<PeerNode> {
  const plan = options.discovery
  const services: NonNullable<Libp2pOptions<Record<string, unknown>>['services']> = { identify: identify() }
  if (options.pubsub) {
    // StrictSign: every message carries its author's signature, so no peer can speak for another.
    services.pubsub = gossipsub({
      globalSignaturePolicy: StrictSign,
      allowPublishToZeroTopicPeers: true,
      emitSelf: false,
      fastMsgIdFn: fastMessageId,
      // Gossipsub's default scoring graylists every peer of an address shared by more than 10,
      // and then neither sends to them nor hears them. peerqueue expects many workers behind
      // one NAT or on one machine; trust comes from signatures and the registry, not addresses.
      scoreParams: { IPColocationFactorThreshold: COLOCATED_PEERS, IPColocationFactorWhitelist: new Set(['127.0.0.1', '::1']) },
    })
  }
  const peerDiscovery: NonNullable<Libp2pOptions['peerDiscovery']> = []
  const transports: NonNullable<Libp2pOptions['transports']> = [tcp(), webSockets()]
  // Loaded only when asked for: a peer that needs no discovery does not pay for its code.
  const modules = plan && plan.dht !== 'off' ? await import('./discovery-modules.js') : undefined
  if (plan && modules) {
    services.ping = modules.ping()
    // Private and loopback addresses are kept: peerqueue runs on local networks too.
    const dht = modules.kadDHT({ protocol: DHT_PROTOCOL, clientMode: plan.dht === 'client', peerInfoMapper: modules.passthroughMapper, initialQuerySelfInterval: 500 })
    // The DHT takes ping from the services above, which the map's type cannot say.
    services.dht = dht as unknown as (typeof services)[string]
    // The trusted peers relay for each other and for workers; their own traffic is not capped.
    if (plan.relayServer) services.relay = modules.circuitRelayServer({ reservations: { applyDefaultLimit: false, maxReservations: 128 } })
    if (plan.relayTransport) {
      services.dcutr = modules.dcutr()
      transports.push(modules.circuitRelayTransport())
    }
    if (plan.bootstrap.length > 0) peerDiscovery.push(modules.bootstrap({ list: [...plan.bootstrap], timeout: 0 }))
    if (plan.mdns) peerDiscovery.push(modules.mdns({ serviceTag: MDNS_SERVICE_TAG, interval: 10_000 }))
  }
  try {
    return (await createLibp2p({
      privateKey: options.privateKey,
      addresses: { listen: [...options.listen], ...(options.announce && options.announce.length > 0 ? { announce: [...options.announce] } : {}) },
      transports,
      connectionEncrypters: [coalescingWrites(noise())],
      streamMuxers: [yamux()],
      peerDiscovery,
      ...(options.metrics ? { metrics: options.metrics as Libp2pOptions['metrics'] } : {}),
      // Many workers may share one host (a NAT, or one machine running several): allow more
      // than libp2p's default of 5 new connections a second per host. Requests are limited per peer.
      connectionManager: { inboundConnectionThreshold: 100, maxIncomingPendingConnections: 100, ...(options.maxConnections ? { maxConnections: options.maxConnections } : {}) },
      services,
    })) as unknown as PeerNode
  } catch (err) {
    const detail = errorMessage(err).split('\n').find((line) => line.includes('/ip')) ?? errorMessage(err)
    throw new PeerqueueError('E_LISTEN', `cannot listen on ${options.listen.join(', ')}: ${detail.trim()} (is another peer using the port?)`)
  }
}
