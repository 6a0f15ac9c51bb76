import { afterEach, describe, expect, it } from 'vitest'
import type { GrantedLease, LeaseRef } from '../queue/commands.js'
import type { Catalog } from './catalog.js'
import { Executor } from './executor.js'
import type { RunOutcome } from './messages.js'
import type { HandlerPool, RunRequest } from './pool.js'
import type { Outcome, WorkSource } from './work-source.js'

const catalog: Catalog = new Map([['echo', { name: 'echo', bundle: 'echo.mjs', source: 'echo.ts', retry: undefined, timeoutMs: undefined, concurrency: undefined, globalConcurrency: undefined, rateLimit: undefined, hasSchema: false }]])
const lease = (jobId: string): GrantedLease => ({ jobId, name: 'echo', payload: '{"json":1}', attempt: 1, timeoutMs: 5_000, expiresAt: 0 })
const instantPool = { run: async (_: RunRequest): Promise<RunOutcome> => ({ ok: true, result: '{"json":"done"}' }), abort: () => undefined } as unknown as HandlerPool

/** A leader as the executor sees it, recording what it is asked. */
class ScriptedSource implements WorkSource {
  readonly leaseCalls: { running: readonly string[]; outcomes: readonly Outcome[] }[] = []
  readonly renewed: LeaseRef[][] = []
  readonly reported: Outcome[][] = []
  constructor(
    private readonly grants: GrantedLease[][],
    /** Outcomes are never acknowledged: reports and lease requests that carry them hang. */
    private readonly ackHangs: boolean,
  ) {}
  async lease(_count: number, _exclude: readonly string[], running: readonly string[], outcomes: readonly Outcome[] = []) {
    this.leaseCalls.push({ running, outcomes })
    if (outcomes.length > 0 && this.ackHangs) await new Promise(() => undefined)
    const grant = this.grants.shift()
    if (grant) return grant
    await new Promise((r) => setTimeout(r, 50))
    return []
  }
  async renew(jobs: readonly LeaseRef[]) {
    this.renewed.push([...jobs])
    return []
  }
  async report(outcomes: readonly Outcome[]) {
    this.reported.push([...outcomes])
    if (this.ackHangs) await new Promise(() => undefined)
    return outcomes.map(() => true)
  }
  async progress() {}
  async release() {}
}

/** A leader with a backlog of jobs whose answers take a while (a replicated commit), recording how many each request asked for. */
class BacklogSource implements WorkSource {
  readonly asked: number[] = []
  readonly renewed: LeaseRef[][] = []
  readonly outcomes: string[] = []
  private next = 0
  constructor(
    private readonly jobs: number,
    private readonly answerMs: number,
  ) {}
  async lease(count: number, _exclude: readonly string[], _running: readonly string[], outcomes: readonly Outcome[] = []) {
    this.asked.push(count)
    this.outcomes.push(...outcomes.map((o) => o.job.jobId))
    await new Promise((r) => setTimeout(r, this.answerMs))
    const n = Math.min(count, this.jobs - this.next)
    return Array.from({ length: n }, () => lease(`job-${this.next++}`))
  }
  async renew(jobs: readonly LeaseRef[]) {
    this.renewed.push([...jobs])
    return []
  }
  async report(outcomes: readonly Outcome[]) {
    this.outcomes.push(...outcomes.map((o) => o.job.jobId))
    return outcomes.map(() => true)
  }
  async progress() {}
  async release() {}
}

/** Runs that each take `ms`, counting how many run at once. */
function timedPool(ms: number) {
  const seen = { now: 0, most: 0, runs: [] as string[] }
  const pool = {
    run: async (request: RunRequest): Promise<RunOutcome> => {
      seen.runs.push(request.jobId)
      seen.most = Math.max(seen.most, ++seen.now)
      await new Promise((r) => setTimeout(r, ms))
      seen.now--
      return { ok: true, result: '{"json":"done"}' }
    },
    abort: () => undefined,
  } as unknown as HandlerPool
  return { pool, seen }
}

