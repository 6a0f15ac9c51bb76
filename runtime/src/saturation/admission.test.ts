import { describe, expect, it } from 'vitest'
import { Admission, type SaturationSettings } from './admission.js'

const settings: SaturationSettings = { jobsPerFreeSlot: 5, minCapacity: 10, maxWaitMs: 60_000, weights: {} }
const slots = (low: number, estimate = low * 1.3) => ({ low, estimate, high: estimate * 1.3 })
const none = new Map<string, number>()

describe('admission from capacity', () => {
  it('starts at minCapacity and follows the lower end of the free-slot interval as the network grows', () => {
    const a = new Admission(settings)
    expect(a.bound).toBe(10)
    a.census(slots(1))
    expect(a.bound).toBe(10)
    a.census(slots(40))
    expect(a.bound).toBe(200)
    a.census(slots(100))
    expect(a.bound).toBe(500)
  })

  it('does not flap on a noisy estimate: changes within a fifth leave the bound alone', () => {
    const a = new Admission(settings)
    a.census(slots(100))
    const seen = new Set<number>()
    for (const low of [95, 104, 88, 110, 91, 100, 117, 86]) {
      a.census(slots(low))
      seen.add(a.bound)
    }
    expect([...seen]).toEqual([500])
  })

  it('shrinks by at most half an estimate, never below minCapacity', () => {
    const a = new Admission(settings)
    a.census(slots(100))
    a.census(slots(0))
    expect(a.bound).toBe(250)
    a.census(slots(0))
    expect(a.bound).toBe(125)
    for (let i = 0; i < 10; i++) a.census(slots(0))
    expect(a.bound).toBe(10)
  })

  it('refuses above the bound with a hint from the completion rate, and admits again below 90% of it', () => {
    const a = new Admission(settings)
    a.census(slots(20))
    expect(a.decide('s', 100, 0, none, 0)).toEqual({ ok: true })
    const refused = a.decide('s', 10, 100, new Map([['s', 100]]), 0)
    expect(refused).toMatchObject({ ok: false, retryAfterMs: 2_000 })
    // 20 jobs finished over the last 10 s: 2 a second; 20 over the re-admission line take 10 s.
    for (let t = 0; t < 20; t++) a.finished(500 * t)
    expect(a.decide('s', 10, 100, new Map([['s', 100]]), 10_000)).toMatchObject({ ok: false, retryAfterMs: 10_000 })
    // Still saturated at 95 (hysteresis), admitted at 89.
    expect(a.decide('s', 1, 95, new Map([['s', 95]]), 10_000).ok).toBe(false)
    expect(a.decide('s', 1, 89, new Map([['s', 89]]), 10_000).ok).toBe(true)
  })

  it('gives each submitter its share by weight when saturated: a flood does not shut the others out', () => {
    const a = new Admission({ ...settings, weights: { heavy: 3 } })
    a.census(slots(20))
    const counts = new Map([['flood', 100]])
    expect(a.decide('flood', 1, 100, counts, 0).ok).toBe(false)
    expect(a.decide('quiet', 1, 100, counts, 0).ok).toBe(true)
    // The level at which saturation ends (90), split between the two.
    expect(a.shareOf('quiet', counts)).toBe(45)
    expect(a.decide('quiet', 46, 100, counts, 0).ok).toBe(false)
    expect(a.shareOf('heavy', counts)).toBe(67.5)
  })
})
