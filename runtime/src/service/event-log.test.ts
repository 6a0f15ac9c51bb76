import { describe, expect, it } from 'vitest'
import type { Command } from '../queue/commands.js'
import type { NewJob } from '../queue/job.js'
import { QueueStateMachine } from '../queue/state-machine.js'
import { EventLog } from './event-log.js'

function job(id: string, name = 'work'): NewJob {
  return { id, name, payload: '{"json":{}}', priority: 0, idempotencyKey: undefined, retry: { maxAttempts: 2, backoff: { type: 'fixed', delayMs: 0 } }, timeoutMs: 1000, delayMs: 0 }
}

function setup(capacity?: number) {
  const sm = new QueueStateMachine()
  const log = new EventLog(sm, capacity)
  let index = 0
  const apply = (command: Command, time = 1000) => sm.apply({ index: ++index, time, command })
  return { sm, log, apply }
}

describe('the event log', () => {
  it('gives every change a position, the same for the same entries, and resumes after any of them', async () => {
    const { log, apply } = setup()
    const start = log.end
    apply({ type: 'enqueue', jobs: [job('a'), job('b', 'mail')], maxQueuedJobs: 10 })
    apply({ type: 'lease', worker: 'w', count: 2, leaseMs: 1000, exclude: [] })
    apply({ type: 'complete', worker: 'w', job: { jobId: 'a', attempt: 1 }, result: '{"json":1}' })
    const all = await log.read(start, {}, 100, 0)
    expect(all.events.map((e) => `${e.jobId}:${e.state}`)).toEqual(['a:queued', 'b:queued', 'a:leased', 'b:leased', 'a:completed'])
    expect(new Set(all.events.map((e) => e.position)).size).toBe(5)
    const rest = await log.read(all.events[2]!.position + 1, {}, 100, 0)
    expect(rest.events.map((e) => `${e.jobId}:${e.state}`)).toEqual(['b:leased', 'a:completed'])
    expect((await log.read(start, { jobs: ['mail'] }, 100, 0)).events.map((e) => e.state)).toEqual(['queued', 'leased'])
    expect((await log.read(start, { states: ['completed'] }, 100, 0)).events.map((e) => e.jobId)).toEqual(['a'])
    // In pages: each answer says where the next starts.
    const first = await log.read(start, {}, 2, 0)
    const second = await log.read(first.next, {}, 10, 0)
    expect([...first.events, ...second.events]).toEqual(all.events)

    // Another replica applying the same entries numbers them the same.
    const other = setup()
    other.apply({ type: 'enqueue', jobs: [job('a'), job('b', 'mail')], maxQueuedJobs: 10 })
    other.apply({ type: 'lease', worker: 'w', count: 2, leaseMs: 1000, exclude: [] })
    other.apply({ type: 'complete', worker: 'w', job: { jobId: 'a', attempt: 1 }, result: '{"json":1}' })
    expect((await other.log.read(start, {}, 100, 0)).events).toEqual(all.events)
    // Position 0 means the beginning, which a log that saw every entry still holds.
    expect((await log.read(0, {}, 100, 0)).events).toEqual(all.events)
  })

  it('waits for the next event, and refuses positions it no longer holds', async () => {
    const { log, apply } = setup(3)
    const start = log.end
    const waiting = log.read(start, {}, 10, 5_000)
    apply({ type: 'enqueue', jobs: [job('a')], maxQueuedJobs: 10 })
    expect((await waiting).events.map((e) => e.jobId)).toEqual(['a'])
    apply({ type: 'enqueue', jobs: [job('b'), job('c'), job('d')], maxQueuedJobs: 10 })
    await expect(log.read(start, {}, 10, 0)).rejects.toMatchObject({ code: 'E_EVENTS_LOST' })
    expect((await log.read(log.end, {}, 10, 0)).events).toEqual([])
  })
})
