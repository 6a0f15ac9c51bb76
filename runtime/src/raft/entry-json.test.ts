import { describe, expect, it } from 'vitest'
import { entriesJson, entryJson, messageJson } from './entry-json.js'
import type { LogEntry, Message } from './types.js'

const entries: LogEntry[] = [
  { index: 7, term: 2, kind: 'data', data: { time: 1, command: { type: 'enqueue', jobs: [{ id: 'a', payload: '{"json":"é\\n"}' }] } } },
  { index: 8, term: 2, kind: 'data', data: { time: 2, command: { type: 'release', worker: 'w' } } },
]

describe('entry JSON made once', () => {
  it('writes an append as JSON.stringify would', () => {
    const append: Message = { type: 'append', group: 'g', from: 'a', to: 'b', term: 2, prevIndex: 6, prevTerm: 1, entries, commit: 5 }
    expect(JSON.parse(messageJson(append))).toEqual(JSON.parse(JSON.stringify(append)))
    const empty: Message = { ...append, entries: [] }
    expect(messageJson(empty)).toBe(JSON.stringify(empty))
    const heartbeat: Message = { type: 'heartbeat', group: 'g', from: 'a', to: 'b', term: 2, commit: 5, readCtx: undefined }
    expect(messageJson(heartbeat)).toBe(JSON.stringify(heartbeat))
  })

  it('gives the same text for the same entry, and a list of them as an array', () => {
    expect(entryJson(entries[0]!)).toBe(JSON.stringify(entries[0]))
    expect(entryJson(entries[0]!)).toBe(entryJson(entries[0]!))
    expect(JSON.parse(entriesJson(entries))).toEqual(entries)
    expect(entriesJson([])).toBe('[]')
    const fresh: LogEntry = { index: 9, term: 2, kind: 'noop' }
    expect(entriesJson([fresh], false)).toBe(`[${JSON.stringify(fresh)}]`)
  })
})
