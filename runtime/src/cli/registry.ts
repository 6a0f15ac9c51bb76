import { PeerqueueError } from '../errors.js'
import { readKeyFile } from '../net/identity.js'
import { addTrustedPeer, initRegistry, type NewPeer } from '../registry/edit.js'
import { loadRegistry } from '../registry/load.js'
import type { Registry } from '../registry/schema.js'
import { printJson, type CliCommand } from './command.js'

export const registry: CliCommand = {
  name: 'registry',
  summary: 'check, create or extend a registry document',
  usage: `Usage: queue-runtime registry check <src> [--json] [--ipfs-gateway <url>]
       queue-runtime registry init <file> --queue <name> (--key <file> | --id <peer id>) --addr <multiaddr>...
       queue-runtime registry add-peer <file> [--queue <name>] (--key <file> | --id <peer id>) --addr <multiaddr>...

check: validates a registry and summarises it.
init: writes a new registry with one queue and its first trusted peer.
add-peer: adds a trusted peer to a queue of an existing registry (comments are kept).
Every document is validated before it is written.

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
    if (!source || extra.length > 0 || !['check', 'init', 'add-peer'].includes(action ?? '')) {
      throw new PeerqueueError('E_USAGE', `expected: registry check|init|add-peer <file>\n\n${this.usage}`)
    }
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
    const parsed = await loadRegistry(source, {
      ipfsGateway: typeof values['ipfs-gateway'] === 'string' ? values['ipfs-gateway'] : undefined,
      log: (line) => process.stderr.write(`${line}\n`),
    })
    if (values.json) printJson(parsed)
    else process.stdout.write(summary(source, parsed))
  },
}

async function newPeer(values: Record<string, string | boolean | string[] | undefined>, usage: string): Promise<NewPeer> {
  const addrs = Array.isArray(values.addr) ? values.addr : []
  if (addrs.length === 0) throw new PeerqueueError('E_USAGE', `at least one --addr is required\n\n${usage}`)
  if (typeof values.key === 'string') return { id: (await readKeyFile(values.key)).peerId, addrs }
  if (typeof values.id === 'string') return { id: values.id, addrs }
  throw new PeerqueueError('E_USAGE', `give the peer as --key <file> or --id <peer id>\n\n${usage}`)
}

function summary(source: string, registry: Registry): string {
  const lines = [`${source}: valid (schema version ${registry.version}), ${registry.queues.length} queue(s)`]
  for (const q of registry.queues) {
    const who = (rule: string | string[]) => (Array.isArray(rule) ? `${rule.length} listed peer(s)` : rule)
    lines.push(
      '',
      `queue ${q.name}${q.description ? ` — ${q.description}` : ''}`,
      `  rendezvous   ${q.rendezvous} (topics ${q.rendezvous}/leader, ${q.rendezvous}/workers)`,
      `  trusted      ${q.trustedPeers.length} peer(s); a majority of ${Math.floor(q.trustedPeers.length / 2) + 1} must be up to accept jobs`,
      ...q.trustedPeers.map((p) => `    ${p.id}  ${p.addrs.join(' ')}`),
      `  submitters   ${who(q.submitters)}`,
      `  workers      ${who(q.workers)}`,
      `  limits       payload ${q.limits.maxPayloadBytes} B, result ${q.limits.maxResultBytes} B, ${q.limits.maxQueuedJobs} unfinished jobs, ${q.limits.maxRequestsPerSecond} requests/s per peer`,
    )
  }
  return lines.join('\n') + '\n'
}
