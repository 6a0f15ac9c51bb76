import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Announcements, parseAnnouncement } from './announcements.js'
import type { PeerNode } from './node.js'

/** A node whose pubsub only records the topics it was asked to subscribe to. */
function recordingNode(): { node: PeerNode; topics: string[] } {
  const topics: string[] = []
  const pubsub = { subscribe: (topic: string) => topics.push(topic), addEventListener: () => undefined, publish: async () => undefined }
  return { node: { peerId: { toString: () => 'me' }, services: { pubsub } } as unknown as PeerNode, topics }
}

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

describe('gossip announcements', () => {
  it('has a plain worker publish on the workers topic without listening to it', () => {
    const listening = recordingNode()
    new Announcements(listening.node, 'rdv', new Set(), {})
    expect(listening.topics.sort()).toEqual(['rdv/census', 'rdv/leader', 'rdv/workers'])
    const plain = recordingNode()
    new Announcements(plain.node, 'rdv', new Set(), {}, false)
    expect(plain.topics.sort()).toEqual(['rdv/census', 'rdv/leader'])
  })
})
