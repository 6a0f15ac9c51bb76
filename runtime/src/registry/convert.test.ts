import { readFileSync } from 'node:fs'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { convertRegistry, writeConverted } from './convert.js'
import { parseRegistry } from './parse.js'

const fixture = readFileSync(new URL('../../../test/fixtures/peerprint/example_registry.yaml', import.meta.url), 'utf8')

describe('registry convert', () => {
  it("writes PeerPrint's registry in peerqueue's spelling, keeping comments and meaning", () => {
    const commented = fixture.replace('queues:', '# the queues we run\nqueues:').replace('     - "12D3KooWMW', '     # the second printer\n     - "12D3KooWMW')
    const { text, changes } = convertRegistry(commented, 'pp.yaml')
    expect(text).toMatch(/^version: 1\n/)
    expect(text).toContain('# the queues we run')
    expect(text).toContain('# the second printer')
    expect(text).toContain('description: "A testing queue"')
    expect(text).not.toMatch(/\bdesc:/)
    expect(text).toContain('submitters: trusted')
    expect(changes).toHaveLength(6)
    const before = parseRegistry(commented, 'pp.yaml').queues[0]!
    const after = parseRegistry(text, 'converted.yaml').queues[0]!
    expect(after).toEqual(before)
  })

  it('changes nothing in a registry already in peerqueue\'s spelling, and never overwrites a file', async () => {
    const once = convertRegistry(fixture, 'pp.yaml').text
    expect(convertRegistry(once, 'once.yaml')).toEqual({ text: once, changes: [] })
    const dir = await mkdtemp(join(tmpdir(), 'pq-convert-'))
    const out = join(dir, 'out.yaml')
    await writeFile(out, 'keep me')
    await expect(writeConverted(out, { text: once, changes: [] })).rejects.toMatchObject({ code: 'E_USAGE' })
    expect(await readFile(out, 'utf8')).toBe('keep me')
  })
})
