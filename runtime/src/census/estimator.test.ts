import { describe, expect, it } from 'vitest'
import { estimatePopulation, nextProbability } from './estimator.js'
import { isSelected, selectionThreshold } from './selection.js'
import { Random } from '../../../test/sim/random.js'

describe('census selection', () => {
  it('selects about p of the peers, the same way every time', () => {
    const peers = Array.from({ length: 20_000 }, (_, i) => `peer-${i}`)
    const chosen = peers.filter((id) => isSelected('poll-1', id, 0.05))
    expect(chosen.length).toBeGreaterThan(20_000 * 0.05 - 4 * Math.sqrt(20_000 * 0.05))
    expect(chosen.length).toBeLessThan(20_000 * 0.05 + 4 * Math.sqrt(20_000 * 0.05))
    expect(peers.filter((id) => isSelected('poll-1', id, 0.05))).toEqual(chosen)
    expect(peers.filter((id) => isSelected('poll-2', id, 0.05))).not.toEqual(chosen)
  })

  it('maps p to a threshold on the 64-bit hash, and refuses probabilities out of range', () => {
    expect(selectionThreshold(1)).toBe(2n ** 64n)
    expect(selectionThreshold(0.5)).toBe(2n ** 63n)
    expect(() => selectionThreshold(0)).toThrow(RangeError)
    expect(() => selectionThreshold(1.5)).toThrow(RangeError)
  })
})

describe('census estimator', () => {
  it('estimates N as k / p with an interval around it', () => {
    const interval = estimatePopulation([{ p: 0.001, count: 50 }])
    expect(interval.estimate).toBe(50_000)
    expect(interval.low).toBeGreaterThan(35_000)
    expect(interval.low).toBeLessThan(interval.estimate)
    expect(interval.high).toBeGreaterThan(interval.estimate)
    expect(interval.high).toBeLessThan(70_000)
  })

  it('narrows the interval as polls are aggregated', () => {
    const one = estimatePopulation([{ p: 0.001, count: 50 }])
    const ten = estimatePopulation(Array.from({ length: 10 }, () => ({ p: 0.001, count: 50 })))
    expect(ten.estimate).toBeCloseTo(50_000, 6)
    expect(ten.high - ten.low).toBeLessThan((one.high - one.low) / 2.5)
  })

  it('covers the true population in about 95% of polls', () => {
    const random = new Random(7)
    const N = 20_000
    const p = 50 / N
    let covered = 0
    const polls = 400
    for (let i = 0; i < polls; i++) {
      let k = 0
      for (let j = 0; j < N; j++) if (random.next() < p) k++
      const interval = estimatePopulation([{ p, count: k }])
      if (interval.low <= N && N <= interval.high) covered++
    }
    expect(covered / polls).toBeGreaterThan(0.92)
    expect(covered / polls).toBeLessThan(0.99)
  })

  it('aims the next poll at the target, growing p at most 16-fold at a time', () => {
    expect(nextProbability(100_000, 0.001, 50)).toBeCloseTo(0.0005)
    expect(nextProbability(undefined, 0.001, 50)).toBeCloseTo(0.016)
    expect(nextProbability(10, 0.01, 50)).toBeCloseTo(0.16)
    expect(nextProbability(20, 0.5, 50)).toBe(1)
  })
})
