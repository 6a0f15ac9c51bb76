// Reads a registry from where an operator keeps it: a file path or an https:// URL.
import { readFile } from 'node:fs/promises'
import { PeerqueueError, errorMessage } from '../errors.js'
import { parseRegistry, MAX_REGISTRY_BYTES } from './parse.js'
import type { QueueConfig, Registry } from './schema.js'

const FETCH_TIMEOUT_MS = 10_000

export async function loadRegistry(source: string): Promise<Registry> {
  return parseRegistry(await readSource(source), source)
}

/** Picks the queue by name, or the only one when no name is given. */
export function selectQueue(registry: Registry, name: string | undefined, source: string): QueueConfig {
  if (name === undefined) {
    if (registry.queues.length === 1) return registry.queues[0]!
    const names = registry.queues.map((q) => q.name).join(', ')
    throw new PeerqueueError('E_QUEUE_UNKNOWN', `${source} has several queues (${names}): choose one with --queue`)
  }
  const queue = registry.queues.find((q) => q.name === name)
  if (!queue) throw new PeerqueueError('E_QUEUE_UNKNOWN', `${source} has no queue named "${name}"`)
  return queue
}

async function readSource(source: string): Promise<string> {
  if (source.startsWith('https://')) return fetchText(source)
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) {
    throw new PeerqueueError('E_REGISTRY_UNREADABLE', `${source}: unsupported registry source (use a file path or an https:// URL)`)
  }
  try {
    return await readFile(source, 'utf8')
  } catch (err) {
    throw new PeerqueueError('E_REGISTRY_UNREADABLE', `cannot read registry ${source}: ${errorMessage(err)}`)
  }
}

async function fetchText(url: string): Promise<string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) })
    if (!response.ok) throw new Error(`HTTP ${response.status}`)
    const text = await response.text()
    if (Buffer.byteLength(text) > MAX_REGISTRY_BYTES) throw new Error(`larger than ${MAX_REGISTRY_BYTES} bytes`)
    return text
  } catch (err) {
    throw new PeerqueueError('E_REGISTRY_UNREADABLE', `cannot fetch registry ${url}: ${errorMessage(err)}`)
  }
}
