// A queue with several trusted peers and worker peers, each a real child process on 127.0.0.1.
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKeyFile } from '@peerqueue/runtime'
import { FIXTURE_JOBS, freePort, spawnPeer, stopPeer, type RunningPeer } from './project.js'

export interface ClusterPeer {
  readonly name: string
  readonly id: string
  readonly key: string
  readonly trusted: boolean
  process: RunningPeer | undefined
}

export interface ClusterOptions {
  /**
   * The registry lists trusted peers by id only, with the first one's address as `bootstrap`:
   * peers find each other through the rendezvous. Each trusted peer listens on its address by --listen.
   */
  readonly rendezvous?: boolean
  /** Trusted peers (by name) that listen on nothing but a relay (`--listen /p2p-circuit`). */
  readonly relayOnly?: readonly string[]
  /**
   * The registry in PeerPrint's own shape (no version, a display name, desc, url, created, bare
   * ids, no bootstrap or submitters): every peer but the first gets --bootstrap, and the client's
   * key is listed as one more trusted peer (that runs no peer), since only trusted peers submit.
   */
  readonly peerprintShape?: boolean
}

export class TestCluster {
  /** Each trusted peer's own address (its --listen when the registry does not list it). */
  readonly addrs = new Map<string, string>()

  private constructor(
    readonly dir: string,
    readonly registry: string,
    readonly clientKey: string,
    readonly peers: ClusterPeer[],
    private readonly options: ClusterOptions = {},
  ) {}

  /** `queueSettings` is YAML added to the queue's entry (indented four spaces), such as census settings. */
  static async create(trusted: number, workers: number, queueSettings = '', options: ClusterOptions = {}): Promise<TestCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'pq-cluster-'))
    const peers: ClusterPeer[] = []
    const addrs: string[] = []
    for (let i = 1; i <= trusted + workers; i++) {
      const name = i <= trusted ? `trusted-${i}` : `worker-${i - trusted}`
      const key = join(dir, `${name}.key`)
      const { peerId } = await createKeyFile(key)
      peers.push({ name, id: peerId, key, trusted: i <= trusted, process: undefined })
      // The last trusted peer listens on WebSockets only, so some Raft traffic crosses that transport.
      if (i <= trusted) addrs.push(`/ip4/127.0.0.1/tcp/${await freePort()}${i === trusted && trusted > 1 ? '/ws' : ''}`)
    }
    const first = peers[0]!
    const clientKey = join(dir, 'client.key')
    const client = await createKeyFile(clientKey)
    const registry = join(dir, 'registry.yaml')
    const trustedLines = peers
      .filter((p) => p.trusted)
      .map((p, i) => (options.rendezvous ? `      - ${p.id}` : `      - id: ${p.id}\n        addrs: [${addrs[i]}]`))
    const bootstrap = options.rendezvous ? `    bootstrap: [${addrs[0]}/p2p/${first.id}]\n` : ''
    await writeFile(
      registry,
      options.peerprintShape
        ? `created: 1662490415\nurl: https://example.org\nqueues:\n  - name: "Cluster queue"\n    desc: "A testing queue"\n    url: https://example.org\n    rendezvous: "cluster_test_rendezvous"\n    trustedPeers:\n${[...peers.filter((p) => p.trusted).map((p) => p.id), client.peerId].map((id) => `     - "${id}"`).join('\n')}\n`
        : `version: 1\nqueues:\n  - name: cluster\n    rendezvous: cluster-test\n    trustedPeers:\n${trustedLines.join('\n')}\n${bootstrap}    submitters: [${client.peerId}]\n    workers: any\n${queueSettings}`,
    )
    const cluster = new TestCluster(dir, registry, clientKey, peers, options)
    peers.filter((p) => p.trusted).forEach((p, i) => cluster.addrs.set(p.name, addrs[i]!))
    return cluster
  }

  peer(name: string): ClusterPeer {
    return this.peers.find((p) => p.name === name)!
  }

  /** Trusted peers keep the queue and, unless `trustedWork`, run no handlers; workers run the fixture handlers. */
  async start(name: string, extra: string[] = [], trustedWork = false): Promise<RunningPeer> {
    const peer = this.peer(name)
    const work = ['--jobs', FIXTURE_JOBS, '--concurrency', '4']
    const byId = this.options.rendezvous || this.options.peerprintShape
    const listen = this.options.relayOnly?.includes(name) ? ['--listen', '/p2p-circuit'] : byId && peer.trusted ? ['--listen', this.addrs.get(name)!] : []
    const bootstrap = this.options.peerprintShape && name !== this.peers[0]!.name ? ['--bootstrap', this.bootstrapAddr()] : []
    const args = [...(peer.trusted && !trustedWork ? ['--no-work'] : work), ...listen, ...bootstrap, ...extra]
    peer.process = await spawnPeer({ registry: this.registry, key: peer.key, data: join(this.dir, 'data', name), cwd: this.dir, args })
    return peer.process
  }

  /** The first trusted peer's address with its id: what a newcomer dials first. */
  bootstrapAddr(name = this.peers[0]!.name): string {
    return `${this.addrs.get(name)}/p2p/${this.peer(name).id}`
  }

  async startAll(): Promise<void> {
    await Promise.all(this.peers.filter((p) => p.trusted).map((p) => this.start(p.name)))
    await Promise.all(this.peers.filter((p) => !p.trusted).map((p) => this.start(p.name)))
  }

  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const peer = this.peer(name)
    if (peer.process) await stopPeer(peer.process, signal)
    peer.process = undefined
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.peers.map((p) => this.kill(p.name, 'SIGTERM')))
  }

  /** Each peer's recent output, for the report of a failed test. */
  dump(): string {
    return this.peers.map((p) => `--- ${p.name} (${p.id})\n${(p.process?.output() ?? '(not running)').split('\n').slice(-20).join('\n')}`).join('\n')
  }

  nameOf(id: string | null | undefined): string | undefined {
    return this.peers.find((p) => p.id === id)?.name
  }
}
