// The torture run's verdict fails on each kind of wrong ending, and passes a clean one.
import { describe, expect, it } from 'vitest'
import { check, passed, type FinalState } from './check.js'
import { expectedDigest } from './jobs/digest.js'
import { newRecord } from './workload.js'

const done = (n: number): FinalState => ({ state: 'completed', result: { n, digest: expectedDigest(n) } })

function cleanRun() {
  const record = newRecord()
  const finals = new Map<string, FinalState>()
  for (let n = 0; n < 5; n++) {
    record.invoked.add(n)
    record.acknowledged.set(`j${n}`, n)
    record.completions.set(`j${n}`, new Set([100 + n]))
    finals.set(`j${n}`, done(n))
  }
  return { record, finals }
}

describe('the torture verdict', () => {
  it('passes a run where every acknowledged job completed once with its digest', () => {
    const { record, finals } = cleanRun()
    finals.set('j4', { state: 'dead', result: undefined })
    const verdict = check(record, finals)
    expect(passed(verdict)).toBe(true)
    expect(verdict).toMatchObject({ acknowledged: 5, completed: 4, dead: 1 })
  })

  it('counts a job missing or unfinished as lost', () => {
    const { record, finals } = cleanRun()
    finals.delete('j1')
    finals.set('j2', { state: 'queued', result: undefined })
    const verdict = check(record, finals)
    expect(verdict.lost).toEqual(['j1 (n=1): not found', 'j2 (n=2): queued'])
    expect(passed(verdict)).toBe(false)
  })

  it('catches a second accepted result, a wrong result and a job nobody submitted', () => {
    const { record, finals } = cleanRun()
    record.completions.get('j0')!.add(900)
    finals.set('j3', { state: 'completed', result: { n: 3, digest: expectedDigest(4) } })
    record.completions.set('x', new Set([950]))
    finals.set('x', done(77))
    const verdict = check(record, finals)
    expect(verdict.duplicateResults).toEqual(['j0 completed at 100, 900'])
    expect(verdict.wrongResults).toHaveLength(1)
    expect(verdict.phantoms).toHaveLength(1)
    expect(passed(verdict)).toBe(false)
  })

  it('accepts a completed job whose submission was never acknowledged if a client tried it', () => {
    const { record, finals } = cleanRun()
    record.invoked.add(9)
    record.completions.set('y', new Set([990]))
    finals.set('y', done(9))
    expect(passed(check(record, finals))).toBe(true)
  })
})
