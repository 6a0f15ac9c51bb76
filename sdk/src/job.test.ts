import { describe, expect, it } from 'vitest'
import { defineJob, NonRetryableError } from './index.js'

describe('defineJob', () => {
  it('returns the definition marked as a job for the runtime to recognise', () => {
    const job = defineJob({ name: 'x', run: () => 1 })
    expect(job.name).toBe('x')
    expect(Symbol.for('peerqueue.job') in job).toBe(true)
  })

  it('refuses a definition without a name or run function', () => {
    // @ts-expect-error name is required
    expect(() => defineJob({ run: () => 1 })).toThrow('name is required')
    // @ts-expect-error run is required
    expect(() => defineJob({ name: 'y' })).toThrow('run must be a function')
  })

  it('marks NonRetryableError so the runtime can tell it from other errors across bundles', () => {
    const err = new NonRetryableError('no')
    expect(Symbol.for('peerqueue.non-retryable') in err).toBe(true)
    expect(err).toBeInstanceOf(Error)
    expect(err.name).toBe('NonRetryableError')
  })
})
