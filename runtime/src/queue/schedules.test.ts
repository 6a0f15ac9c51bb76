import { describe, expect, it } from 'vitest'
import { nextDue, scheduleProblem, scheduledJobId } from './schedules.js'

const job = { name: 'tick', payload: '{"json":{}}', priority: 0, retry: { maxAttempts: 1, backoff: { type: 'fixed' as const, delayMs: 0 } }, timeoutMs: 1000 }

describe('schedule due times', () => {
  it('every: from the start time, then strictly after each firing, skipping a missed stretch', () => {
    const spec = { id: 's', every: 1000, startAt: 10_000, job }
    expect(nextDue(spec, 5_000, false)).toBe(10_000)
    expect(nextDue(spec, 10_000, false)).toBe(10_000)
    expect(nextDue(spec, 10_000, true)).toBe(11_000)
    // The leader was away from 11,000 to 14,500: one job at 14,500's entry, the next at 15,000.
    expect(nextDue(spec, 14_500, true)).toBe(15_000)
    expect(nextDue({ ...spec, endAt: 14_000 }, 14_500, true)).toBeUndefined()
    expect(nextDue({ id: 'n', every: 500, job }, 7_000, false)).toBe(7_000)
  })

  it('cron: in the schedule\'s time zone', () => {
    const noonParis = { id: 'c', cron: '0 12 * * *', timezone: 'Europe/Paris', job }
    const from = Date.UTC(2026, 0, 15, 8, 0)
    expect(new Date(nextDue(noonParis, from, false)!).toISOString()).toBe('2026-01-15T11:00:00.000Z')
    const atNoon = Date.UTC(2026, 0, 15, 11, 0)
    expect(nextDue(noonParis, atNoon, false)).toBe(atNoon)
    expect(new Date(nextDue(noonParis, atNoon, true)!).toISOString()).toBe('2026-01-16T11:00:00.000Z')
  })

  it('gives each due time of each schedule its own job id, the same on every replica', () => {
    expect(scheduledJobId('reports', 1000)).toBe(scheduledJobId('reports', 1000))
    expect(scheduledJobId('reports', 1000)).not.toBe(scheduledJobId('reports', 2000))
    expect(scheduledJobId('reports', 1000)).toMatch(/^[A-Za-z0-9_-]{8,64}$/)
  })

  it('refuses schedules that cannot work, saying why', () => {
    expect(scheduleProblem({})).toContain('exactly one of every')
    expect(scheduleProblem({ every: 1000, cron: '* * * * *' })).toContain('exactly one of every')
    expect(scheduleProblem({ every: 5 })).toContain('at least 100')
    expect(scheduleProblem({ cron: 'every tuesday' })).toContain('cron "every tuesday"')
    expect(scheduleProblem({ cron: '0 12 * * *', timezone: 'Mars/Olympus' })).toContain('Mars/Olympus')
    expect(scheduleProblem({ every: 1000 })).toBeUndefined()
  })
})
