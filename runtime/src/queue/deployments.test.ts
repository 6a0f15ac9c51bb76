import { describe, expect, it } from 'vitest'
import type { ApplyResult, Command, GrantedLease } from './commands.js'
import type { NewJob } from './job.js'
import { QueueStateMachine } from './state-machine.js'

function job(id: string, extra: Partial<NewJob> = {}): NewJob {
  return { id, name: 'work', payload: '{"json":{}}', priority: 0, idempotencyKey: undefined, retry: { maxAttempts: 1, backoff: { type: 'fixed', delayMs: 0 } }, timeoutMs: 1000, delayMs: 0, ...extra }
}

function deploy(n: number): Command {
  return { type: 'deploy', deployment: { manifest: `{"n":${n}}`, deployer: 'd', signature: 's' }, bundles: { work: `hash${n}` }, contents: { [`hash${n}`]: 'YnVuZGxl' } }
}

function setup() {
  const sm = new QueueStateMachine()
  const deployed: string[] = []
  const collected: number[] = []
  sm.onDeploy({ deployed: (d, contents) => deployed.push(`${d.version}:${Object.keys(contents).join(',')}`), collected: (v) => collected.push(...v) })
  const leased = (result: ApplyResult): GrantedLease[] => (result.type === 'lease' ? [...result.leases] : [])
  let index = 0
  const apply = (command: Command, time = 1000) => sm.apply({ index: ++index, time, command })
  const run = (id: string) => {
    const [lease] = leased(apply({ type: 'lease', worker: 'w', count: 1, leaseMs: 1000, exclude: [] }))
    expect(lease?.jobId).toBe(id)
    apply({ type: 'complete', worker: 'w', job: { jobId: id, attempt: lease!.attempt }, result: '1' })
    return lease!
  }
  return { sm, apply, run, leased, deployed, collected }
}

describe('deployed versions', () => {
  it('pins each job to the version current at its enqueue, and leases carry it', () => {
    const { sm, apply, run, deployed } = setup()
    apply({ type: 'enqueue', jobs: [job('before')], maxQueuedJobs: 10 })
    expect(sm.get('before')!.version).toBeUndefined()
    expect(apply(deploy(1))).toEqual({ type: 'versions', ok: true, current: 1, collected: [], deployed: 1 })
    apply({ type: 'enqueue', jobs: [job('one')], maxQueuedJobs: 10 })
    apply(deploy(2))
    apply({ type: 'enqueue', jobs: [job('two'), job('asked-one', { version: 1 }), job('asked-gone', { version: 9 })], maxQueuedJobs: 10 })
    expect(['one', 'two', 'asked-one', 'asked-gone'].map((id) => sm.get(id)!.version)).toEqual([1, 2, 1, 2])
    expect(deployed).toEqual(['1:hash1', '2:hash2'])
    expect(run('before').version).toBeUndefined()
    expect(run('one').version).toBe(1)
    expect(run('two').version).toBe(2)
  })

  it('rolls back to the version current before, promotes any kept one, and refuses one it does not have', () => {
    const { sm, apply } = setup()
    apply(deploy(1))
    apply(deploy(2))
    apply(deploy(3))
    expect(apply({ type: 'rollback' })).toMatchObject({ ok: true, current: 2 })
    expect(apply({ type: 'rollback' })).toMatchObject({ ok: true, current: 1 })
    expect(apply({ type: 'rollback' })).toMatchObject({ ok: false, current: 1 })
    expect(apply({ type: 'promote', version: 3 })).toMatchObject({ ok: true, current: 3 })
    expect(apply({ type: 'promote', version: 7 })).toMatchObject({ ok: false, current: 3 })
    expect(sm.deployments.list().map((d) => d.version)).toEqual([1, 2, 3])
  })

  it('collects a version once no unfinished job needs it and it is not among the last three made current', () => {
    const { sm, apply, run, collected } = setup()
    apply(deploy(1))
    apply({ type: 'enqueue', jobs: [job('old')], maxQueuedJobs: 10 })
    apply(deploy(2))
    apply(deploy(3))
    apply(deploy(4))
    // Version 1 is past the last three, but a job still needs it.
    expect(sm.deployments.get(1)).toBeDefined()
    expect(run('old').version).toBe(1)
    expect(collected).toEqual([1])
    expect(sm.deployments.list().map((d) => d.version)).toEqual([2, 3, 4])
    apply(deploy(5))
    expect(collected).toEqual([1, 2])
  })

  it('gives a re-driven job the current version when its own was collected', () => {
    const { sm, apply, leased, collected } = setup()
    apply(deploy(1))
    apply({ type: 'enqueue', jobs: [job('dies')], maxQueuedJobs: 10 })
    const [lease] = leased(apply({ type: 'lease', worker: 'w', count: 1, leaseMs: 1000, exclude: [] }))
    apply({ type: 'fail', worker: 'w', job: { jobId: 'dies', attempt: lease!.attempt }, error: { name: 'E', message: 'no', retryable: false } })
    expect(sm.get('dies')!.state).toBe('dead')
    for (const n of [2, 3, 4]) apply(deploy(n))
    expect(collected).toEqual([1])
    apply({ type: 'redrive', jobIds: ['dies'] })
    expect(sm.get('dies')!.version).toBe(4)
    expect(sm.deployments.pinned(4)).toBe(1)
  })

  it('keeps versions, the current one and the pins across a snapshot', () => {
    const { sm, apply } = setup()
    apply(deploy(1))
    apply({ type: 'enqueue', jobs: [job('a')], maxQueuedJobs: 10 })
    apply(deploy(2))
    apply({ type: 'rollback' })
    const copy = new QueueStateMachine()
    copy.restore(JSON.parse(JSON.stringify(sm.snapshot())))
    expect(copy.deployments.current).toBe(1)
    expect(copy.deployments.pinned(1)).toBe(1)
    expect(copy.deployments.list()).toEqual(sm.deployments.list())
    expect(copy.snapshot()).toEqual(sm.snapshot())
  })
})
