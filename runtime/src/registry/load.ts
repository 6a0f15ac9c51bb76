// Reads a registry from where an operator keeps it: a file path, an https:// URL, or
// ipfs://<CID> through a gateway. The last good copy of a remote registry is kept, so a peer can
// restart while the remote source is down.
import { createHash } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PeerqueueError, errorMessage } from '../errors.js'
import { writeFileDurably } from '../fs/durable-file.js'
import { ipfsSource, verifyAgainstCid } from './ipfs.js'
import { parseRegistry, MAX_REGISTRY_BYTES } from './parse.js'
import type { QueueConfig, Registry } from './schema.js'

const FETCH_TIMEOUT_MS = 10_000

export interface LoadOptions {
  /** Gateway for ipfs:// sources (default: $PEERQUEUE_IPFS_GATEWAY, else a public gateway). */
  readonly ipfsGateway?: string
  /** Where to keep the last good copy of a remote registry. */
  readonly cacheDir?: string
  readonly log?: (line: string) => void
  /**
   * The SHA-256 (hex) of a remote registry's text that this process read and kept a copy of
   * before it started Node afresh (cli/young-generation.ts): the kept copy is read instead of
   * fetching the source again, if it still has that digest.
   */
  readonly keptDigest?: string
}

export async function loadRegistry(source: string, options: LoadOptions = {}): Promise<Registry> {
  return (await readRegistry(source, options)).registry
}

/** The registry, and for a remote source the digest of the text read (for `keptDigest`). */
export async function readRegistry(source: string, options: LoadOptions = {}): Promise<{ registry: Registry; remoteDigest: string | undefined }> {
  const text = await readRegistryText(source, options)
  return { registry: parseRegistry(text, source), remoteDigest: isRemote(source) ? digestOf(text) : undefined }
}

/** The registry's text, checked to parse; a remote one falls back to its last good copy. */
export async function readRegistryText(source: string, options: LoadOptions = {}): Promise<string> {
  if (!isRemote(source)) return readLocal(source)
  const kept = options.keptDigest !== undefined && options.cacheDir ? await readFile(cachePath(options.cacheDir, source), 'utf8').catch(() => undefined) : undefined
  if (kept !== undefined && digestOf(kept) === options.keptDigest) return kept
  let text: string
  try {
    text = await fetchRemote(source, options)
  } catch (err) {
    const cached = options.cacheDir ? await readFile(cachePath(options.cacheDir, source), 'utf8').catch(() => undefined) : undefined
    if (cached === undefined) throw err
    options.log?.(`peerqueue: ${errorMessage(err)}; using the last good copy of the registry`)
    return cached
  }
  parseRegistry(text, source)
  // The copy is for a later restart while the source is down; a full disk must not stop this one.
  if (options.cacheDir) {
    await keepCopy(options.cacheDir, source, text).catch((err: unknown) => {
      options.log?.(`peerqueue: could not keep a copy of the registry in ${options.cacheDir} (${errorMessage(err)}); a restart while ${source} is unreachable will fail`)
    })
  }
  return text
}

/** Picks the queue by name, or the only one when no name is given. */
export function selectQueue(registry: Registry, name: string | undefined, source: string): QueueConfig {
  if (name === undefined) {
    if (registry.queues.length === 1) return registry.queues[0]!
    const names = registry.queues.map((q) => q.name).join(', ')
    throw new PeerqueueError('E_QUEUE_UNKNOWN', `${source} has several queues (${names}): choose one with --queue`)
  }
  const queue = registry.queues.find((q) => q.name === name || q.displayName === name)
  if (!queue) throw new PeerqueueError('E_QUEUE_UNKNOWN', `${source} has no queue named "${name}"`)
  return queue
}

function isRemote(source: string): boolean {
  return source.startsWith('https://') || source.startsWith('ipfs://')
}

async function readLocal(source: string): Promise<string> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) {
    throw new PeerqueueError('E_REGISTRY_UNREADABLE', `${source}: unsupported registry source (use a file path, an https:// URL or ipfs://<CID>)`)
  }
  try {
    return await readFile(source, 'utf8')
  } catch (err) {
    throw new PeerqueueError('E_REGISTRY_UNREADABLE', `cannot read registry ${source}: ${errorMessage(err)}`)
  }
}

async function fetchRemote(source: string, options: LoadOptions): Promise<string> {
  const ipfs = source.startsWith('ipfs://') ? ipfsSource(source, options.ipfsGateway) : undefined
  const url = ipfs?.url ?? source
  let bytes: Uint8Array
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) })
    if (!response.ok) throw new Error(`HTTP ${response.status}`)
    bytes = new Uint8Array(await response.arrayBuffer())
  } catch (err) {
    throw new PeerqueueError('E_REGISTRY_UNREADABLE', `cannot fetch registry ${source}${ipfs ? ` from ${url}` : ''}: ${errorMessage(err)}`)
  }
  if (bytes.length > MAX_REGISTRY_BYTES) throw new PeerqueueError('E_REGISTRY_UNREADABLE', `${source} is larger than ${MAX_REGISTRY_BYTES} bytes`)
  if (ipfs && !(await verifyAgainstCid(ipfs.cid, bytes, source))) {
    options.log?.(`peerqueue: ${source} is not a raw-codec CIDv1, so its content could not be checked against the CID; the gateway ${ipfs.url} is trusted for it`)
  }
  return new TextDecoder().decode(bytes)
}

function digestOf(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

function cachePath(dir: string, source: string): string {
  return join(dir, `registry-${createHash('sha256').update(source).digest('hex').slice(0, 16)}.yaml`)
}

async function keepCopy(dir: string, source: string, text: string): Promise<void> {
  await mkdir(dir, { recursive: true })
  const path = cachePath(dir, source)
  await writeFileDurably(path, text)
}
