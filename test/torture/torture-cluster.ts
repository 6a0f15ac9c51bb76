// The processes of a torture run: trusted peers behind link proxies (the registry and each
// peer's --announce point at the proxy, so every connection to a peer passes one), worker
// peers, and the harness itself as the client. Each trusted peer's data can sit on a small
// filesystem of its own, which the nemesis fills.
import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKeyFile } from '@peerqueue/runtime'
import { REPO, freePort, spawnPeer, stopPeer, type RunningPeer } from '../helpers/project.js'
import { SmallDisk, canMountTmpfs } from './disk.js'
import { LinkProxy } from './link-proxy.js'
import { Links } from './links.js'
import { ownerOfConnection } from './socket-owner.js'

export const TORTURE_JOBS = join(REPO, 'test', 'torture', 'jobs')
export const CLIENT = 'client'

export interface TorturePeer {
  readonly name: string
  readonly id: string
  readonly key: string
  readonly trusted: boolean
  readonly data: string
  /** Where a trusted peer really listens; the proxy forwards there. */
  readonly port: number
  process: RunningPeer | undefined
  disk: SmallDisk | undefined
  /** Set while the harness has stopped or killed it on purpose. */
  expectedDown: boolean
}

export class TortureCluster {
  readonly links = new Links()
  readonly proxies: LinkProxy[] = []
  /** Peers that exited without being told to, with their last words. */
  readonly unexpectedExits: string[] = []

  private constructor(
    readonly dir: string,
    readonly registry: string,
    readonly clientKey: string,
    readonly peers: TorturePeer[],
    readonly disksFillable: boolean,
  ) {}

