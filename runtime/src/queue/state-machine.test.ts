import { describe, expect, it } from 'vitest'
import type { ApplyResult, Command } from './commands.js'
import type { NewJob } from './job.js'
import { QueueStateMachine } from './state-machine.js'
import { scheduledJobId } from './schedules.js'

function machine(retention?: number) {
  const sm = new QueueStateMachine(retention)
  let index = 0
  const apply = (command: Command, time = 1000): ApplyResult => sm.apply({ index: ++index, time, command })
  return { sm, apply }
}

function job(id: string, extra: Partial<NewJob> = {}): NewJob {
  return {
    id,
    name: 'work',
    payload: '{"json":{}}',
    priority: 0,
    idempotencyKey: undefined,
    retry: { maxAttempts: 3, backoff: { type: 'exponential', baseMs: 100, maxMs: 1000 } },
    timeoutMs: 5000,
    delayMs: 0,
    ...extra,
  }
}

const enqueue = (...jobs: NewJob[]): Command => ({ type: 'enqueue', jobs, maxQueuedJobs: 100 })
const lease = (count: number, worker = 'w1', exclude: string[] = []): Command => ({ type: 'lease', worker, count, leaseMs: 1000, exclude })

function leasedIds(result: ApplyResult): string[] {
  if (result.type !== 'lease') throw new Error(`expected a lease result, got ${result.type}`)
  return result.leases.map((l) => l.jobId)
}

