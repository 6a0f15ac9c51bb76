// Operator helpers that write registries: create one, add a trusted peer. The YAML is edited
// as a document (comments and layout survive), and the result is validated before it is written.
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { parseDocument, YAMLSeq, isMap, isSeq } from 'yaml'
import { PeerqueueError, errorMessage } from '../errors.js'
import { writeFileDurably } from '../fs/durable-file.js'
import { parseRegistry } from './parse.js'

export interface NewPeer {
  readonly id: string
  readonly addrs: readonly string[]
}

export async function initRegistry(file: string, queue: string, first: NewPeer): Promise<void> {
  const document = parseDocument(
    `# peerqueue registry (schema version 1): who keeps each queue and who may use it.\nversion: 1\nqueues: []\n`,
  )
  document.addIn(['queues'], {
    name: queue,
    rendezvous: `${queue}-${randomBytes(3).toString('hex')}`,
    trustedPeers: [peerEntry(first)],
    submitters: 'trusted',
    workers: 'any',
  })
  await writeChecked(file, document.toString(), true)
}

export async function addTrustedPeer(file: string, queue: string | undefined, peer: NewPeer): Promise<void> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new PeerqueueError('E_REGISTRY_UNREADABLE', `cannot read registry ${file}: ${errorMessage(err)}`)
  }
  const registry = parseRegistry(text, file)
  const index = queue === undefined ? (registry.queues.length === 1 ? 0 : -1) : registry.queues.findIndex((q) => q.name === queue)
  if (index < 0) throw new PeerqueueError('E_QUEUE_UNKNOWN', queue ? `${file} has no queue named "${queue}"` : `${file} has several queues: choose one with --queue`)
  if (registry.queues[index]!.trustedPeers.some((p) => p.id === peer.id)) {
    throw new PeerqueueError('E_USAGE', `${peer.id} is already a trusted peer of queue "${registry.queues[index]!.name}"`)
  }
  const document = parseDocument(text)
  const list = document.getIn(['queues', index, 'trustedPeers'], true)
  if (!isSeq(list) || !isMap(document.getIn(['queues', index], true))) throw new PeerqueueError('E_REGISTRY_INVALID', `${file}: queues[${index}].trustedPeers is not a list`)
  ;(list as YAMLSeq).add(document.createNode(peerEntry(peer)))
  await writeChecked(file, document.toString(), false)
}

/** Validates, then writes: a new file only if none is there; an existing one by atomic rename. */
async function writeChecked(file: string, text: string, create: boolean): Promise<void> {
  parseRegistry(text, file)
  await writeFileDurably(file, text, { exclusive: create }).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'EEXIST' ? new PeerqueueError('E_USAGE', `${file} already exists; refusing to overwrite it`) : err
  })
}

/** A peer without addresses is written as `{ id }`: it is found through the rendezvous. */
function peerEntry(peer: NewPeer): { id: string; addrs?: string[] } {
  return peer.addrs.length > 0 ? { id: peer.id, addrs: [...peer.addrs] } : { id: peer.id }
}
