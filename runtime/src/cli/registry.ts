import { PeerqueueError } from '../errors.js'
import { loadRegistry } from '../registry/load.js'
import type { Registry } from '../registry/schema.js'
import { printJson, type CliCommand } from './command.js'

export const registry: CliCommand = {
  name: 'registry',
  summary: 'check a registry document and summarise it',
  usage: `Usage: queue-runtime registry check <src> [--json] [--ipfs-gateway <url>]

Validates a registry (a file path, an https:// URL or ipfs://<CID>): prints its
queues, trusted peers and limits, or every problem with its line, column and field
(exit status 1). A raw-codec CIDv1 is checked against the fetched bytes.

Options:
  --json                 print the validated registry as JSON
  --ipfs-gateway <url>   gateway for ipfs:// sources (default: $PEERQUEUE_IPFS_GATEWAY, else https://ipfs.io)`,
  options: { json: { type: 'boolean' }, 'ipfs-gateway': { type: 'string' } },
  async run(values, positionals) {
    const [action, source, ...extra] = positionals
    if (action !== 'check' || !source || extra.length > 0) throw new PeerqueueError('E_USAGE', `expected: registry check <src>\n\n${this.usage}`)
    const parsed = await loadRegistry(source, { ipfsGateway: typeof values['ipfs-gateway'] === 'string' ? values['ipfs-gateway'] : undefined })
    if (values.json) printJson(parsed)
    else process.stdout.write(summary(source, parsed))
  },
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
