import { once } from 'node:events'
import { createServer, Socket, type AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { MessageStream } from '@libp2p/interface'
import { corkedPerTurn } from './coalesced-writes.js'

describe('writes coalesced per turn', () => {
  const cleanup: (() => void)[] = []
  afterEach(() => cleanup.splice(0).forEach((f) => f()))

  async function connectedSocket(): Promise<{ socket: Socket; received: Buffer[] }> {
    const received: Buffer[] = []
    const server = createServer((s) => s.on('data', (b: Buffer) => received.push(b)))
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const socket = new Socket()
    socket.setNoDelay(true)
    socket.connect((server.address() as AddressInfo).port, '127.0.0.1')
    await once(socket, 'connect')
    cleanup.push(() => {
      socket.destroy()
      server.close()
    })
    return { socket, received }
  }

  it('corks the socket for the rest of the turn and hands every piece over together', async () => {
    const { socket, received } = await connectedSocket()
    const sent: Uint8Array[] = []
    const connection = { socket, send: (data: Uint8Array) => (sent.push(data), socket.write(data)) } as unknown as MessageStream
    const wrapped = corkedPerTurn(connection)
    expect(wrapped).toBe(connection)
    for (const piece of ['ab', 'cd', 'ef']) wrapped.send(new TextEncoder().encode(piece))
    expect(socket.writableCorked).toBe(1)
    expect(socket.writableLength).toBe(6)
    await new Promise((r) => setImmediate(r))
    expect(socket.writableCorked).toBe(0)
    await expect.poll(() => Buffer.concat(received).toString()).toBe('abcdef')
    expect(sent).toHaveLength(3)
    // A later turn corks again.
    wrapped.send(new TextEncoder().encode('gh'))
    expect(socket.writableCorked).toBe(1)
    await expect.poll(() => Buffer.concat(received).toString()).toBe('abcdefgh')
  })

  it('leaves a connection that is not a TCP socket as it is', () => {
    const send = () => true
    const connection = { send } as unknown as MessageStream
    expect(corkedPerTurn(connection).send).toBe(send)
  })
})
