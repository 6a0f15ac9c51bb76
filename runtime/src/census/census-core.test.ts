import { describe, expect, it } from 'vitest'
import { estimateTotal } from './estimator.js'
import { Census } from './census.js'
import { CensusPoller } from './poller.js'
import type { PeerReport, Poll, PollSummary } from './poll.js'
import { selectorFor } from './selection.js'
import { PollTally } from './tally.js'
import { CensusWindow } from './window.js'

const idle: PeerReport = { busy: false, freeSlots: 4, handlers: ['resize'], version: '1' }
const peers = Array.from({ length: 5_000 }, (_, i) => `peer-${i}`)

function summary(round: number, p: number, answers: number): PollSummary {
  return { round, p, at: round, answers, busy: 0, freeSlots: 0, freeSlotsSquared: 0, handlers: {} }
}

describe('poll tally', () => {
  it('counts each selected peer once and refuses peers the poll did not pick', () => {
    const tally = new PollTally({ pollId: 'abcdef0123456789', p: 0.1, round: 1 })
    const selected = selectorFor('abcdef0123456789', 0.1)
    const chosen = peers.filter(selected)
    const outsider = peers.find((id) => !selected(id))!
    expect(tally.accept(outsider, idle)).toBe('not-selected')
    expect(tally.accept(chosen[0]!, idle)).toBe('counted')
    expect(tally.accept(chosen[0]!, { ...idle, busy: true })).toBe('duplicate')
    expect(tally.accept(chosen[1]!, { busy: true, freeSlots: 1, handlers: ['resize', 'resize', 'mail'], version: '1' })).toBe('counted')
    expect(tally.summary(7)).toEqual({ round: 1, p: 0.1, at: 7, answers: 2, busy: 1, freeSlots: 5, freeSlotsSquared: 17, handlers: { resize: 2, mail: 1 } })
    expect(tally.rejected).toBe(1)
  })
})

describe('census window', () => {
  it('pools polls of a steady population into a narrower interval', () => {
    const window = new CensusWindow(10)
    for (let round = 1; round <= 10; round++) window.push(summary(round, 0.01, 50))
    const pooled = window.estimate()!
    expect(pooled.polls).toBe(10)
    expect(pooled.sampled).toBe(500)
    expect(pooled.population.estimate).toBeCloseTo(5_000)
    expect(pooled.population.high - pooled.population.low).toBeLessThan(1_000)
  })

  it('keeps at most its size, oldest out first', () => {
    const window = new CensusWindow(3)
    for (let round = 1; round <= 5; round++) window.push(summary(round, 0.01, 50))
    expect(window.length).toBe(3)
  })

  it('lets go of old polls when the population has clearly changed', () => {
    const window = new CensusWindow(10)
    for (let round = 1; round <= 10; round++) window.push(summary(round, 0.01, 50))
    window.push(summary(11, 0.01, 150)) // three times as many peers answer
    const estimate = window.estimate()!
    expect(estimate.polls).toBe(1)
    expect(estimate.population.estimate).toBeCloseTo(15_000)
  })

  it('estimates state shares and free slots from the same polls', () => {
    const window = new CensusWindow(10)
    window.push({ round: 1, p: 0.5, at: 1, answers: 40, busy: 10, freeSlots: 100, freeSlotsSquared: 400, handlers: { resize: 40 } })
    const estimate = window.estimate()!
    expect(estimate.busy.estimate).toBe(20)
    expect(estimate.idle.estimate).toBe(60)
    expect(estimate.freeSlots.estimate).toBe(200)
    expect(estimate.handlers.resize!.estimate).toBe(80)
  })

  it('refuses a window of no polls', () => {
    expect(() => new CensusWindow(0)).toThrow(RangeError)
  })
})

describe('free-slot totals', () => {
  it('reduces to the count interval when every peer has one slot', () => {
    const total = estimateTotal([{ p: 0.01, count: 50, sum: 50, sumOfSquares: 50 }])
    expect(total.estimate).toBeCloseTo(5_000)
    expect(total.low).toBeGreaterThan(3_500)
    expect(total.high).toBeLessThan(7_000)
  })

  it('has no upper bound before any peer answered', () => {
    expect(estimateTotal([{ p: 0.01, count: 0, sum: 0, sumOfSquares: 0 }]).high).toBe(Infinity)
  })
})

describe('census poller', () => {
  it('grows p from a cautious start until about the target answers', () => {
    let n = 0
    const poller = new CensusPoller({ targetSample: 50, pollId: () => (n++).toString(16).padStart(8, '0') })
    const answers: number[] = []
    for (let round = 1; round <= 12; round++) {
      const poll = poller.next()
      expect(poll.round).toBe(round)
      const selected = selectorFor(poll.pollId, poll.p)
      for (const id of peers) if (selected(id)) poller.answer(poll.pollId, id, idle)
      answers.push(poller.close(round)!.answers)
    }
    expect(answers[0]).toBe(0)
    expect(answers.slice(-4).every((a) => a > 25 && a < 80)).toBe(true)
    expect(poller.estimate()!.population.low).toBeLessThan(5_000)
    expect(poller.estimate()!.population.high).toBeGreaterThan(5_000)
  })

  it('answers "closed" for a poll that is no longer open', () => {
    const poller = new CensusPoller({ targetSample: 50 })
    const poll = poller.next()
    poller.close(1)
    expect(poller.answer(poll.pollId, 'peer-1', idle)).toBe('closed')
  })
})

describe('census on a peer', () => {
  it('publishes polls while leading, refuses unselected and late answers, and reports them', async () => {
    const published: Poll[] = []
    const census = new Census({
      selfId: 'leader-peer',
      config: { targetSample: 50, intervalMs: 60_000, windowSize: 10 },
      publish: (poll) => published.push(poll),
      send: async () => undefined,
      report: () => idle,
      onError: (err) => {
        throw err
      },
    })
    census.lead()
    const poll = published[0]!
    const selected = selectorFor(poll.pollId, poll.p)
    const outsider = peers.find((id) => !selected(id))!
    expect(census.answer(outsider, { pollId: poll.pollId, ...idle })).toBe('not-selected')
    expect(census.answer('someone', { pollId: 'ffffffffffffffff', ...idle })).toBe('closed')
    census.follow()
    expect(census.view()).toBeNull()
    census.lead()
    expect(published).toHaveLength(2)
    census.close()
  })

  it('answers a poll that selects it, and only then', async () => {
    const sent: string[] = []
    const census = new Census({
      selfId: 'peer-7',
      config: { targetSample: 50, intervalMs: 60_000, windowSize: 10 },
      publish: () => undefined,
      send: async (answer) => void sent.push(answer.pollId),
      report: () => idle,
      onError: () => undefined,
    })
    const pollIds = Array.from({ length: 200 }, (_, i) => i.toString(16).padStart(8, '0'))
    for (const [i, pollId] of pollIds.entries()) census.heard({ pollId, p: 0.25, round: i + 1 })
    expect(sent).toEqual(pollIds.filter((pollId) => selectorFor(pollId, 0.25)('peer-7')))
    expect(sent.length).toBeGreaterThan(20)
    expect(sent.length).toBeLessThan(80)
  })
})
