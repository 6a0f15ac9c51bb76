// Each rule of the registry, tried by a peer that should not get through, over real libp2p.
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { gossipsub, StrictNoSign, StrictSign } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, JobFailedError, type Queue } from '@peerqueue/sdk/client'
import { createKeyFile, readKeyFile } from '@peerqueue/runtime'
import type { PeerStatus } from '@peerqueue/runtime/client'
import { createPeerNode, type PeerNode } from '../../runtime/src/net/node.js'
import { RpcClient } from '../../runtime/src/net/rpc.js'
import { makeProject, startPeer, stopPeer, type Project, type RunningPeer } from '../helpers/project.js'

describe('rules of the registry, enforced', () => {
  let project: Project
  let peer: RunningPeer
  let queue: Queue
  let workerKey: string
  let workerId: string
  const nodes: PeerNode[] = []

  beforeAll(async () => {
    project = await makeProject((registry) => registry.replace('maxQueuedJobs: 10000', 'maxQueuedJobs: 3'))
    workerKey = join(project.dir, 'worker.key')
    workerId = (await createKeyFile(workerKey)).peerId
    const { writeFile, readFile } = await import('node:fs/promises')
    await writeFile(project.registry, (await readFile(project.registry, 'utf8')).replace('    limits:', `    workers: [${workerId}]\n    limits:`))
    peer = await startPeer(project, ['--no-work'])
    queue = await connect({ registry: project.registry, key: project.clientKey })
  })
  afterAll(async () => {
    await queue?.close()
    for (const node of nodes) await node.stop()
    if (peer) await stopPeer(peer)
  })

  async function rpcAs(keyFile: string | undefined): Promise<{ rpc: RpcClient; id: string }> {
    const privateKey = keyFile ? (await readKeyFile(keyFile)).privateKey : await generateKeyPair('Ed25519')
    const node = await createPeerNode({ privateKey, listen: [] })
    nodes.push(node)
    const rpc = await RpcClient.open(node, [`/ip4/127.0.0.1/tcp/${project.port}/p2p/${project.peerId}`])
    return { rpc, id: node.peerId.toString() }
  }

  const lease = (worker: string) => ({ worker, count: 1, exclude: [], running: [], waitMs: 0, capacity: 1 })

  it('refuses work to a peer that workers does not list', async () => {
    const stranger = await rpcAs(undefined)
    await expect(stranger.rpc.call('work.lease', lease(`${stranger.id}/1`))).rejects.toMatchObject({ code: 'E_NOT_ALLOWED', message: expect.stringContaining('workers') })
  })

  it('lets only the lease holder finish a job, and no one act for another worker', async () => {
    const job = await queue.enqueue('echo', { text: 'fenced' })
    const worker = await rpcAs(workerKey)
    const [granted] = (await worker.rpc.call('work.lease', lease(`${workerId}/a`))) as { jobId: string; attempt: number }[]
    expect(granted?.jobId).toBe(job.id)
    const ref = { jobId: job.id, attempt: granted!.attempt }
    // The same peer under another run id does not hold the lease.
    expect(await worker.rpc.call('work.complete', { worker: `${workerId}/b`, job: ref, result: '{"json":"forged"}' })).toBe(false)
    expect(await worker.rpc.call('work.renew', { worker: `${workerId}/b`, jobs: [ref] })).toEqual([job.id])
    // Another peer cannot even speak for this worker.
    const stranger = await rpcAs(project.clientKey)
    await expect(stranger.rpc.call('work.complete', { worker: `${workerId}/a`, job: ref, result: '{"json":"forged"}' })).rejects.toMatchObject({ code: 'E_NOT_ALLOWED' })
    expect(await worker.rpc.call('work.complete', { worker: `${workerId}/a`, job: ref, result: '{"json":"real"}' })).toBe(true)
    expect(await job.result({ timeoutMs: 5_000 })).toBe('real')
  })

  it('fences every outcome of a batched report on its own', async () => {
    const [first, second] = await queue.enqueueMany([{ job: 'echo', payload: { text: 'one' } }, { job: 'echo', payload: { text: 'two' } }])
    const worker = await rpcAs(workerKey)
    const granted = (await worker.rpc.call('work.lease', { ...lease(`${workerId}/r`), count: 2 })) as { jobId: string; attempt: number }[]
    expect(granted.map((g) => g.jobId).sort()).toEqual([first!.id, second!.id].sort())
    const [a, b] = granted.map((g) => ({ jobId: g.jobId, attempt: g.attempt }))
    const stranger = await rpcAs(project.clientKey)
    await expect(stranger.rpc.call('work.report', { worker: `${workerId}/r`, outcomes: [{ job: a, result: '{"json":"forged"}' }] })).rejects.toMatchObject({ code: 'E_NOT_ALLOWED' })
    // One current lease, one stale attempt: only the first counts.
    const outcomes = [
      { job: a, result: '{"json":"batched"}' },
      { job: { ...b!, attempt: b!.attempt + 1 }, error: { name: 'Error', message: 'not mine', retryable: false } },
    ]
    expect(await worker.rpc.call('work.report', { worker: `${workerId}/r`, outcomes })).toEqual([true, false])
    expect(await worker.rpc.call('work.report', { worker: `${workerId}/r`, outcomes: [{ job: b, result: '{"json":"two"}' }] })).toEqual([true])
    expect(await first!.result({ timeoutMs: 5_000 })).toBe('batched')
    await expect(worker.rpc.call('work.report', { worker: `${workerId}/r`, outcomes: [] })).rejects.toMatchObject({ code: 'E_USAGE' })
  })

  it('answers a full queue with E_QUEUE_FULL', async () => {
    const held = await queue.enqueueMany([1, 2, 3].map((i) => ({ job: 'echo', payload: { text: `t${i}` }, options: { delayMs: 60_000 } })))
    await expect(queue.enqueue('echo', { text: 'one too many' })).rejects.toMatchObject({ code: 'E_QUEUE_FULL' })
    expect(await queue.cancel(held.map((j) => j.id))).toHaveLength(3)
    expect((await queue.enqueue('echo', { text: 'room again' }, { delayMs: 60_000 })).created).toBe(true)
  })

  it('cuts off a frame over the size limit', async () => {
    const { rpc } = await rpcAs(project.clientKey)
    await expect(rpc.call('status', { padding: 'x'.repeat(17 * 1024 * 1024) })).rejects.toMatchObject({ code: expect.stringMatching(/^E_(UNREACHABLE|TIMEOUT)$/) })

  })

  it('counts only signed worker announcements, and only about the signer', async () => {
    const status = () => (queue as unknown as { client: { status(): Promise<PeerStatus> } }).client.status()
    /** Publishes an announcement for up to 3 s; says whether the trusted peer counted the announced worker. */
    const announce = async (policy: typeof StrictSign | typeof StrictNoSign, worker: (id: string) => string) => {
      const node = await createLibp2p({
        privateKey: await generateKeyPair('Ed25519'),
        transports: [tcp()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        services: { identify: identify(), pubsub: gossipsub({ globalSignaturePolicy: policy, allowPublishToZeroTopicPeers: true }) },
      })
      try {
        await node.dial(multiaddr(`/ip4/127.0.0.1/tcp/${project.port}/p2p/${project.peerId}`))
        node.services.pubsub.subscribe('e2e-test/workers')
        const claimed = worker(node.peerId.toString())
        const body = new TextEncoder().encode(JSON.stringify({ worker: claimed, capacity: 3, running: 0 }))
        for (const deadline = Date.now() + 3_000; Date.now() < deadline; ) {
          await node.services.pubsub.publish('e2e-test/workers', body).catch(() => undefined)
          await new Promise((r) => setTimeout(r, 200))
          if ((await status()).workers.some((w) => w.id === claimed)) return true
        }
        return false
      } finally {
        await node.stop()
      }
    }
    expect(await announce(StrictSign, (id) => `${id}/ok`)).toBe(true)
    expect(await announce(StrictSign, () => `${workerId}/impersonated`)).toBe(false)
    expect(await announce(StrictNoSign, (id) => `${id}/unsigned`)).toBe(false)
  })

  it('fails a job whose result is over the limit, for good', async () => {
    const other = await makeProject()
    const otherPeer = await startPeer(other)
    const client = await connect({ registry: other.registry, key: other.clientKey })
    try {
      const job = await client.enqueue('big', { size: 10_000 })
      const err = (await job.result({ timeoutMs: 10_000 }).catch((e: unknown) => e)) as JobFailedError
      expect(err).toBeInstanceOf(JobFailedError)
      expect(err.cause).toMatchObject({ name: 'ResultTooLarge', message: expect.stringContaining('maxResultBytes') })
    } finally {
      await client.close()
      await stopPeer(otherPeer)
    }
  })
})
