import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { defaultsApplied } from './defaults.js'
import { parseRegistry, parseRegistryDocument } from './parse.js'
import { internalQueueName } from './queue-name.js'

const PEER_A = '12D3KooWQpoZwJLamYtDYESViyJxbANKpsQVzydXhHitiSsCC7Zt'
const PEER_B = '12D3KooWJgBWHu3DxP3L3TV292kDega645cjB8q3aGDCgKo9hw6n'

const valid = `version: 1
queues:
  - name: images
    rendezvous: images-7f3a
    trustedPeers:
      - id: ${PEER_A}
        addrs: [/ip4/127.0.0.1/tcp/4101, /ip4/127.0.0.1/tcp/4102/ws]
    submitters: [${PEER_B}]
`

function errorOf(text: string): string {
  try {
    parseRegistry(text, 'registry.yaml')
  } catch (err) {
    expect(err).toMatchObject({ code: 'E_REGISTRY_INVALID' })
    return (err as Error).message
  }
  throw new Error('expected the registry to be refused')
}

describe('registry parser', () => {
  it('accepts a valid document and fills in the defaults', () => {
    const registry = parseRegistry(valid, 'registry.yaml')
    expect(registry.queues[0]).toMatchObject({
      name: 'images',
      workers: 'any',
      submitters: [PEER_B],
      limits: { maxPayloadBytes: 1048576, maxQueuedJobs: 1_000_000 },
      census: { targetSample: 50 },
    })
  })

  it('names the line, column and field of a bad peer id', () => {
    const message = errorOf(valid.replace(`id: ${PEER_A}`, 'id: not-a-peer'))
    expect(message).toContain('registry.yaml:6:13 queues[0].trustedPeers[0].id: not a valid Ed25519 peer id')
  })

  it('refuses unknown keys, so a misspelt rule is not silently dropped', () => {
    expect(errorOf(valid.replace('    submitters:', '    submiters:'))).toMatch(/registry\.yaml:\d+:\d+ queues\[0\].*submiters/)
  })

  it('refuses an invalid multiaddr', () => {
    expect(errorOf(valid.replace('/ip4/127.0.0.1/tcp/4101', '/ip4/999.0.0.1/tcp/x'))).toContain('queues[0].trustedPeers[0].addrs[0]: not a valid multiaddr')
  })

  it('refuses duplicate trusted peer ids and queue names', () => {
    const twice = valid.replace('    submitters:', `      - id: ${PEER_A}\n        addrs: [/ip4/127.0.0.1/tcp/4103]\n    submitters:`)
    expect(errorOf(twice)).toContain('queues[0].trustedPeers[1].id: duplicate peer id')
    const queue = valid.split('queues:\n')[1]!
    expect(errorOf(`${valid}${queue}`)).toContain('queues[1].name: duplicate queue name "images"')
  })

  it('reports YAML syntax errors with their position', () => {
    expect(errorOf('version: 1\nqueues: [\n')).toMatch(/registry\.yaml:\d+:\d+ /)
  })

  it('fails fast on alias expansion bombs', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]']
    for (let i = 0; i < 8; i++) bomb.push(`${'bcdefghi'[i]}: &${'bcdefghi'[i]} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)
    const started = Date.now()
    expect(errorOf(bomb.join('\n'))).toMatch(/alias/i)
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('refuses a document over the size limit before parsing it', () => {
    expect(errorOf(`${valid}# ${'x'.repeat(1024 * 1024)}\n`)).toContain('larger than 1048576 bytes')
  })

  it('wants version 1 and at least one queue', () => {
    expect(errorOf('version: 2\nqueues: []\n')).toMatch(/version: .*\n.*queues/s)
  })
})

describe("PeerPrint's registries", () => {
  const fixture = readFileSync(new URL('../../../test/fixtures/peerprint/example_registry.yaml', import.meta.url), 'utf8')

  it('reads PeerPrint\'s example registry as it is', () => {
    const { registry, data } = parseRegistryDocument(fixture, 'example_registry.yaml')
    const queue = registry.queues[0]!
    expect(queue).toMatchObject({
      displayName: 'Test queue',
      description: 'A testing queue',
      url: 'https://continuousprint.net',
      rendezvous: 'cpq_testqueue_rendezvous',
      submitters: 'trusted',
      workers: 'any',
      bootstrap: [],
    })
    expect(queue.name).toMatch(/^test-queue-[0-9a-f]{8}$/)
    expect(queue.trustedPeers.map((p) => p.addrs)).toEqual([[], []])
    const defaults = defaultsApplied(data, registry.queues)[0]!
    expect(defaults).toContain('submitters: trusted (only the trusted peers may submit jobs)')
    expect(defaults).toContain('limits.maxQueuedJobs: 1000000')
  })

  it('derives one safe internal name per display name', () => {
    expect(internalQueueName('images')).toBe('images')
    expect(internalQueueName('Test queue')).not.toBe(internalQueueName('test  queue'))
    expect(internalQueueName('日本語')).toMatch(/^queue-[0-9a-f]{8}$/)
    expect(internalQueueName('x'.repeat(100))).toMatch(/^[a-z0-9-]{1,63}$/)
  })

  it('still checks every key that is present', () => {
    expect(errorOf(fixture.replace('12D3KooWNgjd', '12D3KooWXXXX'))).toContain('queues[0].trustedPeers[0].id: not a valid Ed25519 peer id')
    expect(errorOf(fixture.replace('desc:', 'descr:'))).toMatch(/queues\[0\].*descr/)
    expect(errorOf(fixture.replace('    trustedPeers: \n     - "12D3KooWNgjdBgmgRyY42Eo2Jg3rGyvaepU4QDkEMjy4WtF3Ad9V"\n     - "12D3KooWMWWvLa8NMdfEqVbfWm8VnufrjRhzFWcVA13gqoagUDKh"', '    trustedPeers: []'))).toContain(
      'trustedPeers: must list at least one trusted peer',
    )
    expect(errorOf(fixture.replace('    desc:', '    description: both\n    desc:'))).toContain('give description or desc, not both')
  })

  it('wants bootstrap addresses that name their peer', () => {
    const withBootstrap = (addr: string) => valid.replace('    submitters:', `    bootstrap: [${addr}]\n    submitters:`)
    expect(parseRegistry(withBootstrap(`/ip4/127.0.0.1/tcp/4101/p2p/${PEER_A}`), 'r.yaml').queues[0]!.bootstrap).toHaveLength(1)
    expect(errorOf(withBootstrap('/ip4/127.0.0.1/tcp/4101'))).toContain('queues[0].bootstrap[0]: not a multiaddr ending in /p2p/<peer id>')
  })
})

describe('registry errors in plain words', () => {
  it("says what each field wants, never zod's own wording", () => {
    const message = errorOf(`version: 1
queues:
  - name: q
    rendezvous: q-1
    trustedPeers: [${PEER_A}]
    Limits: {}
    limits: { maxQueuedJobs: -1, maxPayloadBytes: "big" }
    census: { targetSample: 2 }
`)
    expect(message).toContain('queues[0].limits.maxPayloadBytes: must be a number, not the text "big"')
    expect(message).toContain('queues[0].limits.maxQueuedJobs: must be more than 0')
    expect(message).toContain('queues[0].census.targetSample: must be at least 5')
    expect(message).toContain('queues[0]: unknown key "Limits": check the spelling')
    expect(message).not.toMatch(/Too small|Invalid input|Unrecognized key|expected number/)
    expect(errorOf('version: 1\nqueues: []\n')).toContain('queues: must list at least one queue')
    expect(errorOf('version: 1\n')).toContain('queues: is required (a list)')
  })
})
