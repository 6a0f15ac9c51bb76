// A peer whose data directory sits on a small filesystem that fills up: every enqueue it
// acknowledged is still there after a restart with room, for a peer alone and for a Raft member.
// Needs a tmpfs mount (root on Linux); elsewhere it says so and does not run.
import { execFileSync } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { connect, type Queue } from '@peerqueue/sdk/client'
import { TestCluster } from '../helpers/cluster.js'
import { canMountTmpfs } from '../torture/disk.js'
import { makeProject, runCli, startPeer, stopPeer, type RunningPeer } from '../helpers/project.js'

const PAYLOAD = { text: 'x'.repeat(200_000) }
const HOUR = 3_600_000

const probe = join(tmpdir(), `pq-mount-probe-${process.pid}`)
const mountable = canMountTmpfs(probe)
execFileSync('rm', ['-rf', probe])
if (!mountable) console.warn('disk-full tests not run: mounting a small tmpfs needs root on Linux')

const mounts: string[] = []
async function mountSmall(dir: string, size: string): Promise<void> {
  await mkdir(dir, { recursive: true })
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir])
  mounts.push(dir)
}
const grow = (dir: string) => execFileSync('mount', ['-o', 'remount,size=64m', dir])

/** Enqueues 200 KB payloads until the queue refuses one; returns the ids it acknowledged. */
async function enqueueUntilRefused(queue: Queue, limit: number, refusedBy: RegExp): Promise<{ acknowledged: string[]; refusal: unknown }> {
  const acknowledged: string[] = []
  for (let i = 0; i < limit; i++) {
    try {
      acknowledged.push((await queue.enqueue('echo', PAYLOAD, { delayMs: HOUR })).id)
    } catch (err) {
      if (!refusedBy.test(String((err as { code?: string }).code))) throw err
      return { acknowledged, refusal: err }
    }
  }
  return { acknowledged, refusal: undefined }
}

describe.skipIf(!mountable)('a data directory that fills up', () => {
  const peers: RunningPeer[] = []
  let cluster: TestCluster | undefined
  afterEach(async () => {
    await Promise.all(peers.splice(0).map((p) => stopPeer(p)))
    await cluster?.stopAll()
    cluster = undefined
    for (const dir of mounts.splice(0)) execFileSync('umount', ['-l', dir])
  })

  it('keeps every acknowledged job of a peer alone, serves again once there is room, and keeps them across a restart', async () => {
    const project = await makeProject((r) => r.replace('maxPayloadBytes: 4096', 'maxPayloadBytes: 300000'))
    const data = join(project.dir, 'data')
    await mountSmall(data, '3m')
    peers.push(await startPeer(project))
    let queue = await connect({ registry: project.registry, key: project.clientKey })
    const { acknowledged, refusal } = await enqueueUntilRefused(queue, 40, /E_STORAGE/)
    expect(refusal).toMatchObject({ code: 'E_STORAGE', message: expect.stringContaining('ENOSPC') })
    expect(acknowledged.length).toBeGreaterThanOrEqual(5)
    // Stopped for good until a restart: no later write is acknowledged either.
    await expect(queue.enqueue('echo', { text: 'small' })).rejects.toMatchObject({ code: 'E_STORAGE' })
    const status = await runCli(['status', '--registry', project.registry, '--key', project.clientKey])
    expect(status.stdout).toContain('STOPPED')
    // Room again: the peer finds out by itself and serves, without a restart.
    grow(data)
    await expect.poll(() => queue.enqueue('echo', { text: 'room' }).then((job) => job.result({ timeoutMs: 5_000 })).catch((err: unknown) => err), { timeout: 30_000, interval: 500 }).toMatchObject({ text: 'room' })
    expect(peers[0]!.output()).toContain('takes writes again')
    for (const id of acknowledged) expect((await queue.job(id).status()).state, id).toBe('delayed')
    await queue.close()
    await stopPeer(peers.pop()!)

    peers.push(await startPeer(project))
    queue = await connect({ registry: project.registry, key: project.clientKey })
    try {
      for (const id of acknowledged) expect((await queue.job(id).status()).state, id).toBe('delayed')
      const job = await queue.enqueue('echo', { text: 'after' })
      expect(await job.result({ timeoutMs: 10_000 })).toMatchObject({ text: 'after' })
    } finally {
      await queue.close()
    }
  })

  it('stops a Raft member whose disk fills, keeps the queue going, and catches the member up once there is room', async () => {
    cluster = await TestCluster.create(3, 0, '    limits: { maxPayloadBytes: 300000 }\n')
    const small = cluster.peer('trusted-1')
    await mountSmall(join(cluster.dir, 'data', small.name), '3m')
    await cluster.startAll()
    const queue = await connect({ registry: cluster.registry, key: cluster.clientKey })
    try {
      const acknowledged: string[] = []
      // The small member fills after ~12 payloads; the other two go on acknowledging.
      for (let i = 0; i < 40; i++) acknowledged.push((await queue.enqueue('echo', PAYLOAD, { delayMs: HOUR })).id)
      expect(small.process!.output()).toMatch(/E_STORAGE|ENOSPC/)
      // Room again: the member reopens its log by itself and catches up, without a restart.
      grow(join(cluster.dir, 'data', small.name))
      // Once it has caught up, the queue survives losing either of the others.
      const survivor = cluster.peers.find((p) => p.trusted && p !== small && p.process)!
      await expect
        .poll(async () => {
          const out = await runCli(['status', '--registry', cluster!.registry, '--key', cluster!.clientKey, '--json'])
          const members = (JSON.parse(out.stdout || '{"members":[]}') as { members: { id: string; lag: number | null }[] }).members
          return members.find((m) => m.id === small.id)?.lag
        }, { timeout: 20_000, interval: 500 })
        .toBe(0).catch(async (err) => { console.log(cluster!.dump(), (await runCli(['status', '--registry', cluster!.registry, '--key', cluster!.clientKey, '--json'])).stdout); throw err })
      const other = cluster.peers.find((p) => p.trusted && p !== small && p !== survivor)!
      await cluster.kill(other.name)
      for (const id of acknowledged) expect((await queue.job(id).status()).state, id).toBe('delayed')
    } finally {
      await queue.close()
    }
  })
})

