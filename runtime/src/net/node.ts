// Builds the libp2p node every peerqueue process uses: TCP and WebSockets, Noise, Yamux,
// identify, and for peers (not clients) gossipsub with signed messages only.
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { gossipsub, StrictSign, type GossipSub } from '@libp2p/gossipsub'
import type { PrivateKey } from '@libp2p/interface'
import { PeerqueueError, errorMessage } from '../errors.js'

export interface NodeOptions {
  readonly privateKey: PrivateKey
  /** Multiaddrs to listen on; empty for a dial-only node such as a client. */
  readonly listen: readonly string[]
  /** Join gossipsub (peers do; short-lived clients need not). */
  readonly pubsub?: boolean
}

/** Peers one address may hold before gossipsub's scoring starts to distrust them. */
const COLOCATED_PEERS = 1_000

export type PeerNode = Libp2p<{ identify: ReturnType<ReturnType<typeof identify>>; pubsub?: GossipSub }>

export async function createPeerNode(options: NodeOptions): Promise<PeerNode> {
  const services = options.pubsub
    ? {
        identify: identify(),
        // StrictSign: every message carries its author's signature, so no peer can speak for another.
        pubsub: gossipsub({
          globalSignaturePolicy: StrictSign,
          allowPublishToZeroTopicPeers: true,
          emitSelf: false,
          // Gossipsub's default scoring graylists every peer of an address shared by more than 10,
          // and then neither sends to them nor hears them. peerqueue expects many workers behind
          // one NAT or on one machine; trust comes from signatures and the registry, not addresses.
          scoreParams: { IPColocationFactorThreshold: COLOCATED_PEERS, IPColocationFactorWhitelist: new Set(['127.0.0.1', '::1']) },
        }),
      }
    : { identify: identify() }
  try {
    return (await createLibp2p({
      privateKey: options.privateKey,
      addresses: { listen: [...options.listen] },
      transports: [tcp(), webSockets()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      // Many workers may share one host (a NAT, or one machine running several): allow more
      // than libp2p's default of 5 new connections a second per host. Requests are limited per peer.
      connectionManager: { inboundConnectionThreshold: 100, maxIncomingPendingConnections: 100 },
      services,
    })) as PeerNode
  } catch (err) {
    const detail = errorMessage(err).split('\n').find((line) => line.includes('/ip')) ?? errorMessage(err)
    throw new PeerqueueError('E_LISTEN', `cannot listen on ${options.listen.join(', ')}: ${detail.trim()} (is another peer using the port?)`)
  }
}
