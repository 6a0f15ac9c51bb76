import { describe, expect, it } from 'vitest'
import { ShardAdmission } from './shard-admission.js'

describe("a shard's admission, as the root leader last said", () => {
  it('admits everything while the queue is not saturated, or when the root has not spoken lately', () => {
    const a = new ShardAdmission()
    expect(a.decide('s', 1_000, 0).ok).toBe(true)
    a.update({ saturated: true, retryAfterMs: 500, allowance: {}, newcomer: 0 }, 0)
    expect(a.decide('s', 1, 1_000).ok).toBe(false)
    expect(a.decide('s', 1, 3_001).ok).toBe(true)
  })

  it('spends each submitter its allowance under saturation, newcomers theirs', () => {
    const a = new ShardAdmission()
    a.update({ saturated: true, retryAfterMs: 700, allowance: { flood: 0, quiet: 5 }, newcomer: 3 }, 0)
    expect(a.decide('flood', 1, 10)).toMatchObject({ ok: false, retryAfterMs: 700 })
    expect(a.decide('quiet', 4, 10).ok).toBe(true)
    expect(a.decide('quiet', 2, 10).ok).toBe(false)
    expect(a.decide('quiet', 1, 10).ok).toBe(true)
    expect(a.decide('new', 3, 10).ok).toBe(true)
    // A new word from the root starts the count again.
    a.update({ saturated: true, retryAfterMs: 700, allowance: { quiet: 2 }, newcomer: 0 }, 20)
    expect(a.decide('quiet', 2, 30).ok).toBe(true)
  })
})
