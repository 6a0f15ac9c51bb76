import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { SAMPLE_REGISTRY } from '../../../test/fixtures/registry.js'
import type { GrantedLease } from '../queue/commands.js'
import { SoloGroup } from '../raft/solo-group.js'
import { parseRegistry } from '../registry/parse.js'
import type { HandlerPool } from '../worker/pool.js'
import { QueueService } from './queue-service.js'
import { DeployService } from '../deploy/deploy-service.js'
import { BundleStore } from '../deploy/bundle-store.js'
import { WorkService } from './work-service.js'

const queue = parseRegistry(SAMPLE_REGISTRY.replace('rendezvous: images-7f3a', 'rendezvous: images-7f3a\n    submitters: any'), 'registry.yaml').queues[0]!
const WORKER = '12D3KooWJgBWHu3DxP3L3TV292kDega645cjB8q3aGDCgKo9hw6n'

describe('leases written in the same log batch as other work', () => {
  let dir: string | undefined
  let group: SoloGroup | undefined
  afterEach(async () => {
    await group?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  /** A one-peer queue service whose proposals are counted (commands in each). */
  async function serviceWithCountedProposals() {
    dir = await mkdtemp(join(tmpdir(), 'pq-piggyback-'))
    const solo = await SoloGroup.open({ dir })
    group = solo
    const service = new QueueService({
      group: solo,
      queue,
      selfId: queue.trustedPeers[0]!.id,
      catalog: () => new Map(),
      pool: {} as HandlerPool,
      status: () => null,
      wake: () => undefined,
      work: new WorkService(solo, queue),
      censusAnswer: () => 'closed',
      deploys: new DeployService(solo, queue, new BundleStore(join(dir, 'deployed'))),
    })
    const proposals: number[] = []
    const propose = solo.propose.bind(solo)
    solo.propose = (commands) => {
      proposals.push(commands.length)
      return propose(commands)
    }
    return { service, proposals, group: solo }
  }

  it('leases the new job to the waiting worker in the same log batch', async () => {
    const { service, proposals, group } = await serviceWithCountedProposals()
    const worker = { peerId: WORKER }
    const waiting = service.handle('work.lease', { worker: `${WORKER}/w`, count: 5, exclude: [], running: [], waitMs: 2_000, capacity: 5 }, worker) as Promise<GrantedLease[]>
    await new Promise((r) => setTimeout(r, 20))
    const [outcome] = (await service.handle('enqueue', { jobs: [{ name: 'resize', payload: '{"json":{}}' }] }, worker)) as { id: string }[]
    const leases = await waiting
    expect(leases.map((l) => l.jobId)).toEqual([outcome!.id])
    // One proposal carried the enqueue and the lease: the worker did not wait for a second commit.
    expect(proposals).toEqual([2])
    expect(group.state.get(outcome!.id)?.state).toBe('leased')
  })

  it('hands a lease whose answer was lost over again whole, with a flow parent\'s children', async () => {
    const { service } = await serviceWithCountedProposals()
    const worker = { peerId: WORKER }
    const ask = () => service.handle('work.lease', { worker: `${WORKER}/w`, count: 1, exclude: [], running: [], waitMs: 0, capacity: 1 }, worker) as Promise<GrantedLease[]>
    const jobs = [
      { id: 'parent-0001', name: 'merge', payload: '{"json":{}}', childIds: ['child-00001'] },
      { id: 'child-00001', name: 'part', payload: '{"json":{}}', parentId: 'parent-0001' },
    ]
    await service.handle('enqueue', { jobs, atomic: true }, worker)
    const [child] = await ask()
    await service.handle('work.report', { worker: `${WORKER}/w`, outcomes: [{ job: { jobId: child!.jobId, attempt: 1 }, result: '{"json":7}' }] }, worker)
    const [parent] = await ask()
    expect(parent).toMatchObject({ jobId: 'parent-0001', children: [{ id: 'child-00001', state: 'completed', result: '{"json":7}' }] })
    // The answer never reached the worker, which asks again running nothing: the same lease, children and all.
    expect(await ask()).toEqual([parent])
  })

  it('takes the outcomes a lease request carries in the same log batch as its new lease', async () => {
    const { service, proposals, group } = await serviceWithCountedProposals()
    const worker = { peerId: WORKER }
    const ask = (extra: object) => service.handle('work.lease', { worker: `${WORKER}/w`, count: 1, exclude: [], running: [], waitMs: 0, capacity: 1, ...extra }, worker) as Promise<GrantedLease[]>
    const ids = ((await service.handle('enqueue', { jobs: [1, 2].map(() => ({ name: 'resize', payload: '{"json":{}}' })) }, worker)) as { id: string }[]).map((o) => o.id)
    const [first] = await ask({})
    proposals.length = 0
    const [second] = await ask({ outcomes: [{ job: { jobId: first!.jobId, attempt: 1 }, result: '{"json":"done"}' }] })
    expect(group.state.get(first!.jobId)?.state).toBe('completed')
    expect(second?.jobId).toBe(ids.find((id) => id !== first!.jobId))
    // One proposal: the completion and the next lease, one commit between them.
    expect(proposals).toEqual([2])
    // With nothing left to lease, the outcome still goes in at once, and no lease is written.
    proposals.length = 0
    expect(await ask({ outcomes: [{ job: { jobId: second!.jobId, attempt: 1 }, result: '{"json":"done"}' }] })).toEqual([])
    expect(group.state.get(second!.jobId)?.state).toBe('completed')
    expect(proposals).toEqual([1])
  })
})