describe('the executor', () => {
  const executors: Executor[] = []
  afterEach(async () => {
    await Promise.all(executors.splice(0).map((e) => e.stop()))
  })

  /** No leases held ahead: each request asks for the free slots alone. */
  function start(source: WorkSource, capacity: number) {
    const executor = new Executor({ pool: instantPool, source, catalog: () => catalog, capacity, maxResultBytes: 1_000, leaseMs: 300, poll: true, leaseAhead: 0 })
    executors.push(executor)
    executor.pump()
    return executor
  }

  it('sends the outcome of a finished run with its next lease request', async () => {
    const source = new ScriptedSource([[lease('a')], [lease('b')]], false)
    start(source, 1)
    await expect.poll(() => source.leaseCalls.length).toBeGreaterThanOrEqual(3)
    // The second request carries a's outcome and asks for more in the same round trip.
    expect(source.leaseCalls[1]!.outcomes).toEqual([{ job: { jobId: 'a', attempt: 1 }, result: '{"json":"done"}' }])
    expect(source.leaseCalls[2]!.outcomes.map((o) => o.job.jobId)).toEqual(['b'])
    expect(source.reported).toEqual([])
  })

  it('keeps renewing the lease of a finished run until its outcome is acknowledged', async () => {
    const source = new ScriptedSource([[lease('a')]], true)
    start(source, 2)
    await expect.poll(() => source.reported.length + source.leaseCalls.filter((c) => c.outcomes.length > 0).length).toBeGreaterThan(0)
    await expect.poll(() => source.renewed.some((jobs) => jobs.some((j) => j.jobId === 'a')), { timeout: 2_000 }).toBe(true)
  })

  it('holds leases beyond its slots when slots found nothing to start, never running more than its capacity', async () => {
    const source = new BacklogSource(300, 20)
    const { pool, seen } = timedPool(2)
    const executor = new Executor({ pool, source, catalog: () => catalog, capacity: 2, maxResultBytes: 1_000, leaseMs: 300, poll: true })
    executors.push(executor)
    executor.pump()
    let mostHeld = 0
    const watch = setInterval(() => (mostHeld = Math.max(mostHeld, executor.heldCount)), 1)
    await expect.poll(() => source.outcomes.length, { timeout: 10_000 }).toBe(300)
    clearInterval(watch)
    expect(Math.max(...source.asked)).toBeGreaterThan(2)
    expect(mostHeld).toBeGreaterThan(0)
    expect(seen.most).toBeLessThanOrEqual(2)
    // Each job ran once and was reported once.
    expect(new Set(seen.runs).size).toBe(300)
    expect(seen.runs).toHaveLength(300)
    expect(new Set(source.outcomes).size).toBe(300)
  })

  it('renews held leases with the running ones', async () => {
    const source = new BacklogSource(1_000, 5)
    const { pool } = timedPool(40)
    const executor = new Executor({ pool, source, catalog: () => catalog, capacity: 1, maxResultBytes: 1_000, leaseMs: 300, poll: true })
    executors.push(executor)
    executor.pump()
    await expect.poll(() => executor.heldCount, { timeout: 5_000 }).toBeGreaterThan(0)
    await expect.poll(() => source.renewed.some((jobs) => jobs.length > 1), { timeout: 2_000 }).toBe(true)
  })

  it('asks for no more than its free slots with leaseAhead 0', async () => {
    const source = new BacklogSource(100, 10)
    const { pool, seen } = timedPool(1)
    const executor = new Executor({ pool, source, catalog: () => catalog, capacity: 3, maxResultBytes: 1_000, leaseMs: 300, poll: true, leaseAhead: 0 })
    executors.push(executor)
    executor.pump()
    await expect.poll(() => source.outcomes.length, { timeout: 10_000 }).toBe(100)
    expect(Math.max(...source.asked)).toBeLessThanOrEqual(3)
    expect(executor.heldCount).toBe(0)
    expect(seen.runs).toHaveLength(100)
  })
})
