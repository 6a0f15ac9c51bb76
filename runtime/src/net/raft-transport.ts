// Raft messages over libp2p: one long-lived stream to each other member, carrying batches of
// messages as length-prefixed JSON frames. Streams are accepted only from the group's trusted
// peers, and a message is dropped unless its `from` is the peer the Noise handshake proved.
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Connection, Stream } from '@libp2p/interface'
import { isMessage } from '../raft/message-check.js'
import type { Message, NodeId } from '../raft/types.js'
import { messageJson } from '../raft/entry-json.js'
import type { Transport } from '../raft/transport.js'
import { MAX_FRAME_BYTES } from './frames.js'
import { readFrames, writeFrame } from './frame-stream.js'
import { locate } from './locate.js'
import type { PeerNode } from './node.js'

export const RAFT_PROTOCOL = '/peerqueue/raft/1.0.0'
const RECONNECT_MIN_MS = 50
const RECONNECT_MAX_MS = 2_000
/** Frames well under MAX_FRAME_BYTES: appends are bounded in bytes by the core. */
const FRAME_TARGET_CHARS = 4 * 1024 * 1024
/**
 * A frame larger than this (a snapshot of a big queue: 100,000 jobs are ~25 MB) travels as
 * consecutive chunks of it, each marked by its first byte, which no JSON frame starts with.
 */
const CHUNK_BYTES = 4 * 1024 * 1024
const MORE = 0x01
const LAST = 0x02
/** The most one chunked frame may add up to: a bound on what a member must buffer. */
const MAX_CHUNKED_BYTES = 1024 * 1024 * 1024

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
  private readonly inbound = new Set<Stream>()
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
      if (transport.closed) {
        stream.abort(new Error('this group is closed'))
        return
      }
      transport.inbound.add(stream)
      transport.readFrom(stream, sender, group, receive, () => transport.inbound.delete(stream))
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
      const writer = link.writer
      for (const frame of framesOf(batch)) for (const piece of chunksOf(this.encoder.encode(frame))) writer.write(piece).catch(() => this.drop(link))
    }
  }

  async close(): Promise<void> {
    this.closed = true
    for (const link of this.links.values()) link.stream?.abort(new Error('closing'))
    for (const stream of this.inbound) stream.abort(new Error('closing'))
    this.inbound.clear()
    await this.node.unhandle(`${RAFT_PROTOCOL}/${this.group}`).catch(() => undefined)
  }

  private connect(to: NodeId, link: Link): void {
    if (link.connecting || this.closed || Date.now() < link.nextAttempt) return
    link.connecting = true
    const signal = AbortSignal.timeout(2_000)
    // After a failed attempt the addresses it had may be old ones: ask the DHT afresh.
    locate(this.node, to, signal, link.backoff > RECONNECT_MIN_MS)
      .then((peer) => this.node.dialProtocol(peer, `${RAFT_PROTOCOL}/${this.group}`, { signal }))
      .then((stream) => {
        link.stream = stream
        link.writer = { write: (bytes) => writeFrame(stream, bytes) }
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

  private readFrom(stream: Stream, sender: NodeId, group: string, receive: (message: Message) => void, ended: () => void): void {
    const decoder = new TextDecoder()
    const chunks = new ChunkedFrame()
    readFrames(
      stream,
      MAX_FRAME_BYTES,
      (piece) => {
        const whole = chunks.add(piece)
        if (!whole) return
        const batch = JSON.parse(decoder.decode(whole)) as unknown
        if (!Array.isArray(batch)) throw new Error('a frame must hold an array of messages')
        for (const message of batch as unknown[]) {
          if (!isMessage(message) || message.from !== sender || message.group !== group) continue
          receive(message)
        }
      },
      () => {
        stream.abort(new Error('raft stream ended'))
        ended()
      },
    )
  }
}

/** The batch as JSON arrays of at most ~FRAME_TARGET_CHARS each (one message may exceed it alone). */
function framesOf(batch: readonly Message[]): string[] {
  if (batch.length === 1) return [`[${messageJson(batch[0]!)}]`]
  const frames: string[] = []
  let parts: string[] = []
  let size = 0
  for (const message of batch) {
    const text = messageJson(message)
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

/** A whole frame as one piece, or a large one as marked chunks in order. */
function chunksOf(frame: Uint8Array): Uint8Array[] {
  if (frame.length <= CHUNK_BYTES) return [frame]
  const pieces: Uint8Array[] = []
  for (let at = 0; at < frame.length; at += CHUNK_BYTES) {
    const body = frame.subarray(at, at + CHUNK_BYTES)
    const piece = new Uint8Array(body.length + 1)
    piece[0] = at + CHUNK_BYTES >= frame.length ? LAST : MORE
    piece.set(body, 1)
    pieces.push(piece)
  }
  return pieces
}

/** Puts chunked frames back together; a frame that is not a chunk passes through. */
class ChunkedFrame {
  private parts: Uint8Array[] = []
  private bytes = 0

  /** The whole frame once complete, undefined while chunks are still to come. */
  add(piece: Uint8Array): Uint8Array | undefined {
    const mark = piece[0]
    if (mark !== MORE && mark !== LAST) {
      if (this.parts.length > 0) throw new Error('a frame came in the middle of a chunked one')
      return piece
    }
    this.bytes += piece.length - 1
    if (this.bytes > MAX_CHUNKED_BYTES) throw new Error(`a chunked frame over ${MAX_CHUNKED_BYTES} bytes`)
    this.parts.push(piece.slice(1))
    if (mark === MORE) return undefined
    const whole = Buffer.concat(this.parts)
    this.parts = []
    this.bytes = 0
    return whole
  }
}
