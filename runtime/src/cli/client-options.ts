// Options shared by the commands that talk to a running peer as a client.
import { QueueClient, type ConnectOptions } from '../client/index.js'
import { str, type OptionSpec } from './command.js'

export const clientOptionSpec: OptionSpec = {
  registry: { type: 'string' },
  queue: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  'ipfs-gateway': { type: 'string' },
  bootstrap: { type: 'string', multiple: true },
  'no-mdns': { type: 'boolean' },
}

export const clientOptionHelp = `  --registry <src>     registry file, https:// URL or ipfs://<CID> (default: ./registry.yaml)
  --ipfs-gateway <url> gateway for ipfs:// registries
  --queue <name>       queue (may be left out when the registry has one)
  --key <file>         submitter key (default: keys/client.key beside the registry)
  --bootstrap <addr>   a peer to dial first, /…/p2p/<id>, repeatable (beside the registry's bootstrap)
  --no-mdns            do not look for peers on the local network with mDNS
  --json               print JSON for scripts`

export async function withClient<T>(values: Record<string, string | boolean | string[] | undefined>, use: (client: QueueClient) => Promise<T>, extra: Partial<ConnectOptions> = {}): Promise<T> {
  const client = await QueueClient.connect({ ...extra, registry: str(values.registry) ?? 'registry.yaml', queue: str(values.queue), key: str(values.key),
    ipfsGateway: str(values['ipfs-gateway']),
    bootstrap: Array.isArray(values.bootstrap) ? values.bootstrap : undefined,
    mdns: values['no-mdns'] === true ? false : undefined,
  })
  try {
    return await use(client)
  } finally {
    await client.close()
  }
}