describe('queue state machine', () => {
  it('leases higher priority first, then in submission order', () => {
    const { apply } = machine()
    apply(enqueue(job('a'), job('b', { priority: 5 }), job('c'), job('d', { priority: 5 })))
    expect(leasedIds(apply(lease(4)))).toEqual(['b', 'd', 'a', 'c'])
  })

  it('keeps a delayed job out of reach until time advances past its run time', () => {
    const { sm, apply } = machine()
    apply(enqueue(job('late', { delayMs: 500 })), 1000)
    expect(sm.get('late')?.state).toBe('delayed')
    expect(leasedIds(apply(lease(1), 1100))).toEqual([])
    expect(sm.nextDueTime()).toBe(1500)
    apply({ type: 'advance' }, 1499)
    expect(sm.get('late')?.state).toBe('delayed')
    apply({ type: 'advance' }, 1500)
    expect(leasedIds(apply(lease(1), 1500))).toEqual(['late'])
  })

  it('retries a failed attempt after exponential backoff and declares it dead after the last', () => {
    const { sm, apply } = machine()
    apply(enqueue(job('j')))
    const error = { name: 'Error', message: 'boom', retryable: true }
    apply(lease(1), 1000)
    apply({ type: 'fail', worker: 'w1', job: { jobId: 'j', attempt: 1 }, error }, 1000)
    expect(sm.get('j')).toMatchObject({ state: 'retry-wait', runAt: 1100 })
    apply({ type: 'advance' }, 1100)
    apply(lease(1), 1100)
    apply({ type: 'fail', worker: 'w1', job: { jobId: 'j', attempt: 2 }, error }, 1100)
    expect(sm.get('j')).toMatchObject({ state: 'retry-wait', runAt: 1300 })
    apply({ type: 'advance' }, 1300)
    apply(lease(1), 1300)
    apply({ type: 'fail', worker: 'w1', job: { jobId: 'j', attempt: 3 }, error }, 1300)
    expect(sm.get('j')).toMatchObject({ state: 'dead', attempt: 3, error })
  })

  it('sends a non-retryable failure straight to dead, and re-drives it with fresh attempts', () => {
    const { sm, apply } = machine()
    apply(enqueue(job('j')))
    apply(lease(1))
    apply({ type: 'fail', worker: 'w1', job: { jobId: 'j', attempt: 1 }, error: { name: 'E', message: 'no', retryable: false } })
    expect(sm.get('j')?.state).toBe('dead')
    expect(sm.deadJobIds()).toEqual(['j'])
    apply({ type: 'redrive', jobIds: ['j'] })
    expect(sm.get('j')).toMatchObject({ state: 'queued', attempt: 0, error: undefined })
  })

  it('refuses a completion from a worker that does not hold the current lease', () => {
    const { sm, apply } = machine()
    apply(enqueue(job('j')))
    apply(lease(1, 'w1'), 1000)
    apply({ type: 'advance' }, 2000) // the lease of w1 expires
    apply(lease(1, 'w2'), 2000)
    const stale = apply({ type: 'complete', worker: 'w1', job: { jobId: 'j', attempt: 1 }, result: '"old"' })
    expect(stale).toEqual({ type: 'fenced', accepted: false })
    const current = apply({ type: 'complete', worker: 'w2', job: { jobId: 'j', attempt: 2 }, result: '"new"' })
    expect(current).toEqual({ type: 'fenced', accepted: true })
    expect(sm.get('j')).toMatchObject({ state: 'completed', result: '"new"' })
  })

  it('keeps a renewed lease alive past its first expiry', () => {
    const { sm, apply } = machine()
    apply(enqueue(job('j')))
    apply(lease(1), 1000)
    apply({ type: 'renew', worker: 'w1', jobs: [{ jobId: 'j', attempt: 1 }], leaseMs: 1000 }, 1800)
    apply({ type: 'advance' }, 2100)
    expect(sm.get('j')?.state).toBe('leased')
    apply({ type: 'advance' }, 2800)
    expect(sm.get('j')?.state).toBe('queued')
  })

  it('hands back the leases of a worker that left, counting the attempt', () => {
    const { sm, apply } = machine()
    apply(enqueue(job('a'), job('b')))
    apply(lease(2, 'gone'))
    apply({ type: 'release', worker: 'gone' })
    expect(sm.get('a')).toMatchObject({ state: 'queued', attempt: 1 })
    expect(leasedIds(apply(lease(2, 'w2')))).toEqual(['a', 'b'])
  })

  it('returns the existing job for a repeated idempotency key', () => {
    const { sm, apply } = machine()
    const first = apply(enqueue(job('a', { idempotencyKey: 'k' })))
    const again = apply(enqueue(job('b', { idempotencyKey: 'k' })))
    expect(first).toEqual({ type: 'enqueue', outcomes: [{ ok: true, id: 'a', created: true }] })
    expect(again).toEqual({ type: 'enqueue', outcomes: [{ ok: true, id: 'a', created: false }] })
    expect(sm.get('b')).toBeUndefined()
  })

  it('cancels queued and running jobs but not finished ones', () => {
    const { sm, apply } = machine()
    apply(enqueue(job('q'), job('r'), job('done')))
    apply(lease(2))
    apply({ type: 'complete', worker: 'w1', job: { jobId: 'q', attempt: 1 }, result: '1' })
    const result = apply({ type: 'cancel', jobIds: ['q', 'r', 'done', 'missing'] })
    expect(result).toEqual({ type: 'changed', jobIds: ['r', 'done'] })
    expect(sm.get('q')?.state).toBe('completed')
    expect(sm.get('done')?.state).toBe('cancelled')
    expect(apply({ type: 'complete', worker: 'w1', job: { jobId: 'r', attempt: 1 }, result: '1' })).toEqual({ type: 'fenced', accepted: false })
  })

  it('passes over job names the worker excludes and leaves them queued in order', () => {
    const { apply } = machine()
    apply(enqueue(job('a', { name: 'slow' }), job('b'), job('c', { name: 'slow' })))
    expect(leasedIds(apply(lease(3, 'w1', ['slow'])))).toEqual(['b'])
    expect(leasedIds(apply(lease(3)))).toEqual(['a', 'c'])
  })

  it('refuses new jobs beyond maxQueuedJobs with E_QUEUE_FULL', () => {
    const { apply } = machine()
    const result = apply({ type: 'enqueue', jobs: [job('a'), job('b')], maxQueuedJobs: 1 })
    expect(result).toMatchObject({ outcomes: [{ ok: true }, { ok: false, code: 'E_QUEUE_FULL' }] })
  })

  it('forgets the oldest finished jobs beyond its retention', () => {
    const { sm, apply } = machine(2)
    apply(enqueue(job('a'), job('b'), job('c')))
    apply({ type: 'cancel', jobIds: ['a', 'b', 'c'] })
    expect(sm.get('a')).toBeUndefined()
    expect(sm.get('c')?.state).toBe('cancelled')
    expect(sm.countByState().cancelled).toBe(2)
  })

  it('restores from a snapshot to a state that behaves the same', () => {
    const { sm, apply } = machine()
    apply(enqueue(job('a'), job('b', { priority: 2 }), job('c', { delayMs: 100 })))
    apply(lease(1))
    const copy = new QueueStateMachine()
    copy.restore(JSON.parse(JSON.stringify(sm.snapshot())))
    expect(copy.countByState()).toEqual(sm.countByState())
    const next = { index: sm.appliedIndex + 1, time: 1200, command: { type: 'advance' } as Command }
    sm.apply(next)
    copy.apply(next)
    const take = { index: sm.appliedIndex + 1, time: 1200, command: lease(5, 'w2') }
    expect(copy.apply(take)).toEqual(sm.apply(take))
  })

  it('keeps in a snapshot the state it was taken at while the queue goes on, a re-drive included', () => {
    const { sm, apply } = machine()
    apply(enqueue(job('dead'), job('done'), job('live'), job('next')))
    apply(lease(3))
    apply({ type: 'fail', worker: 'w1', job: { jobId: 'dead', attempt: 1 }, error: { name: 'E', message: 'no', retryable: false } })
    apply({ type: 'complete', worker: 'w1', job: { jobId: 'done', attempt: 1 }, result: '"ok"' })
    const snapshot = sm.snapshot()
    const frozen = JSON.stringify(snapshot)
    apply({ type: 'redrive', jobIds: ['dead'] })
    apply({ type: 'progress', worker: 'w1', job: { jobId: 'live', attempt: 1 }, progress: 40 })
    apply({ type: 'complete', worker: 'w1', job: { jobId: 'live', attempt: 1 }, result: '"later"' })
    expect(sm.get('dead')?.state).toBe('queued')
    expect(JSON.stringify(snapshot)).toBe(frozen)
    const copy = new QueueStateMachine()
    copy.restore(snapshot)
    expect(copy.get('dead')).toMatchObject({ state: 'dead', attempt: 1 })
    expect(copy.get('live')).toMatchObject({ state: 'leased', progress: undefined })
  })

  it('pauses a job name or the whole queue: paused jobs stay queued, resume releases them in order', () => {
    const { sm, apply } = machine()
    apply(enqueue(job('a', { name: 'mail' }), job('b', { name: 'mail' }), job('c', { name: 'pdf' })))
    apply({ type: 'pause', name: 'mail' })
    expect(leasedIds(apply(lease(5)))).toEqual(['c'])
    expect(sm.countByState().queued).toBe(2)
    apply({ type: 'pause' })
    apply(enqueue(job('d', { name: 'pdf' })))
    expect(leasedIds(apply(lease(5)))).toEqual([])
    expect(sm.paused()).toEqual({ all: true, names: ['mail'] })
    apply({ type: 'resume' })
    expect(leasedIds(apply(lease(5)))).toEqual(['d'])
    apply({ type: 'resume', name: 'mail' })
    expect(leasedIds(apply(lease(5)))).toEqual(['a', 'b'])
  })

  it('keeps pauses across a snapshot', () => {
    const { sm, apply } = machine()
    apply(enqueue(job('a', { name: 'mail' })))
    apply({ type: 'pause', name: 'mail' })
    expect(leasedIds(apply(lease(1)))).toEqual([])
    const copy = new QueueStateMachine()
    copy.restore(sm.snapshot())
    expect(copy.paused()).toEqual({ all: false, names: ['mail'] })
    expect(leasedIds(copy.apply({ index: 100, time: 2000, command: lease(1) }))).toEqual([])
    copy.apply({ index: 101, time: 2000, command: { type: 'resume', name: 'mail' } })
    expect(leasedIds(copy.apply({ index: 102, time: 2000, command: lease(1) }))).toEqual(['a'])
  })

  it('never leases more of a job name than its limit across all workers', () => {
    const { apply } = machine()
    apply(enqueue(...['a', 'b', 'c', 'd'].map((id) => job(id, { name: 'render' })), job('e', { name: 'mail' })))
    const limited = (worker: string): Command => ({ type: 'lease', worker, count: 5, leaseMs: 1000, exclude: [], limits: { render: 2 } })
    expect(leasedIds(apply(limited('w1')))).toEqual(['a', 'b', 'e'])
    expect(leasedIds(apply(limited('w2')))).toEqual([])
    apply({ type: 'complete', worker: 'w1', job: { jobId: 'a', attempt: 1 }, result: '{"json":1}' })
    expect(leasedIds(apply(limited('w2')))).toEqual(['c'])
    expect(leasedIds(apply(limited('w3')))).toEqual([])
    // Expired leases free their places too: b and c (and the mail job e) run again, d waits.
    apply({ type: 'advance' }, 5000)
    expect(leasedIds(apply(limited('w3'), 5000))).toEqual(['b', 'c', 'e'])
  })

  it('makes one job per due time of a schedule, one for a missed stretch, and stops at its limit', () => {
    const { sm, apply } = machine()
    const template = { name: 'tick', payload: '{"json":{}}', priority: 0, retry: { maxAttempts: 1, backoff: { type: 'fixed' as const, delayMs: 0 } }, timeoutMs: 1000 }
    apply({ type: 'schedule', schedule: { id: 'ticks', every: 1000, startAt: 2000, limit: 4, job: template }, maxQueuedJobs: 100 }, 1000)
    expect(sm.nextDueTime()).toBe(2000)
    apply({ type: 'advance' }, 1500)
    expect(sm.countByState().queued).toBe(0)
    apply({ type: 'advance' }, 2000)
    apply({ type: 'advance' }, 2000)
    expect(sm.countByState().queued).toBe(1)
    // No leader from 2,000 to 5,400: one job for the stretch, then on time again.
    apply({ type: 'advance' }, 5400)
    expect(sm.countByState().queued).toBe(2)
    expect(sm.nextDueTime()).toBe(6000)
    const copy = new QueueStateMachine()
    copy.restore(sm.snapshot())
    for (const m of [sm, copy]) {
      m.apply({ index: 50, time: 6000, command: { type: 'advance' } })
      m.apply({ index: 51, time: 7000, command: { type: 'advance' } })
      m.apply({ index: 52, time: 8000, command: { type: 'advance' } })
      expect(m.countByState().queued).toBe(4)
      expect(m.scheduleList()[0]).toMatchObject({ count: 4, nextAt: undefined })
      expect(m.nextDueTime()).toBeUndefined()
    }
    expect(sm.get(scheduledJobId('ticks', 2000))).toMatchObject({ name: 'tick', enqueuedAt: 2000 })
    // Replacing a schedule keeps its count; removing it ends it.
    sm.apply({ index: 60, time: 9000, command: { type: 'schedule', schedule: { id: 'ticks', every: 1000, limit: 6, job: template }, maxQueuedJobs: 100 } })
    expect(sm.scheduleList()[0]).toMatchObject({ count: 4, nextAt: 9000 })
    sm.apply({ index: 61, time: 9000, command: { type: 'unschedule', id: 'ticks' } })
    expect(sm.scheduleList()).toEqual([])
  })

  it('starts at most max leases per window of a rate limit, per key within a job name', () => {
    const { apply } = machine()
    const rated = (worker: string): Command => ({ type: 'lease', worker, count: 10, leaseMs: 60_000, exclude: [], rates: { call: { max: 2, perMs: 1000 } } })
    apply(enqueue(...['a', 'b', 'c'].map((id) => job(id, { name: 'call', rateKey: 'acme' })), job('d', { name: 'call', rateKey: 'globex' }), job('e', { name: 'call', rateKey: 'acme' })))
    expect(leasedIds(apply(rated('w1'), 1000))).toEqual(['a', 'b', 'd'])
    expect(leasedIds(apply(rated('w2'), 1500))).toEqual([])
    // The window slides: a start at 1,000 no longer counts at 2,000.
    expect(leasedIds(apply(rated('w2'), 2000))).toEqual(['c', 'e'])
  })

  it('runs a flow parent once after its last child completed, and hands it the children', () => {
    const { sm, apply } = machine()
    apply(enqueue(job('p', { name: 'merge', childIds: ['c1', 'c2'] }), job('c1', { parentId: 'p' }), job('c2', { parentId: 'p' })))
    expect(sm.get('p')!.state).toBe('waiting-children')
    expect(leasedIds(apply(lease(5)))).toEqual(['c1', 'c2'])
    apply({ type: 'complete', worker: 'w1', job: { jobId: 'c1', attempt: 1 }, result: '{"json":1}' })
    expect(sm.get('p')!.state).toBe('waiting-children')
    apply({ type: 'complete', worker: 'w1', job: { jobId: 'c2', attempt: 1 }, result: '{"json":2}' })
    const granted = apply(lease(5))
    expect(granted.type === 'lease' && granted.leases[0]).toMatchObject({ jobId: 'p', children: [{ id: 'c1', state: 'completed', result: '{"json":1}' }, { id: 'c2', state: 'completed', result: '{"json":2}' }] })
  })

  it('follows each child\'s failure policy: fail the parent, ignore, or wait for a re-drive', () => {
    const { sm, apply } = machine()
    const dies = (id: string, parentId: string, onChildFailure?: 'fail-parent' | 'ignore') =>
      job(id, { parentId, retry: { maxAttempts: 1, backoff: { type: 'fixed', delayMs: 0 } }, ...(onChildFailure ? { onChildFailure } : {}) })
    apply(enqueue(job('p1', { childIds: ['a'] }), dies('a', 'p1', 'fail-parent'), job('p2', { childIds: ['b'] }), dies('b', 'p2', 'ignore'), job('p3', { childIds: ['c'] }), dies('c', 'p3')))
    expect(leasedIds(apply(lease(3)))).toEqual(['a', 'b', 'c'])
    for (const id of ['a', 'b', 'c']) apply({ type: 'fail', worker: 'w1', job: { jobId: id, attempt: 1 }, error: { name: 'E', message: 'no', retryable: false } })
    expect(sm.get('p1')).toMatchObject({ state: 'dead', error: { name: 'ChildFailed' } })
    expect(sm.get('p2')!.state).toBe('queued')
    expect(sm.get('p3')!.state).toBe('waiting-children')
    apply({ type: 'redrive', jobIds: ['c'] })
    expect(leasedIds(apply(lease(5)))).toEqual(['p2', 'c'])
    apply({ type: 'complete', worker: 'w1', job: { jobId: 'c', attempt: 1 }, result: '{"json":3}' })
    expect(sm.get('p3')!.state).toBe('queued')
  })

  it('stores a flow whole or not at all, and follow-ups only with an accepted result', () => {
    const { sm, apply } = machine()
    apply({ type: 'enqueue', jobs: [job('x1'), job('x2')], maxQueuedJobs: 3 })
    const flow = apply({ type: 'enqueue', jobs: [job('p', { childIds: ['c'] }), job('c', { parentId: 'p' })], maxQueuedJobs: 3, atomic: true })
    expect(flow.type === 'enqueue' && flow.outcomes.every((o) => !o.ok)).toBe(true)
    expect(sm.get('p')).toBeUndefined()
    apply(lease(1))
    const stale = apply({ type: 'complete', worker: 'w1', job: { jobId: 'x1', attempt: 9 }, result: '{"json":0}', enqueue: [job('next1')] })
    expect(stale).toEqual({ type: 'fenced', accepted: false })
    expect(sm.get('next1')).toBeUndefined()
    apply({ type: 'complete', worker: 'w1', job: { jobId: 'x1', attempt: 1 }, result: '{"json":0}', enqueue: [job('next1')] })
    expect(sm.get('next1')!.state).toBe('queued')
  })

  it('forgets finished jobs as each asks: at once, the newest n of the name, or after an age', () => {
    const { sm, apply } = machine()
    const done = (id: string, extra: Partial<NewJob>, time = 1000) => {
      apply(enqueue(job(id, extra)), time)
      apply(lease(1), time)
      apply({ type: 'complete', worker: 'w1', job: { jobId: id, attempt: 1 }, result: '{"json":1}' }, time)
    }
    done('now', { removeOnComplete: true })
    expect(sm.get('now')).toBeUndefined()
    for (const id of ['k1', 'k2', 'k3']) done(id, { removeOnComplete: 2 })
    expect(['k1', 'k2', 'k3'].map((id) => sm.get(id) !== undefined)).toEqual([false, true, true])
    done('aged', { removeOnComplete: { age: 5 } }, 2000)
    expect(sm.nextDueTime()).toBe(7000)
    apply({ type: 'advance' }, 6999)
    expect(sm.get('aged')).toBeDefined()
    const copy = new QueueStateMachine()
    copy.restore(sm.snapshot())
    apply({ type: 'advance' }, 7000)
    expect(sm.get('aged')).toBeUndefined()
    copy.apply({ index: 100, time: 7000, command: { type: 'advance' } })
    expect(copy.get('aged')).toBeUndefined()
    expect(sm.countByState().completed).toBe(2)
    // A dead job follows removeOnFail, not removeOnComplete.
    apply(enqueue(job('bad', { removeOnComplete: true, removeOnFail: { count: 5 }, retry: { maxAttempts: 1, backoff: { type: 'fixed', delayMs: 0 } } })), 8000)
    apply(lease(1), 8000)
    apply({ type: 'fail', worker: 'w1', job: { jobId: 'bad', attempt: 1 }, error: { name: 'E', message: 'x', retryable: false } }, 8000)
    expect(sm.get('bad')!.state).toBe('dead')
  })
})
