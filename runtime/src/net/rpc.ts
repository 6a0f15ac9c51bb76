// Request/response over one long-lived libp2p stream per client. The server answers requests
// concurrently (a `wait` may be pending while enqueues flow), so replies can arrive out of order.
import { multiaddr } from '@multiformats/multiaddr'
import type { Connection, Stream } from '@libp2p/interface'
import { PeerqueueError, errorMessage, isPeerqueueError } from '../errors.js'
import { decodeReply, decodeRequest, encodeFrame, MAX_FRAME_BYTES, type ReplyFrame } from './frames.js'
import { readFrames, writeFrame } from './frame-stream.js'
import { locate } from './locate.js'
import type { PeerNode } from './node.js'
import { PeerRateLimiter, type RateLimit } from './rate-limit.js'

export const RPC_PROTOCOL = '/peerqueue/rpc/1.0.0'

/** What the server knows of a caller: its authenticated peer id (Noise proved it). */
export interface Caller {
  readonly peerId: string
}

export type RpcHandler = (method: string, params: unknown, caller: Caller) => Promise<unknown>

export async function serveRpc(node: PeerNode, handler: RpcHandler, limit?: RateLimit): Promise<void> {
  const limiter = new PeerRateLimiter(limit)
  const limited: RpcHandler = async (method, params, caller) => {
    limiter.take(caller.peerId)
    return handler(method, params, caller)
  }
  await node.handle(RPC_PROTOCOL, (stream: Stream, connection: Connection) => {
    serveStream(stream, { peerId: connection.remotePeer.toString() }, limited)
  }, { maxInboundStreams: 1024 })
}

function serveStream(stream: Stream, caller: Caller, handler: RpcHandler): void {
  const reply = (frame: ReplyFrame) => writeFrame(stream, encodeFrame(frame)).catch(() => undefined)
  readFrames(
    stream,
    MAX_FRAME_BYTES,
    (bytes) => {
      const request = decodeRequest(bytes)
      handler(request.method, request.params, caller).then(
        (value) => reply({ id: request.id, ok: true, value: value ?? null }),
        (err: unknown) => reply(errorReply(request.id, err)),
      )
    },
    () => stream.abort(new Error('rpc stream closed')),
  )
}

function errorReply(id: number, err: unknown): ReplyFrame {
  if (isPeerqueueError(err)) return { id, ok: false, code: err.code, message: err.message }
  return { id, ok: false, code: 'E_INTERNAL', message: errorMessage(err) }
}

interface Pending {
  resolve(value: unknown): void
  reject(err: Error): void
}

/** The client end: call(method, params) resolves with the server's value or rejects with its error. */
export class RpcClient {
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private closedWith: Error | undefined

  private constructor(private readonly stream: Stream) {
    readFrames(stream, MAX_FRAME_BYTES, (bytes) => this.onReply(bytes), (reason) => this.fail(new PeerqueueError('E_UNREACHABLE', `lost the connection to the trusted peer: ${errorMessage(reason)}`)))
  }

  /** Dials a peer known only by its id: libp2p finds its addresses in the peer store or the DHT. */
  static async openPeer(node: PeerNode, id: string, timeoutMs = 5_000): Promise<RpcClient> {
    const signal = AbortSignal.timeout(timeoutMs)
    const dial = async (refresh: boolean) => new RpcClient(await node.dialProtocol(await locate(node, id, signal, refresh), RPC_PROTOCOL, { signal }))
    try {
      return await dial(false).catch((err: unknown) => {
        // The addresses it had may be old ones: ask the DHT where the peer is now.
        if (signal.aborted || !node.services.dht) throw err
        return dial(true)
      })
    } catch (err) {
      throw new PeerqueueError('E_UNREACHABLE', `cannot reach trusted peer ${id}: ${errorMessage(err)}`)
    }
  }

  static async open(node: PeerNode, addrs: readonly string[], timeoutMs = 5_000): Promise<RpcClient> {
    let lastError: unknown
    for (const addr of addrs) {
      try {
        const stream = await node.dialProtocol(multiaddr(addr), RPC_PROTOCOL, { signal: AbortSignal.timeout(timeoutMs) })
        return new RpcClient(stream)
      } catch (err) {
        lastError = err
      }
    }
    throw new PeerqueueError('E_UNREACHABLE', `cannot reach a trusted peer at ${addrs.join(', ')}: ${errorMessage(lastError)}`)
  }

  get closed(): boolean {
    return this.closedWith !== undefined
  }

  /** Rejects with E_TIMEOUT when no answer comes within `timeoutMs`: the request may or may not have taken effect. */
  async call(method: string, params: unknown, timeoutMs = 60_000): Promise<unknown> {
    if (this.closedWith) throw this.closedWith
    const id = this.nextId++
    let timer: NodeJS.Timeout | undefined
    const result = new Promise<unknown>((resolve, reject) => {
      timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new PeerqueueError('E_TIMEOUT', `no answer to ${method} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, { resolve, reject })
    })
    // If the write fails, the lost connection also rejects `result`, which nobody awaits then:
    // unhandled, that rejection would end the process.
    result.catch(() => undefined)
    try {
      try {
        await writeFrame(this.stream, encodeFrame({ id, method, params }))
      } catch (err) {
        // The stream is closing or gone (the peer went away): nothing was sent, so the caller may try elsewhere.
        this.fail(new PeerqueueError('E_UNREACHABLE', `lost the connection to the trusted peer: ${errorMessage(err)}`))
        throw this.closedWith!
      }
      return await result
    } finally {
      clearTimeout(timer)
    }
  }

  async close(): Promise<void> {
    this.fail(new PeerqueueError('E_CLOSED', 'the connection is closed'))
    await this.stream.close().catch(() => this.stream.abort(new Error('closed')))
  }

  private onReply(bytes: Uint8Array): void {
    const frame = decodeReply(bytes)
    const waiter = this.pending.get(frame.id)
    if (!waiter) return
    this.pending.delete(frame.id)
    if (frame.ok) waiter.resolve(frame.value)
    else waiter.reject(new PeerqueueError(frame.code, frame.message))
  }

  private fail(err: Error): void {
    this.closedWith ??= err
    for (const waiter of this.pending.values()) waiter.reject(err)
    this.pending.clear()
  }
}
