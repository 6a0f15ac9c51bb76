// Finds where a peer known only by its id listens, before dialling it. libp2p's dial by id asks
// the DHT itself, but that lookup waits for the DHT's first self-query, which may in turn dial
// the same peer and join the dial that is waiting for it: both then sit until a 5 s timeout.
// Asking the DHT first, outside any dial, takes a few hundred ms on a small network.
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import type { PeerNode } from './node.js'

/** `refresh` asks the DHT even when addresses are known (they failed: the peer may have moved). */
export async function locate(node: PeerNode, id: string, signal: AbortSignal, refresh = false): Promise<PeerId> {
  const peerId = peerIdFromString(id)
  if (!node.services.dht || node.getConnections(peerId).length > 0) return peerId
  const known = refresh ? undefined : await node.peerStore.get(peerId).catch(() => undefined)
  if (known && known.addresses.length > 0) return peerId
  const found = await node.peerRouting.findPeer(peerId, { signal })
  await node.peerStore.merge(peerId, { multiaddrs: found.multiaddrs })
  return peerId
}
