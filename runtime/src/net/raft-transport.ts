// Raft messages over libp2p: one long-lived stream to each other member, carrying batches of
// messages as length-prefixed JSON frames. Streams are accepted only from the group's trusted
// peers, and a message is dropped unless its `from` is the peer the Noise handshake proved.
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Connection, Stream } from '@libp2p/interface'
import { isMessage } from '../raft/message-check.js'
import type { Message, NodeId } from '../raft/types.js'
import type { Transport } from '../raft/transport.js'
import { frameStream } from './frames.js'
import type { PeerNode } from './node.js'

export const RAFT_PROTOCOL = '/peerqueue/raft/1.0.0'
const RECONNECT_MIN_MS = 50
const RECONNECT_MAX_MS = 2_000
/** Frames well under MAX_FRAME_BYTES: appends are bounded in bytes by the core, snapshots are not yet. */
const FRAME_TARGET_CHARS = 4 * 1024 * 1024

export interface RaftPeers {
  /** Members of the group other than this node, with where to dial them. */
  readonly members: ReadonlyMap<NodeId, readonly string[]>
}

type Writer = { write(bytes: Uint8Array): Promise<void> }

interface Link {
  writer: Writer | undefined
  stream: Stream | undefined
  connecting: boolean
  nextAttempt: number
  backoff: number
}

export class Libp2pRaftTransport implements Transport {
  private readonly links = new Map<NodeId, Link>()
  private readonly encoder = new TextEncoder()
  private closed = false

  private constructor(
    private readonly node: PeerNode,
    private readonly group: string,
    peers: RaftPeers,
  ) {
    for (const id of peers.members.keys()) this.links.set(id, { writer: undefined, stream: undefined, connecting: false, nextAttempt: 0, backoff: RECONNECT_MIN_MS })
  }

  /** Starts accepting Raft streams for `group` and returns the transport for sending. */
  static async listen(node: PeerNode, group: string, peers: RaftPeers, receive: (message: Message) => void): Promise<Libp2pRaftTransport> {
    const transport = new Libp2pRaftTransport(node, group, peers)
    await node.handle(`${RAFT_PROTOCOL}/${group}`, (stream: Stream, connection: Connection) => {
      const sender = connection.remotePeer.toString()
      if (!peers.members.has(sender)) {
        stream.abort(new Error('not a member of this group'))
        return
      }
      void transport.readFrom(stream, sender, group, receive)
    }, { maxInboundStreams: 8 })
    for (const [id, addrs] of peers.members) await node.peerStore.merge(peerIdFromString(id), { multiaddrs: addrs.map((a) => multiaddr(a)) })
    return transport
  }

  send(messages: readonly Message[]): void {
    const byPeer = new Map<NodeId, Message[]>()
    for (const message of messages) byPeer.set(message.to, [...(byPeer.get(message.to) ?? []), message])
    for (const [to, batch] of byPeer) {
      const link = this.links.get(to)
      if (!link) continue
      if (!link.writer) {
        this.connect(to, link)
        continue
      }
      for (const frame of framesOf(batch)) link.writer.write(this.encoder.encode(frame)).catch(() => this.drop(link))
    }
  }

  async close(): Promise<void> {
    this.closed = true
    for (const link of this.links.values()) link.stream?.abort(new Error('closing'))
  }

  private connect(to: NodeId, link: Link): void {
    if (link.connecting || this.closed || Date.now() < link.nextAttempt) return
    link.connecting = true
    this.node
      .dialProtocol(peerIdFromString(to), `${RAFT_PROTOCOL}/${this.group}`, { signal: AbortSignal.timeout(2_000) })
      .then((stream) => {
        link.stream = stream
        link.writer = frameStream(stream)
        link.backoff = RECONNECT_MIN_MS
        stream.addEventListener('close', () => this.drop(link))
      })
      .catch(() => {
        link.nextAttempt = Date.now() + link.backoff
        link.backoff = Math.min(link.backoff * 2, RECONNECT_MAX_MS)
      })
      .finally(() => {
        link.connecting = false
      })
  }

  private drop(link: Link): void {
    link.writer = undefined
    link.stream = undefined
  }

  private async readFrom(stream: Stream, sender: NodeId, group: string, receive: (message: Message) => void): Promise<void> {
    const lp = frameStream(stream)
    const decoder = new TextDecoder()
    try {
      for (;;) {
        const batch = JSON.parse(decoder.decode((await lp.read()).subarray())) as unknown
        if (!Array.isArray(batch)) throw new Error('a frame must hold an array of messages')
        for (const message of batch as unknown[]) {
          if (!isMessage(message) || message.from !== sender || message.group !== group) continue
          receive(message)
        }
      }
    } catch {
      stream.abort(new Error('raft stream ended'))
    }
  }
}

/** The batch as JSON arrays of at most ~FRAME_TARGET_CHARS each (one message may exceed it alone). */
function framesOf(batch: readonly Message[]): string[] {
  if (batch.length === 1) return [`[${JSON.stringify(batch[0])}]`]
  const frames: string[] = []
  let parts: string[] = []
  let size = 0
  for (const message of batch) {
    const text = JSON.stringify(message)
    if (parts.length > 0 && size + text.length > FRAME_TARGET_CHARS) {
      frames.push(`[${parts.join(',')}]`)
      parts = []
      size = 0
    }
    parts.push(text)
    size += text.length + 1
  }
  if (parts.length > 0) frames.push(`[${parts.join(',')}]`)
  return frames
}
