// Rewrites a registry in PeerPrint's shape (or any version-1 registry) into peerqueue's own
// spelling: `version: 1`, `description` for `desc`, trusted peers as `{ id }` maps, and the trust
// rules it left to defaults written out. The YAML is edited as a document, so comments survive.
import { parseDocument, isMap, isScalar, isSeq, Scalar, type Document, type YAMLMap } from 'yaml'
import { PeerqueueError } from '../errors.js'
import { writeFileDurably } from '../fs/durable-file.js'
import { parseRegistry } from './parse.js'

export interface Conversion {
  readonly text: string
  /** What was changed, one line each. */
  readonly changes: string[]
}

export function convertRegistry(text: string, source: string): Conversion {
  parseRegistry(text, source)
  const doc = parseDocument(text)
  const contents = doc.contents
  if (!isMap(contents)) throw new PeerqueueError('E_REGISTRY_INVALID', `${source}: the document is not a map`)
  const root: YAMLMap = contents
  const changes: string[] = []
  if (!root.has('version')) {
    root.items.unshift(doc.createPair('version', 1))
    changes.push('added version: 1')
  }
  const queues = root.get('queues', true)
  if (isSeq(queues)) {
    for (const [i, queue] of queues.items.entries()) if (isMap(queue)) convertQueue(doc, queue, `queues[${i}]`, changes)
  }
  const out = doc.toString()
  parseRegistry(out, `${source} (converted)`)
  return { text: out, changes }
}

export async function writeConverted(out: string, conversion: Conversion): Promise<void> {
  await writeFileDurably(out, conversion.text, { exclusive: true }).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'EEXIST' ? new PeerqueueError('E_USAGE', `${out} already exists; refusing to overwrite it`) : err
  })
}

function convertQueue(doc: Document, queue: YAMLMap, where: string, changes: string[]): void {
  const desc = queue.items.find((pair) => isScalar(pair.key) && pair.key.value === 'desc')
  if (desc && isScalar(desc.key)) {
    desc.key.value = 'description'
    changes.push(`${where}: desc is now description`)
  }
  const peers = queue.get('trustedPeers', true)
  if (isSeq(peers)) {
    for (const [j, item] of peers.items.entries()) {
      if (!isScalar(item)) continue
      const entry = doc.createNode({ id: String(item.value) })
      entry.commentBefore = item.commentBefore
      entry.comment = item.comment
      peers.items[j] = entry
      changes.push(`${where}.trustedPeers[${j}]: written as { id } (no addresses: found through the rendezvous)`)
    }
  }
  for (const [key, value, meaning] of [
    ['submitters', 'trusted', 'only the trusted peers submit'],
    ['workers', 'any', 'any peer may work'],
  ] as const) {
    if (queue.has(key)) continue
    const node = new Scalar(value)
    node.comment = ` the default, written out when converted: ${meaning}`
    queue.set(key, node)
    changes.push(`${where}: ${key}: ${value} written out (it was the default)`)
  }
}
