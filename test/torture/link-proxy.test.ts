// The link proxy on real sockets on 127.0.0.1: it names the process that dialled (this one,
// "client"), forwards, resets a dropped link, holds a black-holed one until it heals, and
// delays a slow one.
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort } from '../helpers/free-port.js'
import { LinkProxy } from './link-proxy.js'
import { Links } from './links.js'
import { canFindSocketOwners, ownerOfConnection } from './socket-owner.js'

const onLinux = await canFindSocketOwners()

async function echoServer(): Promise<{ server: Server; port: number }> {
  const port = await freePort()
  const server = createServer((socket) => {
    socket.on('error', () => undefined)
    socket.pipe(socket)
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()))
  return { server, port }
}

function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.off('error', reject)
      socket.on('error', () => undefined)
      resolve(socket)
    })
    socket.once('error', reject)
  })
}

/** The next `length` bytes the socket receives, or an error if it closes first. */
function receive(socket: Socket, length: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = ''
    const onData = (chunk: Buffer) => {
      got += chunk.toString()
      if (got.length >= length) {
        socket.off('data', onData)
        resolve(got)
      }
    }
    socket.on('data', onData)
    socket.once('close', () => reject(new Error(`closed after ${got.length} bytes`)))
  })
}

describe.skipIf(!onLinux)('the link proxy', () => {
  const cleanup: (() => unknown)[] = []
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step()
  })

  async function setup() {
    const { server, port } = await echoServer()
    cleanup.push(() => new Promise((r) => server.close(r)))
    const links = new Links()
    const proxyPort = await freePort()
    const named: (string | undefined)[] = []
    const proxy = new LinkProxy('peer', proxyPort, port, links, async (sourcePort) => {
      const name = await ownerOfConnection(sourcePort, proxyPort, new Map([[process.pid, 'client']]))
      named.push(name)
      return name
    })
    await proxy.start()
    cleanup.push(() => proxy.close())
    return { links, proxy, proxyPort, named }
  }

  it('names the dialling process and forwards both ways', async () => {
    const { proxyPort, named } = await setup()
    const socket = await connectTo(proxyPort)
    cleanup.push(() => socket.destroy())
    socket.write('hello')
    expect(await receive(socket, 5)).toBe('hello')
    expect(named).toEqual(['client'])
  })

  it('resets a connection when its link is dropped, refuses new ones, and lets them through once healed', async () => {
    const { links, proxy, proxyPort } = await setup()
    const socket = await connectTo(proxyPort)
    socket.on('error', () => undefined)
    const closed = new Promise((r) => socket.once('close', r))
    socket.write('a')
    await receive(socket, 1)
    links.cut('client', 'peer', 'drop')
    await closed
    const refused = await connectTo(proxyPort)
    refused.on('error', () => undefined)
    await new Promise((r) => refused.once('close', r))
    expect(proxy.refused).toBe(2)
    links.heal('client', 'peer')
    const again = await connectTo(proxyPort)
    cleanup.push(() => again.destroy())
    again.write('back')
    expect(await receive(again, 4)).toBe('back')
  })

  it('holds the bytes of a black-holed direction until the link heals', async () => {
    const { links, proxyPort } = await setup()
    const socket = await connectTo(proxyPort)
    cleanup.push(() => socket.destroy())
    links.cut('peer', 'client', 'blackhole')
    const answer = receive(socket, 4)
    let arrived = false
    void answer.then(() => (arrived = true))
    socket.write('held')
    await new Promise((r) => setTimeout(r, 300))
    expect(arrived).toBe(false)
    links.heal('peer', 'client')
    expect(await answer).toBe('held')
  })

  it('delays the bytes of a slow link, in order', async () => {
    const { links, proxyPort } = await setup()
    const socket = await connectTo(proxyPort)
    cleanup.push(() => socket.destroy())
    links.slow('client', 'peer', 150)
    const started = performance.now()
    socket.write('one')
    socket.write('two')
    expect(await receive(socket, 6)).toBe('onetwo')
    expect(performance.now() - started).toBeGreaterThanOrEqual(140)
  })
})
