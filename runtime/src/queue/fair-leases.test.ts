import { describe, expect, it } from 'vitest'
import type { NewJob } from './job.js'
import { QueueStateMachine } from './state-machine.js'

const job = (id: string, submitter: string, priority = 0): NewJob => ({ id, name: 'n', payload: '{}', priority, idempotencyKey: undefined, retry: { maxAttempts: 1, backoff: { type: 'fixed', delayMs: 0 } }, timeoutMs: 1_000, delayMs: 0, submitter })

function queueOf(): QueueStateMachine {
  const state = new QueueStateMachine()
  const flood = Array.from({ length: 10 }, (_, i) => job(`flood-${i}`, 'flood'))
  state.apply({ index: 1, time: 1, command: { type: 'enqueue', jobs: [...flood, job('quiet-0', 'quiet'), job('quiet-1', 'quiet', 5), job('quiet-2', 'quiet')], maxQueuedJobs: 100 } })
  return state
}

describe('leases shared among submitters under saturation', () => {
  it('gives the best jobs first normally, and takes turns by submitter when fair', () => {
    const lease = (state: QueueStateMachine, fair?: Record<string, number>) => {
      const result = state.apply({ index: 2, time: 2, command: { type: 'lease', worker: 'w', count: 4, leaseMs: 1_000, exclude: [], ...(fair ? { fair } : {}) } })
      return result.type === 'lease' ? result.leases.map((l) => l.jobId) : []
    }
    // Priority first, then the oldest: the quiet submitter's urgent job, then the flood's.
    expect(lease(queueOf())).toEqual(['quiet-1', 'flood-0', 'flood-1', 'flood-2'])
    // Fair: turns by the fewest leased (ties to the lower id); priority still orders within a submitter.
    expect(lease(queueOf(), {})).toEqual(['flood-0', 'quiet-1', 'flood-1', 'quiet-0'])
    // Weighted: quiet counts three times as much.
    expect(lease(queueOf(), { quiet: 3 })).toEqual(['quiet-1', 'quiet-0', 'flood-0', 'quiet-2'])
  })

  it('keeps the same order after a snapshot is restored', () => {
    const a = queueOf()
    a.apply({ index: 2, time: 2, command: { type: 'lease', worker: 'w', count: 3, leaseMs: 1_000, exclude: [], fair: {} } })
    const b = new QueueStateMachine()
    b.restore(a.snapshot())
    const next = (s: QueueStateMachine) => s.apply({ index: 3, time: 3, command: { type: 'lease', worker: 'w', count: 5, leaseMs: 1_000, exclude: [], fair: {} } })
    expect(next(b)).toEqual(next(a))
  })
})
