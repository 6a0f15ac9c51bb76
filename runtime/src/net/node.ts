// Builds the libp2p node every peerqueue process uses: TCP and WebSockets, Noise, Yamux, identify.
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { PrivateKey } from '@libp2p/interface'

export interface NodeOptions {
  readonly privateKey: PrivateKey
  /** Multiaddrs to listen on; empty for a dial-only node such as a client. */
  readonly listen: readonly string[]
}

export type PeerNode = Libp2p<{ identify: ReturnType<ReturnType<typeof identify>> }>

export async function createPeerNode(options: NodeOptions): Promise<PeerNode> {
  return createLibp2p({
    privateKey: options.privateKey,
    addresses: { listen: [...options.listen] },
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() },
  })
}
