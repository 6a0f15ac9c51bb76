import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RaftCore } from './core.js'
import { isMessage } from './message-check.js'
import { DEFAULT_RAFT_CONFIG, type Message } from './types.js'

function core(): RaftCore {
  return new RaftCore(
    { ...DEFAULT_RAFT_CONFIG, id: 'a', group: 'g', random: () => 0.5 },
    { hardState: { term: 1, vote: undefined, commit: 0 }, snapshot: undefined, entries: [], initialMembership: { voters: ['a', 'b', 'c'], learners: [] } },
  )
}

const envelope = { group: 'g', from: 'b', to: 'a', term: 2 }

describe('Raft message check', () => {
  it('accepts well-formed messages of every type', () => {
    const messages: Message[] = [
      { ...envelope, type: 'vote', preVote: true, lastIndex: 0, lastTerm: 0, transfer: false },
      { ...envelope, type: 'voteResp', preVote: false, reject: true },
      { ...envelope, type: 'append', prevIndex: 0, prevTerm: 0, commit: 0, entries: [{ index: 1, term: 2, kind: 'data', data: { x: 1 } }] },
      { ...envelope, type: 'appendResp', reject: false, index: 1, hintIndex: 0, hintTerm: 0 },
      { ...envelope, type: 'heartbeat', commit: 0, readCtx: undefined },
      { ...envelope, type: 'heartbeatResp', readCtx: 'r1' },
      { ...envelope, type: 'snapshot', snapshot: { index: 5, term: 1, membership: { voters: ['a', 'b'], learners: [] }, data: null } },
      { ...envelope, type: 'timeoutNow' },
    ]
    for (const m of messages) expect(isMessage(JSON.parse(JSON.stringify(m))), m.type).toBe(true)
  })

  it('refuses appends whose entries do not follow prevIndex', () => {
    const m = { ...envelope, type: 'append', prevIndex: 3, prevTerm: 1, commit: 0, entries: [{ index: 5, term: 2, kind: 'noop' }] }
    expect(isMessage(m)).toBe(false)
  })

  it('lets the core step any message that passes the check without throwing', () => {
    const anything = fc.record({
      group: fc.constantFrom('g', 'h'),
      from: fc.constantFrom('b', 'c', 'z'),
      to: fc.constantFrom('a', 'b'),
      term: fc.nat({ max: 5 }),
      type: fc.constantFrom('vote', 'voteResp', 'append', 'appendResp', 'heartbeat', 'heartbeatResp', 'timeoutNow', 'bogus'),
      preVote: fc.boolean(),
      transfer: fc.boolean(),
      reject: fc.boolean(),
      lastIndex: fc.nat({ max: 5 }),
      lastTerm: fc.nat({ max: 5 }),
      prevIndex: fc.nat({ max: 5 }),
      prevTerm: fc.nat({ max: 5 }),
      commit: fc.nat({ max: 5 }),
      index: fc.nat({ max: 5 }),
      hintIndex: fc.nat({ max: 5 }),
      hintTerm: fc.nat({ max: 5 }),
      entries: fc.constant([]),
    })
    fc.assert(
      fc.property(fc.array(anything, { maxLength: 30 }), (messages) => {
        const node = core()
        for (const m of messages) {
          if (!isMessage(m)) continue
          node.step(m)
          node.advance(node.ready())
        }
      }),
      { numRuns: 300 },
    )
  })

  it('refuses arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (value) => {
        expect(isMessage(value)).toBe(false)
      }),
      { numRuns: 300 },
    )
  })
})
