import { describe, expect, it } from 'vitest'
import { simulateCensus } from './simulate.js'

describe('census simulation', () => {
  it('draws about the target answers a poll whatever the size, and its intervals hold the truth', () => {
    for (const peers of [1_000, 5_000]) {
      const report = simulateCensus({ peers, polls: 300, target: 50, churn: 0, swing: 0, seed: 11 })
      expect(report.meanAnswers).toBeGreaterThan(45)
      expect(report.meanAnswers).toBeLessThan(55)
      // O(target) messages at the leader: the poll and the answers, not one per peer.
      expect(report.leaderMessagesPerPoll).toBeLessThan(60)
      expect(report.ciCoverage).toBeGreaterThan(0.9)
      expect(report.ciCoverage).toBeLessThan(0.99)
      expect(report.aggregate10WithinTenPct).toBeGreaterThan(0.85)
    }
  })

  it('follows a population that churns and swings', () => {
    const sizes: number[] = []
    const report = simulateCensus({ peers: 5_000, polls: 300, target: 50, churn: 0.02, swing: 0.4, seed: 5 }, (poll) => sizes.push(poll.truth.peers))
    expect(Math.max(...sizes)).toBeGreaterThan(6_500)
    expect(Math.min(...sizes)).toBeLessThan(3_500)
    expect(report.relError).toBeLessThan(0.1)
    expect(report.ciCoverage).toBeGreaterThan(0.9)
  })

  it('replays exactly from its seed', () => {
    const options = { peers: 2_000, polls: 50, target: 30, churn: 0.01, swing: 0.2, seed: 3 }
    const { secondsPerPoll: _a, ...first } = simulateCensus(options)
    const { secondsPerPoll: _b, ...again } = simulateCensus(options)
    expect(again).toEqual(first)
  })
})
