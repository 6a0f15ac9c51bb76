import { PeerqueueError } from '../errors.js'
import { readKeyFile } from '../net/identity.js'
import { convertRegistry, writeConverted } from '../registry/convert.js'
import { defaultsApplied } from '../registry/defaults.js'
import { addTrustedPeer, initRegistry, type NewPeer } from '../registry/edit.js'
import { readRegistryText } from '../registry/load.js'
import { parseRegistryDocument } from '../registry/parse.js'
import type { Registry } from '../registry/schema.js'
import { printJson, type CliCommand } from './command.js'

export const registry: CliCommand = {
  name: 'registry',
  summary: 'check, create or extend a registry document',
  usage: `Usage: queue-runtime registry check <src> [--json] [--ipfs-gateway <url>]
       queue-runtime registry init <file> --queue <name> (--key <file> | --id <peer id>) [--addr <multiaddr>...]
       queue-runtime registry add-peer <file> [--queue <name>] (--key <file> | --id <peer id>) [--addr <multiaddr>...]
       queue-runtime registry convert <src> <out> [--json]

check: validates a registry and summarises it, with the defaults it leaves to peerqueue.
init: writes a new registry with one queue and its first trusted peer.
add-peer: adds a trusted peer to a queue of an existing registry (comments are kept).
  A peer given without --addr is found through the queue's rendezvous (see docs/discovery.md).
convert: writes a registry in PeerPrint's shape (no version, desc, bare peer ids) in
  peerqueue's own spelling, keeping its comments, with defaulted trust rules written out.
Every document is validated before it is written; no file is overwritten.

Validates a registry (a file path, an https:// URL or ipfs://<CID>): prints its
queues, trusted peers and limits, or every problem with its line, column and field
(exit status 1). A raw-codec CIDv1 is checked against the fetched bytes.

Options:
  --json                 print the validated registry as JSON
  --ipfs-gateway <url>   gateway for ipfs:// sources (default: $PEERQUEUE_IPFS_GATEWAY, else https://ipfs.io)`,
  options: {
    json: { type: 'boolean' },
    'ipfs-gateway': { type: 'string' },
    queue: { type: 'string' },
    key: { type: 'string' },
    id: { type: 'string' },
    addr: { type: 'string', multiple: true },
  },
  async run(values, positionals) {
    const [action, source, ...extra] = positionals
    const wanted = action === 'convert' ? 1 : 0
    if (!source || extra.length !== wanted || !['check', 'init', 'add-peer', 'convert'].includes(action ?? '')) {
      throw new PeerqueueError('E_USAGE', `expected: registry check|init|add-peer <file>, or registry convert <src> <out>\n\n${this.usage}`)
    }
    const gateway = typeof values['ipfs-gateway'] === 'string' ? values['ipfs-gateway'] : undefined
    const log = (line: string) => process.stderr.write(`${line}\n`)
    if (action === 'init') {
      if (typeof values.queue !== 'string') throw new PeerqueueError('E_USAGE', `--queue is required\n\n${this.usage}`)
      await initRegistry(source, values.queue, await newPeer(values, this.usage))
      process.stdout.write(`wrote ${source} with queue "${values.queue}"\n`)
      return
    }
    if (action === 'add-peer') {
      const peer = await newPeer(values, this.usage)
      await addTrustedPeer(source, typeof values.queue === 'string' ? values.queue : undefined, peer)
      process.stdout.write(`added ${peer.id} to ${source}\n`)
      return
    }
    const text = await readRegistryText(source, { ipfsGateway: gateway, log })
    if (action === 'convert') {
      const out = extra[0]!
      const conversion = convertRegistry(text, source)
      await writeConverted(out, conversion)
      if (values.json) printJson({ out, changes: conversion.changes })
      else process.stdout.write(`wrote ${out}${conversion.changes.map((c) => `\n  ${c}`).join('') || ' (nothing to change)'}\n`)
      return
    }
    const { registry: parsed, data } = parseRegistryDocument(text, source)
    const defaults = defaultsApplied(data, parsed.queues)
    if (values.json) printJson({ ...parsed, defaultsApplied: Object.fromEntries(parsed.queues.map((q, i) => [q.name, defaults[i]])) })
    else process.stdout.write(summary(source, parsed, defaults))
  },
}

async function newPeer(values: Record<string, string | boolean | string[] | undefined>, usage: string): Promise<NewPeer> {
  const addrs = Array.isArray(values.addr) ? values.addr : []
  if (typeof values.key === 'string') return { id: (await readKeyFile(values.key)).peerId, addrs }
  if (typeof values.id === 'string') return { id: values.id, addrs }
  throw new PeerqueueError('E_USAGE', `give the peer as --key <file> or --id <peer id>\n\n${usage}`)
}

function summary(source: string, registry: Registry, defaults: string[][]): string {
  const lines = [`${source}: valid (schema version ${registry.version}), ${registry.queues.length} queue(s)`]
  for (const [i, q] of registry.queues.entries()) {
    const who = (rule: string | string[]) => (Array.isArray(rule) ? `${rule.length} listed peer(s)` : rule)
    lines.push(
      '',
      `queue ${q.name}${q.displayName !== q.name ? ` ("${q.displayName}")` : ''}${q.description ? ` — ${q.description}` : ''}`,
      ...(q.url ? [`  url          ${q.url}`] : []),
      `  rendezvous   ${q.rendezvous} (topics ${q.rendezvous}/leader, ${q.rendezvous}/workers)`,
      `  trusted      ${q.trustedPeers.length} peer(s); a majority of ${Math.floor(q.trustedPeers.length / 2) + 1} must be up to accept jobs`,
      ...q.trustedPeers.map((p) => `    ${p.id}  ${p.addrs.join(' ') || '(no address: found through the rendezvous)'}`),
      ...(q.bootstrap.length > 0 ? [`  bootstrap    ${q.bootstrap.join(' ')}`] : []),
      `  submitters   ${who(q.submitters)}`,
      `  workers      ${who(q.workers)}`,
      `  limits       payload ${q.limits.maxPayloadBytes} B, result ${q.limits.maxResultBytes} B, ${q.limits.maxQueuedJobs} unfinished jobs, ${q.limits.maxRequestsPerSecond} requests/s per peer`,
    )
    if (defaults[i]!.length > 0) lines.push('  defaults (not written in the registry):', ...defaults[i]!.map((d) => `    ${d}`))
  }
  return lines.join('\n') + '\n'
}
