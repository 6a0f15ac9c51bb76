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

describe('the executor', () => {
  const executors: Executor[] = []
  afterEach(async () => {
    await Promise.all(executors.splice(0).map((e) => e.stop()))
  })

  function start(source: WorkSource, capacity: number) {
    const executor = new Executor({ pool: instantPool, source, catalog: () => catalog, capacity, maxResultBytes: 1_000, leaseMs: 300, poll: true })
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
})
