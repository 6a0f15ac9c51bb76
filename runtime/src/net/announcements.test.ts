import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseAnnouncement } from './announcements.js'

describe('gossip announcement decoder', () => {
  it('reads a JSON object and nothing else, whatever the bytes', () => {
    expect(parseAnnouncement(new TextEncoder().encode('{"leader":"x","term":3}'))).toEqual({ leader: 'x', term: 3 })
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 6000 }), (bytes) => {
        const body = parseAnnouncement(bytes)
        expect(body === undefined || (typeof body === 'object' && !Array.isArray(body))).toBe(true)
      }),
      { numRuns: 500 },
    )
    expect(parseAnnouncement(new TextEncoder().encode('[1,2]'))).toBeUndefined()
    expect(parseAnnouncement(new TextEncoder().encode(`{"pad":"${'x'.repeat(5000)}"}`))).toBeUndefined()
  })
})
