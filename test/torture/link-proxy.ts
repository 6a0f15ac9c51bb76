// A TCP proxy in front of one peer. The registry and the peer's --announce give its port, so
// every connection to the peer passes here; the proxy learns which process dialled (see
// socket-owner.ts) and applies the link's state to each direction: a dropped link resets the
// connection, a black hole holds the bytes (as a lost route does to TCP), a slow one delays them.
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import type { Links } from './links.js'

/** Names the process at the other end of a connection from `sourcePort`, if it is known. */
export type IdentifySource = (sourcePort: number) => Promise<string | undefined>

interface Chunk {
  readonly bytes: Buffer
  readonly at: number
}

/** One direction of a proxied connection. */
class Flow {
  private readonly chunks: Chunk[] = []
  private timer: NodeJS.Timeout | undefined
  private drained: (() => void) | undefined

  constructor(
    private readonly input: Socket,
    private readonly output: Socket,
    private readonly held: () => boolean,
    private readonly delayMs: () => number,
  ) {
    input.on('data', (bytes: Buffer) => {
      this.chunks.push({ bytes, at: performance.now() + this.delayMs() })
      this.pump()
    })
    input.on('end', () => this.whenDrained(() => output.end()))
  }

  /** Sends what may be sent now; holds the rest, and stops reading while bytes are held. */
  pump(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.held()) {
      this.input.pause()
      return
    }
    const now = performance.now()
    while (this.chunks.length > 0 && this.chunks[0]!.at <= now) this.output.write(this.chunks.shift()!.bytes)
    if (this.chunks.length > 0) {
      this.input.pause()
      this.timer = setTimeout(() => this.pump(), this.chunks[0]!.at - now)
    } else {
      this.input.resume()
      this.drained?.()
      this.drained = undefined
    }
  }

  stop(): void {
    clearTimeout(this.timer)
  }

  private whenDrained(then: () => void): void {
    if (this.chunks.length === 0) then()
    else this.drained = then
  }
}

interface Connection {
  readonly source: string | undefined
  readonly down: Socket
  readonly up: Socket
  readonly flows: Flow[]
}

export class LinkProxy {
  private server: Server | undefined
  private readonly connections = new Set<Connection>()
  private readonly unsubscribe: () => void
  /** Connections refused or reset because their link was cut. */
  refused = 0
  /** Connections accepted, and those whose dialling process was found. */
  accepted = 0
  identified = 0

  constructor(
    /** The peer behind this proxy, as the links name it. */
    readonly target: string,
    readonly port: number,
    private readonly upstreamPort: number,
    private readonly links: Links,
    private readonly identify: IdentifySource,
  ) {
    this.unsubscribe = links.onChange(() => this.reconsider())
  }

  async start(): Promise<void> {
    const server = createServer({ pauseOnConnect: true }, (socket) => void this.accept(socket))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => resolve())
    })
    this.server = server
  }

  async close(): Promise<void> {
    this.unsubscribe()
    for (const connection of this.connections) this.reset(connection)
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
  }

  private async accept(down: Socket): Promise<void> {
    down.on('error', () => undefined)
    const source = await this.identify(down.remotePort ?? 0).catch(() => undefined)
    this.accepted += 1
    if (source) this.identified += 1
    if (source && this.dropped(source)) {
      this.refused += 1
      down.resetAndDestroy()
      return
    }
    const up = createConnection({ host: '127.0.0.1', port: this.upstreamPort })
    up.on('error', () => undefined)
    // Small frames (Raft appends, RPC answers) must not wait for Nagle's algorithm and delayed ACKs.
    up.setNoDelay(true)
    down.setNoDelay(true)
    const connection: Connection = {
      source,
      down,
      up,
      flows: [
        new Flow(down, up, () => source !== undefined && this.links.cutOf(source, this.target) !== undefined, () => (source ? this.links.delayOf(source, this.target) : 0)),
        new Flow(up, down, () => source !== undefined && this.links.cutOf(this.target, source) !== undefined, () => (source ? this.links.delayOf(this.target, source) : 0)),
      ],
    }
    this.connections.add(connection)
    const forget = () => {
      if (!this.connections.delete(connection)) return
      for (const flow of connection.flows) flow.stop()
      down.destroy()
      up.destroy()
    }
    down.once('close', forget)
    up.once('close', forget)
    for (const flow of connection.flows) flow.pump()
  }

  private dropped(source: string): boolean {
    return this.links.cutOf(source, this.target) === 'drop' || this.links.cutOf(this.target, source) === 'drop'
  }

  private reconsider(): void {
    for (const connection of this.connections) {
      if (connection.source && this.dropped(connection.source)) {
        this.refused += 1
        this.reset(connection)
      } else for (const flow of connection.flows) flow.pump()
    }
  }

  private reset(connection: Connection): void {
    this.connections.delete(connection)
    for (const flow of connection.flows) flow.stop()
    connection.down.resetAndDestroy()
    connection.up.resetAndDestroy()
  }
}
