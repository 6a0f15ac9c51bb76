// An entry's JSON, made once. A leader writes each entry to its log, measures it for appends
// and sends it to every follower: one JSON.stringify serves them all (entries never change).
import type { LogEntry, Message } from './types.js'

const texts = new WeakMap<LogEntry, string>()

export function entryJson(entry: LogEntry): string {
  let text = texts.get(entry)
  if (text === undefined) {
    text = JSON.stringify(entry)
    texts.set(entry, text)
  }
  return text
}

/**
 * `[e1,e2,…]` from the entries' cached JSON. With `keep` false an entry not yet cached is not
 * cached now: a follower writes the entries it receives once, and keeping their text would only
 * double what its log holds in memory (a leader has cached its own before its log write).
 */
export function entriesJson(entries: readonly LogEntry[], keep = true): string {
  let text = '['
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!
    text += (i > 0 ? ',' : '') + (keep ? entryJson(entry) : (texts.get(entry) ?? JSON.stringify(entry)))
  }
  return `${text}]`
}

/** A Raft message as JSON, its entries (if any) from the cache: the same text JSON.stringify gives. */
export function messageJson(message: Message): string {
  if (message.type !== 'append' || message.entries.length === 0) return JSON.stringify(message)
  const { entries, ...rest } = message
  return `${JSON.stringify(rest).slice(0, -1)},"entries":${entriesJson(entries)}}`
}
