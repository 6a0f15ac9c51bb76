// A handler's rateLimit on a real peer: starts spread over time, per key where the handler
// derives one from the payload.
import { afterEach, describe, expect, it } from 'vitest'
import { connect, type Queue } from '@peerqueue/sdk/client'
import { makeProject, startPeer, stopPeer, type RunningPeer } from '../helpers/project.js'

/** The most starts inside any window of `ms`. */
function busiestWindow(starts: number[], ms: number): number {
  const sorted = [...starts].sort((a, b) => a - b)
  let most = 0
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= ms) j++
    most = Math.max(most, i - j + 1)
  }
  return most
}

describe('rate limits', () => {
  let peer: RunningPeer | undefined
  let queue: Queue | undefined
  afterEach(async () => {
    await queue?.close()
    if (peer) await stopPeer(peer)
  })

  it('spreads 50 jobs of rateLimit { max: 10, perMs: 1000 } over at least 4 s, and keys windows by customer', async () => {
    const project = await makeProject()
    peer = await startPeer(project)
    queue = await connect({ registry: project.registry, key: project.clientKey })

    const jobs = await queue.enqueueMany(Array.from({ length: 50 }, (_, n) => ({ job: 'rated', payload: { n } })))
    const starts = ((await Promise.all(jobs.map((j) => j.result({ timeoutMs: 30_000 })))) as { startedAt: number }[]).map((r) => r.startedAt)
    expect(Math.max(...starts) - Math.min(...starts)).toBeGreaterThanOrEqual(3_900)
    // The leader's windows and the handlers' clocks differ by the lease's trip: allow one more.
    expect(busiestWindow(starts, 900)).toBeLessThanOrEqual(10)

    const keyed = await queue.enqueueMany(Array.from({ length: 12 }, (_, n) => ({ job: 'per-customer', payload: { customer: n % 2 ? 'acme' : 'globex', n } })))
    const runs = (await Promise.all(keyed.map((j) => j.result({ timeoutMs: 30_000 })))) as { customer: string; startedAt: number }[]
    const first = Math.min(...runs.map((r) => r.startedAt))
    for (const customer of ['acme', 'globex']) {
      const mine = runs.filter((r) => r.customer === customer).map((r) => r.startedAt)
      expect(busiestWindow(mine, 900)).toBeLessThanOrEqual(3)
      // Each customer has a window of its own: both start at once, neither waits for the other.
      expect(Math.min(...mine) - first).toBeLessThan(500)
    }
  })
})
