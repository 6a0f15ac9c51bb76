import { createServer, type Server } from 'node:http'
import { writeFile, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterEach, describe, expect, it } from 'vitest'
import { SAMPLE_REGISTRY } from '../../../test/fixtures/registry.js'
import { loadRegistry, readRegistry } from './load.js'

const REGISTRY = SAMPLE_REGISTRY

async function rawCid(text: string): Promise<string> {
  return CID.create(1, raw.code, await sha256.digest(new TextEncoder().encode(text))).toString()
}

/** A stand-in IPFS gateway on 127.0.0.1 that serves `body` for every path it is asked. */
async function gateway(body: () => string | undefined): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = []
  const server = createServer((req, res) => {
    requests.push(req.url ?? '')
    const text = body()
    if (text === undefined) {
      res.writeHead(504).end('gateway timeout')
      return
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end(text)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, server, requests }
}

describe('registry sources', () => {
  const servers: Server[] = []
  afterEach(() => {
    for (const server of servers.splice(0)) server.close()
  })

  it('fetches ipfs://<CID> through the gateway and checks the bytes against the CID', async () => {
    const gw = await gateway(() => REGISTRY)
    servers.push(gw.server)
    const cid = await rawCid(REGISTRY)
    const registry = await loadRegistry(`ipfs://${cid}`, { ipfsGateway: gw.url })
    expect(registry.queues[0]!.name).toBe('images')
    expect(gw.requests).toEqual([`/ipfs/${cid}`])
  })

  it('says when a CID cannot be checked against the content', async () => {
    const gw = await gateway(() => REGISTRY)
    servers.push(gw.server)
    const logged: string[] = []
    const dagPb = 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG'
    await loadRegistry(`ipfs://${dagPb}`, { ipfsGateway: gw.url, log: (l) => logged.push(l) })
    expect(logged.join('\n')).toContain('could not be checked against the CID')
  })

  it('refuses content that does not match its CID', async () => {
    const gw = await gateway(() => REGISTRY.replace('images-7f3a', 'evil-0000'))
    servers.push(gw.server)
    await expect(loadRegistry(`ipfs://${await rawCid(REGISTRY)}`, { ipfsGateway: gw.url })).rejects.toMatchObject({
      code: 'E_REGISTRY_UNREADABLE',
      message: expect.stringContaining('does not match its CID'),
    })
  })

  it('keeps the last good copy and uses it while the gateway is down', async () => {
    let up = true
    const gw = await gateway(() => (up ? REGISTRY : undefined))
    servers.push(gw.server)
    const cacheDir = await mkdtemp(join(tmpdir(), 'pq-regcache-'))
    const source = `ipfs://${await rawCid(REGISTRY)}`
    await loadRegistry(source, { ipfsGateway: gw.url, cacheDir })
    up = false
    const logged: string[] = []
    const registry = await loadRegistry(source, { ipfsGateway: gw.url, cacheDir, log: (l) => logged.push(l) })
    expect(registry.queues[0]!.rendezvous).toBe('images-7f3a')
    expect(logged.join('\n')).toMatch(/HTTP 504.*last good copy/)
    await expect(loadRegistry(source, { ipfsGateway: gw.url, cacheDir: join(cacheDir, 'empty') })).rejects.toMatchObject({ code: 'E_REGISTRY_UNREADABLE', message: expect.stringContaining('HTTP 504') })
  })

  it('reads the kept copy instead of fetching again when its digest is the one handed on, and fetches otherwise', async () => {
    const gw = await gateway(() => REGISTRY)
    servers.push(gw.server)
    const cacheDir = await mkdtemp(join(tmpdir(), 'pq-regcache-'))
    const source = `ipfs://${await rawCid(REGISTRY)}`
    const first = await readRegistry(source, { ipfsGateway: gw.url, cacheDir })
    expect(first.remoteDigest).toMatch(/^[0-9a-f]{64}$/)
    expect(gw.requests).toHaveLength(1)
    const again = await readRegistry(source, { ipfsGateway: gw.url, cacheDir, keptDigest: first.remoteDigest! })
    expect(again.registry).toEqual(first.registry)
    expect(gw.requests).toHaveLength(1)
    // A copy that is not the one read (an older one, whose replacement could not be written) is not trusted.
    await readRegistry(source, { ipfsGateway: gw.url, cacheDir, keptDigest: '0'.repeat(64) })
    expect(gw.requests).toHaveLength(2)
    const local = join(cacheDir, 'local.yaml')
    await writeFile(local, REGISTRY)
    expect((await readRegistry(local)).remoteDigest).toBeUndefined()
  })

  it('uses a fetched registry even when its copy cannot be kept, and says so', async () => {
    const gw = await gateway(() => REGISTRY)
    servers.push(gw.server)
    const notADir = join(await mkdtemp(join(tmpdir(), 'pq-regcache-')), 'file')
    await writeFile(notADir, 'in the way')
    const logged: string[] = []
    const registry = await loadRegistry(`ipfs://${await rawCid(REGISTRY)}`, { ipfsGateway: gw.url, cacheDir: notADir, log: (l) => logged.push(l) })
    expect(registry.queues[0]!.rendezvous).toBe('images-7f3a')
    expect(logged.join('\n')).toMatch(/could not keep a copy of the registry/)
  })

  it('explains an address that is not ipfs://<CID>, and an unsupported scheme', async () => {
    await expect(loadRegistry('ipfs://not-a-cid')).rejects.toMatchObject({ message: expect.stringContaining('not an ipfs://<CID> address') })
    await expect(loadRegistry('ftp://example.invalid/r.yaml')).rejects.toMatchObject({ message: expect.stringContaining('unsupported registry source') })
  })
})
