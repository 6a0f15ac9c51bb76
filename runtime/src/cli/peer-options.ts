// Options shared by `start` and `dev`, and running a peer until a signal stops it.
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { PeerqueueError, errorMessage } from '../errors.js'
import { Peer, type PeerOptions } from '../peer.js'
import { int, str, type OptionSpec } from './command.js'
import { installCrashGuard } from './crash-guard.js'
import { restartSizedFor, takeRegistryDigest } from './young-generation.js'

export const peerOptionSpec: OptionSpec = {
  registry: { type: 'string' },
  queue: { type: 'string' },
  key: { type: 'string' },
  listen: { type: 'string', multiple: true },
  announce: { type: 'string', multiple: true },
  jobs: { type: 'string' },
  data: { type: 'string' },
  concurrency: { type: 'string' },
  'lease-ahead': { type: 'string' },
  'no-work': { type: 'boolean' },
  'allow-insecure-key': { type: 'boolean' },
  'ipfs-gateway': { type: 'string' },
  bootstrap: { type: 'string', multiple: true },
  'no-mdns': { type: 'boolean' },
  http: { type: 'string' },
  'http-tokens': { type: 'string' },
  'no-http': { type: 'boolean' },
}

export const peerOptionHelp = `  --registry <src>     registry file, https:// URL or ipfs://<CID> (default: ./registry.yaml)
  --ipfs-gateway <url> gateway for ipfs:// registries (default: $PEERQUEUE_IPFS_GATEWAY, else https://ipfs.io)
  --queue <name>       queue to serve (may be left out when the registry has one)
  --listen <multiaddr> address to listen on, repeatable (default: this peer's addrs in the registry;
                       a trusted peer listed without addrs listens on /ip4/0.0.0.0/tcp/0;
                       /p2p-circuit listens through a relay offered by a trusted peer)
  --announce <addr>    address other peers are told to dial instead of the listen addresses,
                       repeatable (a port forward, a proxy or NAT in front of this peer)
  --bootstrap <addr>   a peer to dial first, /…/p2p/<id>, repeatable (beside the registry's bootstrap)
  --no-mdns            do not look for peers on the local network with mDNS (it is on when
                       peers must be found and some address is not loopback)
  --jobs <dir>         handler modules to bundle and run (default: ./jobs when it exists)
  --data <dir>         where the write-ahead log and snapshots live (each peer keeps
                       <dir>/<queue>/<peer id>, so peers can share one directory)
  --concurrency <n>    handlers run at once (default: one per core), on at most one thread per core
  --lease-ahead <n>    most leases held beyond the free slots, so a slot that frees up starts
                       its next job at once (default: 1000 less --concurrency; the worker
                       holds only as many as its jobs need, none for slow ones; 0: never)
  --no-work            keep the queue but run no handlers here
  --http <host:port>   serve the dashboard (/), Prometheus metrics (/metrics) and the HTTP
                       API (/v1) on this address (trusted peers; off unless given, except
                       in dev, which serves 127.0.0.1:8080 unless --no-http)
  --http-tokens <file> bearer tokens of the HTTP API: YAML with tokens: [{ name, token,
                       rights: [read, submit, cancel, redrive] }]. Without it, only reads
                       are open, and only on a loopback address (dev makes a token itself)
  --allow-insecure-key accept a key file that other users can read`

type Values = Record<string, string | boolean | string[] | undefined>

export function peerOptions(values: Values, defaults: { key?: string; data: string; dev: boolean }): PeerOptions {
  const jobs = str(values.jobs) ?? (existsSync('jobs') ? 'jobs' : undefined)
  const listen = Array.isArray(values.listen) ? values.listen : undefined
  const concurrency = int(values.concurrency, 'concurrency')
  const leaseAhead = int(values['lease-ahead'], 'lease-ahead')
  if (leaseAhead !== undefined && leaseAhead < 0) throw new PeerqueueError('E_USAGE', `--lease-ahead must be 0 or more, got ${leaseAhead}`)
  return {
    registry: str(values.registry) ?? 'registry.yaml',
    queue: str(values.queue),
    keyFile: str(values.key) ?? defaults.key ?? '',
    listen,
    announce: Array.isArray(values.announce) ? values.announce : undefined,
    jobsDir: jobs,
    dataDir: str(values.data) ?? defaults.data,
    concurrency,
    ...(leaseAhead === undefined ? {} : { leaseAhead }),
    work: values['no-work'] !== true,
    allowInsecureKey: values['allow-insecure-key'] === true,
    ipfsGateway: str(values['ipfs-gateway']),
    bootstrap: Array.isArray(values.bootstrap) ? values.bootstrap : undefined,
    mdns: values['no-mdns'] === true ? false : undefined,
    ...httpOptions(values, defaults.dev),
    dev: defaults.dev,
    log: (line) => process.stdout.write(`${line}\n`),
  }
}

const DEV_HTTP = '127.0.0.1:8080'

function httpOptions(values: Values, dev: boolean): Pick<PeerOptions, 'http' | 'httpTokens' | 'httpTokenList' | 'httpAnyPortIfBusy'> {
  const http = values['no-http'] === true ? undefined : (str(values.http) ?? (dev ? DEV_HTTP : undefined))
  const httpTokens = str(values['http-tokens'])
  // dev serves the page with a token of its own (all rights), printed in the page's address.
  const httpTokenList = http && dev && !httpTokens ? [{ name: 'dev', token: randomBytes(24).toString('hex'), rights: ['read', 'submit', 'cancel', 'redrive'] as const }] : undefined
  return { http, httpTokens, httpTokenList: httpTokenList?.map((t) => ({ ...t, rights: [...t.rights] })), httpAnyPortIfBusy: dev && str(values.http) === undefined }
}

export async function runUntilSignal(options: PeerOptions): Promise<number> {
  const say = (line: string) => process.stdout.write(`${line}\n`)
  // Listen for signals before anything is announced: a signal that arrives before Node installs
  // its handler would end the process without handing running jobs back.
  let signalled: (signal: string) => void = () => undefined
  const received = new Promise<string>((resolve) => (signalled = resolve))
  const onSignal = (signal: NodeJS.Signals) => signalled(signal)
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  installCrashGuard(say)
  const registryKeptDigest = takeRegistryDigest()
  const peer = await Peer.start({ ...options, onRole: restartSizedFor, ...(registryKeptDigest === undefined ? {} : { registryKeptDigest }) })
  const roles = { solo: 'trusted peer (a group of one)', raft: 'trusted peer (a Raft group member)', worker: 'worker peer' }
  say(`peerqueue: peer ${peer.identity.peerId}, ${roles[peer.mode]}`)
  say(`peerqueue: queue "${peer.queue.name}", listening on ${peer.listenAddrs.join(', ') || '(nothing: dials out only)'}`)
  say(`peerqueue: handlers: ${peer.handlerNames.join(', ') || '(none: this peer runs no jobs)'}`)
  if (peer.httpUrl) {
    const devToken = options.httpTokenList?.find((t) => t.name === 'dev')?.token
    say(`peerqueue: dashboard ${peer.httpUrl}/${devToken ? `#token=${devToken}` : ''}  metrics ${peer.httpUrl}/metrics  API ${peer.httpUrl}/v1 (${peer.httpUrl}/v1/openapi.json)`)
  }
  say('peerqueue: ready')
  const signal = await received
  say(`peerqueue: ${signal}, stopping (running jobs are handed back)`)
  try {
    await peer.close()
    return 0
  } catch (err) {
    process.stderr.write(`peerqueue: error while stopping: ${errorMessage(err)}\n`)
    return 1
  }
}
