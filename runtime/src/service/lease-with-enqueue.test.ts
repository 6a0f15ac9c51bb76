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
import { WorkService } from './work-service.js'

const queue = parseRegistry(SAMPLE_REGISTRY.replace('rendezvous: images-7f3a', 'rendezvous: images-7f3a\n    submitters: any'), 'registry.yaml').queues[0]!
const WORKER = '12D3KooWJgBWHu3DxP3L3TV292kDega645cjB8q3aGDCgKo9hw6n'

describe('an enqueue while a worker waits for work', () => {
  let dir: string | undefined
  let group: SoloGroup | undefined
  afterEach(async () => {
    await group?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('leases the new job to the waiting worker in the same log batch', async () => {
    dir = await mkdtemp(join(tmpdir(), 'pq-piggyback-'))
    group = await SoloGroup.open({ dir })
    const work = new WorkService(group, queue)
    const service = new QueueService({
      group,
      queue,
      selfId: queue.trustedPeers[0]!.id,
      catalog: () => new Map(),
      pool: {} as HandlerPool,
      status: () => null,
      work,
      censusAnswer: () => 'closed',
    })
    const proposals: number[] = []
    const propose = group.propose.bind(group)
    group.propose = (commands) => {
      proposals.push(commands.length)
      return propose(commands)
    }
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
})
