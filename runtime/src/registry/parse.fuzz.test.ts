// Whatever bytes arrive as a registry, the parser answers with a registry or E_REGISTRY_INVALID:
// never a crash, never a hang.
import fc from 'fast-check'
import { stringify } from 'yaml'
import { describe, expect, it } from 'vitest'
import { PeerqueueError } from '../errors.js'
import { SAMPLE_REGISTRY } from '../../../test/fixtures/registry.js'
import { parseRegistry } from './parse.js'

const VALID = `${SAMPLE_REGISTRY}    submitters: any\n    limits: { maxPayloadBytes: 1024 }\n`

function parsesOrExplains(text: string): void {
  try {
    parseRegistry(text, 'fuzz.yaml')
  } catch (err) {
    expect(err).toBeInstanceOf(PeerqueueError)
    expect((err as PeerqueueError).code).toBe('E_REGISTRY_INVALID')
    expect((err as Error).message).toContain('fuzz.yaml')
  }
}

describe('registry parser under arbitrary input', () => {
  it('answers any string with a registry or a clear error', () => {
    fc.assert(fc.property(fc.string({ maxLength: 2000 }), parsesOrExplains), { numRuns: 500 })
  })

  it('answers any YAML value with a registry or a clear error', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 5 }), (value) => parsesOrExplains(stringify(value))), { numRuns: 300 })
  })

  it('answers every mutation of a valid document with a registry or a clear error', () => {
    const mutation = fc.tuple(fc.nat({ max: VALID.length - 1 }), fc.nat({ max: 20 }), fc.string({ maxLength: 10 }))
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (edits) => {
        let text = VALID
        for (const [at, cut, insert] of edits) text = text.slice(0, at) + insert + text.slice(at + cut)
        parsesOrExplains(text)
      }),
      { numRuns: 500 },
    )
  })
})
