// A peer whose registry is remote (ipfs://<CID> through a gateway on 127.0.0.1) reads it once,
// though it starts Node afresh once it knows its role: the new image reads the copy the first kept.
import { createServer, type Server } from 'node:http'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, describe, expect, it } from 'vitest'
import { FIXTURE_JOBS, makeProject, spawnPeer, stopPeer, type RunningPeer } from '../helpers/project.js'

describe('a peer with a remote registry', () => {
  let server: Server | undefined
  let peer: RunningPeer | undefined
  afterAll(async () => {
    if (peer) await stopPeer(peer)
    server?.close()
  })

  it('fetches it once, across the restart that sizes Node for its role', async () => {
    const project = await makeProject()
    const text = await readFile(project.registry, 'utf8')
    const cid = CID.create(1, raw.code, await sha256.digest(new TextEncoder().encode(text))).toString()
    const requests: string[] = []
    server = createServer((req, res) => {
      requests.push(req.url ?? '')
      res.writeHead(200, { 'content-type': 'text/plain' }).end(text)
    })
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    const gateway = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
    peer = await spawnPeer({ registry: `ipfs://${cid}`, key: project.peerKey, data: join(project.dir, 'data'), cwd: project.dir, args: ['--jobs', FIXTURE_JOBS, '--ipfs-gateway', gateway] })
    const cmdline = (await readFile(`/proc/${peer.child.pid}/cmdline`, 'utf8')).split('\0')
    expect(cmdline).toContain('--max-semi-space-size=4')
    expect(requests).toEqual([`/ipfs/${cid}`])
  })
})