  static async create(trusted: number, workers: number): Promise<TortureCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'pq-torture-'))
    const disksFillable = canMountTmpfs(join(dir, 'probe'))
    const peers: TorturePeer[] = []
    const proxyPorts: number[] = []
    for (let i = 1; i <= trusted + workers; i++) {
      const isTrusted = i <= trusted
      const name = isTrusted ? `trusted-${i}` : `worker-${i - trusted}`
      const key = join(dir, `${name}.key`)
      const { peerId } = await createKeyFile(key)
      const data = join(dir, 'data', name)
      const disk = isTrusted && disksFillable ? await SmallDisk.mount(data, '256m') : undefined
      peers.push({ name, id: peerId, key, trusted: isTrusted, data, port: isTrusted ? await freePort() : 0, process: undefined, disk, expectedDown: false })
      if (isTrusted) proxyPorts.push(await freePort())
    }
    const clientKey = join(dir, 'client.key')
    const client = await createKeyFile(clientKey)
    const registry = join(dir, 'registry.yaml')
    const trustedLines = peers.filter((p) => p.trusted).map((p, i) => `      - id: ${p.id}\n        addrs: [/ip4/127.0.0.1/tcp/${proxyPorts[i]}]`)
    await writeFile(
      registry,
      `version: 1\nqueues:\n  - name: torture\n    rendezvous: torture-test\n    trustedPeers:\n${trustedLines.join('\n')}\n    submitters: [${client.peerId}]\n    workers: any\n    limits: { maxQueuedJobs: 1000000 }\n`,
    )
    const cluster = new TortureCluster(dir, registry, clientKey, peers, disksFillable)
    for (const [i, peer] of peers.filter((p) => p.trusted).entries()) {
      const proxy = new LinkProxy(peer.name, proxyPorts[i]!, peer.port, cluster.links, (sourcePort) => ownerOfConnection(sourcePort, proxyPorts[i]!, cluster.processes()))
      await proxy.start()
      cluster.proxies.push(proxy)
    }
    return cluster
  }

  get trusted(): TorturePeer[] {
    return this.peers.filter((p) => p.trusted)
  }

  get workers(): TorturePeer[] {
    return this.peers.filter((p) => !p.trusted)
  }

  peer(name: string): TorturePeer {
    const peer = this.peers.find((p) => p.name === name)
    if (!peer) throw new Error(`no peer ${name}`)
    return peer
  }

  /** Every running process by pid, the harness itself as the client. */
  processes(): Map<number, string> {
    const pids = new Map<number, string>([[process.pid, CLIENT]])
    for (const peer of this.peers) if (peer.process?.child.pid) pids.set(peer.process.child.pid, peer.name)
    return pids
  }

  async start(name: string): Promise<void> {
    const peer = this.peer(name)
    const proxy = this.proxies.find((p) => p.target === name)
    const args = peer.trusted
      ? ['--no-work', '--listen', `/ip4/127.0.0.1/tcp/${peer.port}`, '--announce', `/ip4/127.0.0.1/tcp/${proxy!.port}`]
      : ['--jobs', TORTURE_JOBS, '--concurrency', '4']
    const running = await spawnPeer({ registry: this.registry, key: peer.key, data: peer.data, cwd: this.dir, args: [...args, '--no-mdns'] })
    peer.process = running
    peer.expectedDown = false
    void running.exited.then(async (code) => {
      await this.keepLog(name, running)
      if (peer.process === running && !peer.expectedDown) {
        this.unexpectedExits.push(`${name} exited with ${code}:\n${running.output().split('\n').slice(-15).join('\n')}`)
        peer.process = undefined
      }
    })
  }

  /** Each process's output goes to logs/<name>.log when it ends. */
  private async keepLog(name: string, running: RunningPeer): Promise<void> {
    await mkdir(join(this.dir, 'logs'), { recursive: true })
    await appendFile(join(this.dir, 'logs', `${name}.log`), running.output())
  }

  /** Lines of every peer's output (every run of it) that contain `text`. */
  async countInLogs(text: string): Promise<number> {
    const dir = join(this.dir, 'logs')
    let count = 0
    for (const file of await readdir(dir).catch(() => [] as string[])) {
      count += (await readFile(join(dir, file), 'utf8')).split('\n').filter((line) => line.includes(text)).length
    }
    return count
  }

  async startAll(): Promise<void> {
    await Promise.all(this.trusted.map((p) => this.start(p.name)))
    await Promise.all(this.workers.map((p) => this.start(p.name)))
  }

  async kill(name: string): Promise<void> {
    const peer = this.peer(name)
    peer.expectedDown = true
    const running = peer.process
    peer.process = undefined
    if (running) {
      running.child.kill('SIGCONT')
      await stopPeer(running, 'SIGKILL')
    }
  }

  pause(name: string): boolean {
    return this.peer(name).process?.child.kill('SIGSTOP') ?? false
  }

  resume(name: string): void {
    this.peer(name).process?.child.kill('SIGCONT')
  }

  /** Each peer's recent output, for a failure report. */
  dump(lines = 20): string {
    return this.peers.map((p) => `--- ${p.name} (${p.id})\n${(p.process?.output() ?? '(not running)').split('\n').slice(-lines).join('\n')}`).join('\n')
  }

  /** Stops every peer (SIGTERM, then SIGKILL after 10 s), keeping their logs. */
  async stopAll(): Promise<void> {
    this.links.healAll()
    for (const peer of this.peers) {
      peer.expectedDown = true
      peer.process?.child.kill('SIGCONT')
    }
    await Promise.all(
      this.peers.map(async (p) => {
        if (!p.process) return
        const killer = setTimeout(() => p.process?.child.kill('SIGKILL'), 10_000)
        await stopPeer(p.process, 'SIGTERM')
        clearTimeout(killer)
        await this.keepLog(p.name, p.process)
      }),
    )
  }

  async close(keep = false): Promise<void> {
    await this.stopAll()
    await Promise.all(this.proxies.map((p) => p.close()))
    for (const peer of this.peers) peer.disk?.unmount()
    if (!keep) await rm(this.dir, { recursive: true, force: true })
  }
}
