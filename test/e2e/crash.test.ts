// A peer killed with SIGKILL in the middle of jobs loses nothing it acknowledged: after a
// restart every job finishes, and the interrupted ones run again.
import { afterEach, describe, expect, it } from 'vitest'
import { connect } from '@peerqueue/sdk/client'
import { makeProject, startPeer, stopPeer, type RunningPeer } from '../helpers/project.js'

describe('a peer killed mid-job', () => {
  let peer: RunningPeer | undefined
  afterEach(async () => {
    if (peer) await stopPeer(peer)
  })

  it('keeps every acknowledged job across SIGKILL and runs interrupted jobs again', async () => {
    const project = await makeProject()
    peer = await startPeer(project)
    let queue = await connect({ registry: project.registry, key: project.clientKey })
    const slow = await Promise.all([1, 2].map(() => queue.enqueue('slow', { ms: 20_000, steps: 200 })))
    const quick = await queue.enqueueMany(Array.from({ length: 30 }, (_, i) => ({ job: 'echo', payload: { text: `q${i}` }, options: { delayMs: 300 } })))
    await expect.poll(async () => (await slow[0]!.status()).state, { timeout: 10_000 }).toBe('leased')
    await queue.close().catch(() => undefined)

    peer.child.kill('SIGKILL')
    expect(await peer.exited).toBe(null)

    peer = await startPeer(project)
    expect(peer.output()).toContain('handed back the leases of 1 earlier run(s)')
    queue = await connect({ registry: project.registry, key: project.clientKey })
    try {
      const results = await Promise.all(quick.map((job) => queue.job<{ text: string }>(job.id).result({ timeoutMs: 20_000 })))
      expect(results.map((r) => r.text)).toEqual(Array.from({ length: 30 }, (_, i) => `q${i}`))
      for (const job of slow) {
        const status = await queue.job(job.id).status()
        expect(status.attempt).toBe(2)
        expect(status.state).toBe('leased')
        await queue.cancel(job.id)
      }
    } finally {
      await queue.close()
    }
  })
})
