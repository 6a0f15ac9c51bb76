import { describe, expect, it } from 'vitest'
import { LeaseAhead } from './lease-ahead.js'

describe('leases held ahead', () => {
  it('grows by the runs that found nothing to start next, up to its cap', () => {
    const ahead = new LeaseAhead(10)
    expect(ahead.wanted).toBe(0)
    ahead.answered(3, 0)
    expect(ahead.wanted).toBe(3)
    ahead.answered(4, 0)
    expect(ahead.wanted).toBe(7)
    ahead.answered(50, 0)
    expect(ahead.wanted).toBe(10)
  })

  it('shrinks by a quarter of what was still held unused, and stays put when the hand was just right', () => {
    const ahead = new LeaseAhead(100)
    ahead.answered(40, 0)
    ahead.answered(0, 0)
    expect(ahead.wanted).toBe(40)
    ahead.answered(0, 8)
    expect(ahead.wanted).toBe(38)
    ahead.answered(0, 1_000)
    expect(ahead.wanted).toBe(0)
  })

  it('holds nothing with a cap of 0', () => {
    const ahead = new LeaseAhead(0)
    ahead.answered(5, 0)
    expect(ahead.wanted).toBe(0)
  })
})
