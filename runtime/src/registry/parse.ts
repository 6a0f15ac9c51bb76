// Turns registry text into a validated Registry, or one error listing every problem with its
// source, line, column and field, so an operator can fix the file in one pass.
import { LineCounter, parseDocument, isNode } from 'yaml'
import { PeerqueueError } from '../errors.js'
import { plainWords } from './plain-words.js'
import { registrySchema, type Registry } from './schema.js'

export const MAX_REGISTRY_BYTES = 1024 * 1024
const MAX_ALIAS_EXPANSION = 100

export function parseRegistry(text: string, source: string): Registry {
  return parseRegistryDocument(text, source).registry
}

/** The validated registry and the plain data it was read from (to tell what was written from what was defaulted). */
export function parseRegistryDocument(text: string, source: string): { registry: Registry; data: unknown } {
  if (Buffer.byteLength(text) > MAX_REGISTRY_BYTES) {
    throw invalid([`${source}: document is larger than ${MAX_REGISTRY_BYTES} bytes`])
  }
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  if (doc.errors.length > 0) {
    throw invalid(doc.errors.map((e) => `${source}:${position(lines, e.pos[0])} ${e.message.split('\n')[0]}`))
  }
  let data: unknown
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSION })
  } catch (err) {
    throw invalid([`${source}: ${err instanceof Error ? err.message : String(err)}`])
  }
  const result = registrySchema.safeParse(data, { error: plainWords })
  if (result.success) return { registry: checkUnique(result.data, source), data }
  throw invalid(
    result.error.issues.map((issue) => {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol')
      const node = nodeAt(doc, path)
      const where = node?.range ? `:${position(lines, node.range[0])}` : ''
      return `${source}${where} ${fieldName(path) || '(document)'}: ${issue.message}`
    }),
  )
}

function checkUnique(registry: Registry, source: string): Registry {
  const problems: string[] = []
  const names = new Set<string>()
  for (const [i, queue] of registry.queues.entries()) {
    if (names.has(queue.name)) problems.push(`${source} queues[${i}].name: duplicate queue name "${queue.name}"`)
    names.add(queue.name)
    const ids = new Set<string>()
    for (const [j, peer] of queue.trustedPeers.entries()) {
      if (ids.has(peer.id)) problems.push(`${source} queues[${i}].trustedPeers[${j}].id: duplicate peer id`)
      ids.add(peer.id)
    }
  }
  if (problems.length > 0) throw invalid(problems)
  return registry
}

function nodeAt(doc: ReturnType<typeof parseDocument>, path: (string | number)[]) {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true)
    if (isNode(node)) return node
  }
  return undefined
}

function position(lines: LineCounter, offset: number): string {
  const { line, col } = lines.linePos(offset)
  return `${line}:${col}`
}

function fieldName(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('')
}

function invalid(problems: string[]): PeerqueueError {
  return new PeerqueueError('E_REGISTRY_INVALID', `invalid registry:\n  ${problems.join('\n  ')}`)
}
