// A flood of requests from one peer over real libp2p is refused with E_RATE_LIMITED, while
// another peer asking at the same time is served.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createKeyFile, readKeyFile } from '@peerqueue/runtime'
import { connect } from '@peerqueue/sdk/client'
import { createPeerNode } from '../../runtime/src/net/node.js'
import { RpcClient } from '../../runtime/src/net/rpc.js'
import { makeProject, startPeer, stopPeer } from '../helpers/project.js'

describe('request limits', () => {
  it('rate-limits a flood from one peer without hurting others', async () => {
    const project = await makeProject()
    const text = await readFile(project.registry, 'utf8')
    await writeFile(project.registry, text.replace('maxQueuedJobs: 10000 }', 'maxQueuedJobs: 10000, maxRequestsPerSecond: 50 }'))
    const peer = await startPeer(project)
    const node = await createPeerNode({ privateKey: (await readKeyFile(project.clientKey)).privateKey, listen: [] })
    const flood = await RpcClient.open(node, [`/ip4/127.0.0.1/tcp/${project.port}/p2p/${project.peerId}`])
    const bystanderKey = join(project.dir, 'bystander.key')
    await createKeyFile(bystanderKey)
    const bystander = await connect({ registry: project.registry, key: bystanderKey })
    try {
      const answers = await Promise.allSettled(Array.from({ length: 300 }, () => flood.call('status', {})))
      const refused = answers.filter((a) => a.status === 'rejected' && (a.reason as { code?: string }).code === 'E_RATE_LIMITED')
      expect(refused.length).toBeGreaterThan(100)
      expect(answers.filter((a) => a.status === 'fulfilled').length).toBeGreaterThanOrEqual(100)
      const status = await (bystander as unknown as { client: { status(): Promise<{ queue: string }> } }).client.status()
      expect(status.queue).toBe('e2e')
    } finally {
      await bystander.close()
      await flood.close()
      await node.stop()
      await stopPeer(peer)
    }
  })
})
