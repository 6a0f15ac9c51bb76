// The composition root: wires registry, identity, libp2p, the consensus group, the scheduler,
// the handler pool and the services into one running peer. A peer listed under trustedPeers
// keeps the queue (alone, or in a Raft group with the others); any other peer is a worker.
import { randomUUID } from 'node:crypto'
import { multiaddr } from '@multiformats/multiaddr'
import { watch, type FSWatcher } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join, resolve } from 'node:path'
import { Census } from './census/census.js'
import type { CensusEstimate } from './census/window.js'
import { LeaderLink } from './client/leader-link.js'
import { lockDataDir } from './data-lock.js'
import { PeerqueueError, errorMessage, isPeerqueueError } from './errors.js'
import { assertNodeVersion } from './node-version.js'
import { Announcements } from './net/announcements.js'
import { planDiscovery } from './net/discovery-plan.js'
import { Rendezvous, dialById } from './net/rendezvous.js'
import { readKeyFile, type Identity } from './net/identity.js'
import { createPeerNode, type PeerNode } from './net/node.js'
import { Libp2pRaftTransport } from './net/raft-transport.js'
import { serveRpc } from './net/rpc.js'
import { FINAL_STATES } from './queue/job.js'
import type { ConsensusGroup } from './raft/group.js'
import { RaftGroup } from './raft/raft-group.js'
import { SoloGroup } from './raft/solo-group.js'
import { readRegistry, selectQueue } from './registry/load.js'
import type { QueueConfig } from './registry/schema.js'
import { Scheduler } from './scheduler/scheduler.js'
import { describeStatus, type PeerStatus } from './peer-status.js'
import { QueueService } from './service/queue-service.js'
import { WorkService } from './service/work-service.js'
import { buildCatalog, type Catalog } from './worker/catalog.js'
import { Executor } from './worker/executor.js'
import { HandlerPool } from './worker/pool.js'
import { remoteWorkSource } from './worker/remote-work-source.js'
import { routedWorkSource } from './worker/routed-work-source.js'
import { DEFAULT_LEASE_MS, localWorkSource, type WorkSource } from './worker/work-source.js'
import { RUNTIME_VERSION } from './version.js'
import { fsyncObserver } from './fs/durable-file.js'
import { BundleKeeper } from './deploy/bundle-keeper.js'
import { BundleStore } from './deploy/bundle-store.js'
import { DeployService, type VersionsAnswer } from './deploy/deploy-service.js'
import { fetchBundle } from './deploy/fetch-bundle.js'
import { DeployedCode } from './worker/deployed-code.js'
import type { GrantedLease } from './queue/commands.js'
import type { HttpHost, HttpListener } from './http/index.js'
import { ShardHost, rootHostedMap } from './shards/shard-host.js'
import { ShardKeeper } from './shards/shard-keeper.js'
import { RootShards, SHARD_METHODS } from './shards/root-shards.js'
import { ShardDirectory } from './shards/shard-directory.js'
import { shardedWorkSource } from './shards/sharded-work-source.js'
import { DelegateRoster, mayDelegate } from './shards/delegates.js'
import type { Caller } from './net/rpc.js'
import { RootSaturation } from './saturation/root-saturation.js'

export type { PeerStatus } from './peer-status.js'

export interface PeerOptions {
  readonly registry: string
  readonly queue?: string
  readonly keyFile: string
  readonly listen?: readonly string[]
  /** Addresses other peers are told to dial instead of the listen addresses (a port forward, a proxy, NAT). */
  readonly announce?: readonly string[]
  readonly jobsDir?: string
  readonly dataDir: string
  readonly concurrency?: number
  /** Most leases a worker holds beyond its free slots (default: 1000 less its slots; 0: none). */
  readonly leaseAhead?: number
  /** Run handlers on this peer (default true). */
  readonly work?: boolean
  /** Gateway for ipfs:// registries. */
  readonly ipfsGateway?: string
  /** Accept a key file that other users can read. */
  readonly allowInsecureKey?: boolean
  /** More bootstrap addresses (with /p2p/<id>) beside the registry's. */
  readonly bootstrap?: readonly string[]
  /** mDNS on the local network: default on when discovery is needed and an address is not loopback. */
  readonly mdns?: boolean
  /** Serve the dashboard, /metrics and the HTTP API on host:port (trusted peers only). */
  readonly http?: string
  /** The bearer tokens of the HTTP API (a YAML file on this peer, never the registry). */
  readonly httpTokens?: string
  /** Tokens given in code instead of a file (dev mode makes one for the page it prints). */
  readonly httpTokenList?: readonly { name: string; token: string; rights: readonly ('read' | 'submit' | 'cancel' | 'redrive')[] }[]
  /** Serve HTTP on any free port of the same host when the one asked for is taken (dev's default). */
  readonly httpAnyPortIfBusy?: boolean
  /** Dev mode: act as a one-member group whatever the registry lists, and rebuild on jobs/ changes. */
  readonly dev?: boolean
  readonly log?: (line: string) => void
  /**
   * Called once the peer knows its role, before it takes its data directory or opens a socket:
   * the CLI starts Node again there with a young generation sized for that role, handing on the
   * SHA-256 of a remote registry's text (undefined for a file) so the new image need not fetch it.
   */
  readonly onRole?: (mode: PeerMode, registryDigest: string | undefined) => void
  /** A remote registry this process read just before it started Node afresh (see `onRole`): its kept copy's SHA-256. */
  readonly registryKeptDigest?: string
}

export type PeerMode = 'solo' | 'raft' | 'worker'

const ANNOUNCE_EVERY_MS = 1_000
/** A worker talks to the leader and a trusted peer or two for gossip: it needs few connections. */
const WORKER_MAX_CONNECTIONS = 32
/** A trusted peer the registry gives no address listens on every interface, on a port the OS picks. */
const DEFAULT_TRUSTED_LISTEN = '/ip4/0.0.0.0/tcp/0'
const RELAY_WAIT_MS = 10_000
/** How long a lease request keeps looking for a shard's leader before the worker asks another shard. */
const SHARD_LEASE_RETRY_MS = 1_000
/** How often a root peer checks that it keeps every shard its map names (one that failed to open is tried again). */
const ROOT_HOST_SYNC_MS = 2_000
/** How often a delegate reads the certified shard map from the root. */
const DELEGATE_SYNC_MS = 1_000

interface Parts {
  identity: Identity
  queue: QueueConfig
  mode: PeerMode
  node: PeerNode
  pool: HandlerPool
  group: ConsensusGroup | undefined
  scheduler: Scheduler | undefined
  work: WorkService | undefined
  link: LeaderLink | undefined
  rendezvous: Rendezvous
  workerId: string
  /** This peer's own folder: <data>/<queue>/<peer id>. */
  dataDir: string
  unlock: () => Promise<void>
}

export class Peer {
  private watcher: FSWatcher | undefined
  private catalog: Catalog = new Map()
  private executor: Executor | undefined
  private deployed: DeployedCode | undefined
  private bundles: BundleStore | undefined
  private keeper: BundleKeeper | undefined
  private deploys: DeployService | undefined
  private announcements!: Announcements
  private announceTimer: NodeJS.Timeout | undefined
  private census!: Census
  private readonly gossipWorkers = new Map<string, { capacity: number; running: number; lastSeen: number; versions?: readonly number[] }>()
  private service: QueueService | undefined
  private httpListener: HttpListener | undefined
  private shardHost: ShardHost | undefined
  private shardKeeper: ShardKeeper | undefined
  private rootShards: RootShards | undefined
  private shardDirectory: ShardDirectory | undefined
  /** Saturation control, on a root group with it on. */
  private saturation: RootSaturation | undefined
  private delegateTimer: NodeJS.Timeout | undefined
  private readonly delegates: DelegateRoster

  private constructor(
    private readonly parts: Parts,
    private readonly options: PeerOptions,
  ) {
    this.delegates = new DelegateRoster(parts.queue)
  }

  get identity(): Identity {
    return this.parts.identity
  }

  get queue(): QueueConfig {
    return this.parts.queue
  }

  get mode(): PeerMode {
    return this.parts.mode
  }

  get group(): ConsensusGroup | undefined {
    return this.parts.group
  }

  /** The leader's latest census of the queue's peers (undefined elsewhere, or before the first poll closes). */
  censusEstimate(): CensusEstimate | undefined {
    return this.census.estimate()
  }

  static async start(options: PeerOptions): Promise<Peer> {
    assertNodeVersion()
    const log = options.log ?? (() => undefined)
    const { registry, remoteDigest } = await readRegistry(options.registry, {
      ipfsGateway: options.ipfsGateway,
      cacheDir: join(resolve(options.dataDir), 'registry-cache'),
      log,
      ...(options.registryKeptDigest === undefined ? {} : { keptDigest: options.registryKeptDigest }),
    })
    const queue = selectQueue(registry, options.queue, options.registry)
    const identity = await readKeyFile(options.keyFile, { allowInsecure: options.allowInsecureKey })
    const trusted = queue.trustedPeers.find((p) => p.id === identity.peerId)
    const mode: PeerMode = options.dev || (trusted && queue.trustedPeers.length === 1) ? 'solo' : trusted ? 'raft' : 'worker'
    if (mode === 'worker' && options.work === false) {
      throw new PeerqueueError('E_USAGE', `peer ${identity.peerId} is not a trusted peer of queue "${queue.name}", so it can only work: leave out --no-work`)
    }
    options.onRole?.(mode, remoteDigest)
    // Per queue and per peer, so several peers can run from one project directory.
    const dataDir = resolve(options.dataDir, queue.name, identity.peerId)
    const unlock = await lockDataDir(dataDir)
    try {
      const listen = options.listen && options.listen.length > 0 ? [...options.listen] : defaultListen(trusted?.addrs, options.dev === true)
      if (options.http && mode === 'worker') {
        throw new PeerqueueError('E_USAGE', `--http is for trusted peers (they hold the queue); ${identity.peerId} is a worker of "${queue.name}"`)
      }
      for (const addr of options.announce ?? []) {
        try {
          multiaddr(addr)
        } catch {
          throw new PeerqueueError('E_USAGE', `--announce ${addr} is not a multiaddr (such as /ip4/203.0.113.5/tcp/4001)`)
        }
      }
      // Loaded only when asked for: a peer without --http does not pay for its code.
      const http = options.http ? await import('./http/index.js') : undefined
      const metricsRegistry = http?.createMetricsRegistry()
      const discovery = planDiscovery({ queue, selfId: identity.peerId, role: mode === 'worker' ? 'worker' : 'trusted', listen, bootstrap: options.bootstrap, mdns: options.mdns })
      const node = await createPeerNode({
        privateKey: identity.privateKey,
        listen,
        announce: options.announce,
        pubsub: true,
        discovery,
        maxConnections: mode === 'worker' ? WORKER_MAX_CONNECTIONS : undefined,
        metrics: http && metricsRegistry ? await http.libp2pMetrics(metricsRegistry) : undefined,
      })
      const rendezvous = new Rendezvous(node, discovery, new Set(queue.trustedPeers.map((p) => p.id)), log)
      rendezvous.start()
      // The pool and the group call back into the peer, which exists only once they do.
      const ref: { peer?: Peer } = {}
      const pool = new HandlerPool(options.concurrency ?? availableParallelism(), (m) => ref.peer?.executor?.recordProgress(m.jobId, m.attempt, m.progress))
      const onError = (err: unknown) => log(`peerqueue: ${errorMessage(err)}`)
      const group = await openGroup(mode, identity, queue, node, join(dataDir, 'log'), onError, (leader) => void ref.peer?.onRoleChange(leader), log)
      const parts: Parts = {
        identity,
        queue,
        mode,
        node,
        pool,
        group,
        scheduler: group ? new Scheduler(group, onError) : undefined,
        work: group ? new WorkService(group, queue) : undefined,
        link:
          mode === 'solo'
            ? undefined
            : // A delegate's connections to trusted peers may carry a shard's Raft traffic: it keeps them.
              new LeaderLink(node, queue.trustedPeers, { hangUpOthers: mode === 'worker' && !(queue.shards.delegates !== 'trusted' && mayDelegate(queue, identity.peerId) && listen.length > 0), self: mode === 'raft' ? identity.peerId : undefined, findById: rendezvous.active, learn: (m) => rendezvous.learn(m) }),
        rendezvous,
        workerId: `${identity.peerId}/${randomUUID().slice(0, 8)}`,
        dataDir,
        unlock,
      }
      const peer = new Peer(parts, options)
      ref.peer = peer
      await peer.wire()
      if (listen.some((a) => a.endsWith('/p2p-circuit'))) await peer.awaitRelayAddress()
      if (mode === 'worker') await peer.joinMesh()
      if (options.jobsDir) await peer.reloadHandlers()
      else if (options.work !== false) await peer.useDeployedCode()
      if (options.work !== false) peer.startExecutor(onError)
      if (group?.isLeader()) await peer.onRoleChange(true)
      if (options.dev && options.jobsDir) peer.watchHandlers(options.jobsDir)
      if (http && metricsRegistry && options.http) {
        const tokens = options.httpTokens ? await http.TokenStore.load(options.httpTokens) : http.TokenStore.fromList(options.httpTokenList ?? [])
        const serveOn = (listen: string) => http.startHttp({ listen, host: peer.httpHost(), tokens, registry: metricsRegistry })
        peer.httpListener = await serveOn(options.http).catch((err: unknown) => {
          if (!options.httpAnyPortIfBusy || !isPeerqueueError(err) || err.code !== 'E_LISTEN') throw err
          log(`peerqueue: ${options.http} is taken; serving HTTP on another port`)
          return serveOn(options.http!.replace(/:\d+$/, ':0'))
        })
      }
      return peer
    } catch (err) {
      await unlock()
      throw err
    }
  }

  get listenAddrs(): string[] {
    return this.parts.node.getMultiaddrs().map((a) => a.toString())
  }

  /** Where the dashboard, /metrics and /v1 answer, when the peer serves HTTP. */
  get httpUrl(): string | undefined {
    return this.httpListener?.url
  }

  get handlerNames(): string[] {
    return [...this.currentCatalog().keys()]
  }

  /** The handlers this peer runs: its jobs/ directory's, or the current deployed version's. */
  private currentCatalog(): Catalog {
    return this.deployed ? this.deployed.catalog() : this.catalog
  }

  /** Without a jobs/ directory, a peer that works runs the code deployed to the queue. */
  private async useDeployedCode(): Promise<void> {
    const { node, queue, link, dataDir } = this.parts
    const log = this.options.log ?? (() => undefined)
    const others = queue.trustedPeers.map((p) => p.id).filter((id) => id !== this.identity.peerId)
    this.deployed = new DeployedCode({
      queue,
      store: this.bundles ?? new BundleStore(join(dataDir, 'deployed')),
      manifestsDir: join(dataDir, 'versions'),
      versions: async (retryMs) => {
        if (this.deploys && this.parts.group?.isLeader()) return this.deploys.versions()
        if (!link) throw new PeerqueueError('E_NOT_LEADER', 'this peer does not keep the queue')
        return (await link.call('versions', {}, retryMs)) as VersionsAnswer
      },
      fetch: (hash) => fetchBundle(node, others, hash),
      log,
    })
    await this.deployed.start()
    const held = this.deployed.held()
    log(`peerqueue: running deployed code (no jobs/ directory here)${held.length > 0 ? `; versions held: ${held.map((v) => v.version).join(', ')}` : '; nothing deployed yet'}`)
  }

  status(): PeerStatus {
    return {
      ...this.baseStatus(),
      saturation: this.saturation?.view() ?? null,
    }
  }

  private baseStatus(): PeerStatus {
    return describeStatus({
      queue: this.queue,
      peerId: this.identity.peerId,
      mode: this.mode,
      group: this.group,
      listen: this.listenAddrs,
      handlers: this.handlerNames,
      workers: this.workersSeen(),
      census: this.census.view(),
      discovery: this.parts.rendezvous.status(),
      connections: this.connectionKinds(),
      addressesOf: (id) => this.parts.rendezvous.addressesOf(id),
    })
  }

  /** Per connected peer: direct if any connection is, else through a relay. */
  private connectionKinds(): Map<string, 'direct' | 'relay'> {
    const kinds = new Map<string, 'direct' | 'relay'>()
    for (const connection of this.parts.node.getConnections()) {
      const id = connection.remotePeer.toString()
      const kind = connection.remoteAddr.toString().includes('/p2p-circuit') ? 'relay' : 'direct'
      if (kinds.get(id) !== 'direct') kinds.set(id, kind)
    }
    return kinds
  }

  /** Bundles jobs/ again and swaps the catalog; runs in progress finish on the code they started with. */
  async reloadHandlers(): Promise<void> {
    const jobsDir = this.options.jobsDir
    if (!jobsDir) return
    this.catalog = await buildCatalog(jobsDir, join(resolve(this.options.dataDir), 'bundles'), this.parts.pool)
    this.executor?.pump()
  }

  async close(): Promise<void> {
    await this.httpListener?.close()
    this.watcher?.close()
    clearInterval(this.announceTimer)
    clearInterval(this.delegateTimer)
    this.census.close()
    this.keeper?.close()
    this.parts.scheduler?.stop()
    await this.executor?.stop()
    await this.shardKeeper?.stop()
    await this.shardDirectory?.close()
    await this.shardHost?.close()
    await this.parts.link?.close()
    await this.parts.group?.close()
    this.parts.rendezvous.stop()
    await this.parts.node.stop()
    await this.parts.pool.close()
    await this.parts.unlock()
  }

  private async wire(): Promise<void> {
    const { group, node, queue, pool, link } = this.parts
    this.census = new Census({
      selfId: this.identity.peerId,
      config: queue.census,
      publish: (poll) => this.announcements.publishPoll(poll),
      send: async (answer) => void (await link?.call('census.answer', answer, queue.census.intervalMs)),
      report: () => this.censusReport(),
      onError: (err) => this.options.log?.(`peerqueue: ${errorMessage(err)}`),
    })
    this.announcements = new Announcements(node, queue.rendezvous, new Set(queue.trustedPeers.map((p) => p.id)), {
      onLeader: (a) => link?.suggest(a.leader),
      onWorker: (a) => {
        this.gossipWorkers.set(a.worker, { capacity: a.capacity, running: a.running, lastSeen: Date.now(), ...(a.versions ? { versions: a.versions } : {}) })
        if (a.hostAddrs) this.delegates.offer(a.peerId, a.hostAddrs, a.running, Date.now())
      },
      onPoll: (poll, from) => {
        // Only a leader polls: a poll from someone other than the leader we know means leadership moved.
        link?.suggest(from)
        this.census.heard(poll)
      },
    }, this.hearsWorkers())
    this.announceTimer = setInterval(() => this.announce(), ANNOUNCE_EVERY_MS)
    if (!group) {
      if (this.offersToHost()) await this.hostAsDelegate()
      return
    }
    const log = this.options.log ?? (() => undefined)
    this.bundles = new BundleStore(join(this.parts.dataDir, 'deployed'))
    const members = queue.trustedPeers.map((p) => p.id).filter((id) => id !== this.identity.peerId)
    this.keeper = new BundleKeeper(this.bundles, group.state, (hash) => fetchBundle(node, members, hash), log)
    this.keeper.start()
    this.deploys = new DeployService(group, queue, this.bundles)
    group.state.onStateChange((job, previous) => {
      if (job.state === 'queued') this.executor?.pump()
      if (previous === 'leased' && FINAL_STATES.has(job.state)) pool.abort(job.id, `the job was ${job.state}`)
      this.parts.scheduler?.wake()
    })
    const saturation = (this.saturation = queue.saturation ? new RootSaturation(queue.saturation, group, () => this.census.estimate(), () => this.shardKeeper?.loads.values() ?? []) : undefined)
    if (saturation && this.parts.work) this.parts.work.fairness = () => saturation.fairWeights()
    const service = (this.service = new QueueService({
      group,
      queue,
      selfId: this.identity.peerId,
      catalog: () => this.catalog,
      pool,
      status: () => this.status(),
      work: this.parts.work!,
      censusAnswer: (peerId, answer) => this.census.answer(peerId, answer),
      wake: () => this.parts.scheduler?.wake(),
      deploys: this.deploys,
      ...(saturation ? { admit: (submitter: string, count: number) => saturation.admit(submitter, count), admitted: (submitter: string, count: number) => saturation.admitted(submitter, count) } : {}),
    }))
    const host = (this.shardHost = new ShardHost({
      node,
      selfId: this.identity.peerId,
      queue,
      map: rootHostedMap(group.state.shards, this.identity.peerId),
      addressesOf: (id) => this.shardMemberAddrs(id),
      dataDir: this.parts.dataDir,
      catalog: () => this.catalog,
      pool,
      deploys: this.deploys,
      log,
      onError: (err) => log(`peerqueue: ${errorMessage(err)}`),
      onChange: () => this.executor?.pump(),
    }))
    group.state.onShardChange(() => void host.sync())
    group.state.onRestore(() => void host.sync())
    await host.sync()
    await host.dropStale(group.state.shards.all().map((s) => s.id))
    host.syncEvery(ROOT_HOST_SYNC_MS)
    this.shardKeeper = new ShardKeeper({ node, identity: this.identity, queue, root: group, log, host, candidates: (now) => this.delegates.candidates(now), gone: (now) => this.delegates.gone(now, queue.shards.replaceAfterMs), admission: () => this.saturation?.shardAdmissions(), addressesOf: (id) => this.shardMemberAddrs(id) })
    const rootShards = (this.rootShards = new RootShards({
      queue,
      state: group.state,
      identity: this.identity,
      addressesOf: (id) => this.shardMemberAddrs(id),
      loads: () => this.shardKeeper?.loads ?? new Map(),
    }))
    const handle = (method: string, params: unknown, caller: Caller): Promise<unknown> => {
      const shard = /^shard\/(\d+)\/(.+)$/.exec(method)
      if (shard) return host.handle(Number(shard[1]), shard[2]!, params, caller)
      if (SHARD_METHODS.has(method)) return rootShards.handle(method, params, caller)
      return service.handle(method, params, caller)
    }
    const perSecond = queue.limits.maxRequestsPerSecond
    await serveRpc(node, handle, { perSecond, burst: 2 * perSecond })
  }

  /** A peer listening through a relay says it is ready once it has a relay address to be found at. */
  private async awaitRelayAddress(): Promise<void> {
    const deadline = Date.now() + RELAY_WAIT_MS
    while (Date.now() < deadline) {
      if (this.listenAddrs.some((a) => a.includes('/p2p-circuit/'))) return
      await new Promise((r) => setTimeout(r, 50))
    }
    this.options.log?.(`peerqueue: no relay reservation within ${RELAY_WAIT_MS / 1000} s; still looking (a trusted peer with a direct address offers one)`)
  }

  /** A worker peer joins the gossip mesh through one trusted peer; its lease link may reuse that connection. */
  private async joinMesh(): Promise<void> {
    const { node, queue, rendezvous } = this.parts
    const order = [...queue.trustedPeers].sort(() => Math.random() - 0.5)
    for (const peer of order) {
      for (const addr of peer.addrs) {
        try {
          await node.dial(multiaddr(`${addr}/p2p/${peer.id}`), { signal: AbortSignal.timeout(3_000) })
          return
        } catch {
          // try the next address
        }
      }
    }
    if (rendezvous.active) {
      // A bootstrap peer may be trusted itself; if not, ask the DHT who provides the rendezvous.
      if (await rendezvous.joined(2_000)) return
      const found = await rendezvous.find()
      this.options.log?.(`peerqueue: ${found} peer(s) provide the rendezvous "${queue.rendezvous}"`)
      for (const peer of order) {
        try {
          await dialById(node, peer.id, 5_000)
          return
        } catch {
          // try the next trusted peer
        }
      }
    }
    this.options.log?.('peerqueue: no trusted peer reachable yet; will keep trying through the lease link')
  }

  private httpHost(): HttpHost {
    const { group, link } = this.parts
    const self = { peerId: this.identity.peerId }
    return {
      queue: this.queue,
      selfId: this.identity.peerId,
      status: () => this.status(),
      jobs: () => (group ? { get: (id) => group.state.get(id), list: (filter) => group.state.list(filter) } : undefined),
      call: (method, params) => {
        if (group?.isLeader() && this.service) return this.service.handle(method, params, self)
        if (!link) throw new PeerqueueError('E_NOT_LEADER', 'this peer does not keep the queue')
        return link.call(method, params)
      },
      onJobChange: (listener) => group?.state.onStateChange(listener) ?? (() => undefined),
      observeFsync: (observe) => {
        fsyncObserver.observe = observe
        return () => {
          fsyncObserver.observe = undefined
        }
      },
    }
  }

  private startExecutor(onError: (err: unknown) => void): void {
    const { group, link, workerId, pool, queue } = this.parts
    const capacity = pool.slots
    const remote = link ? remoteWorkSource(link, workerId, () => capacity) : undefined
    const local = group ? localWorkSource(group, workerId, DEFAULT_LEASE_MS, queue.limits.maxQueuedJobs, () => this.saturation?.fairWeights()) : undefined
    const rootSource: WorkSource = local && remote ? routedWorkSource(group!, local, remote) : (local ?? remote)!
    const source = this.shardedSource(rootSource, capacity)
    this.executor = new Executor({
      pool,
      source,
      catalog: () => this.currentCatalog(),
      ...(this.deployed ? { resolve: (lease: GrantedLease) => this.deployed!.handlerFor(lease) } : {}),
      capacity,
      maxResultBytes: queue.limits.maxResultBytes,
      maxPayloadBytes: queue.limits.maxPayloadBytes,
      onError,
      poll: remote !== undefined,
      ...(this.options.leaseAhead === undefined ? {} : { leaseAhead: this.options.leaseAhead }),
    })
    this.executor.pump()
  }

  /** A worker peer that listens, where the registry lets others than the root keep shards, offers to keep some. */
  private offersToHost(): boolean {
    const { mode, queue } = this.parts
    return mode === 'worker' && queue.shards.delegates !== 'trusted' && mayDelegate(queue, this.identity.peerId) && this.listenAddrs.length > 0
  }

  /** Where to dial a shard's member: the registry's addresses for a trusted peer, else what it announced or the root passed on. */
  private shardMemberAddrs(id: string): readonly string[] {
    const registry = this.parts.queue.trustedPeers.find((p) => p.id === id)?.addrs ?? []
    if (registry.length > 0) return registry
    const heard = this.delegates.addrsOf(id)
    if (heard.length > 0) return heard
    const passedOn = this.shardDirectory?.addrsOf(id) ?? []
    return passedOn.length > 0 ? passedOn : this.parts.rendezvous.addressesOf(id)
  }

  /**
   * A delegate keeps the shards whose certificate names it: it reads the certified map from the
   * root every second, opens and closes groups to match, and answers requests for them.
   */
  private async hostAsDelegate(): Promise<void> {
    const { node, queue, pool } = this.parts
    const log = this.options.log ?? (() => undefined)
    const directory = this.delegateDirectory()
    const host = (this.shardHost = new ShardHost({
      node,
      selfId: this.identity.peerId,
      queue,
      map: directory.hostedMap(this.identity.peerId),
      addressesOf: (id) => this.shardMemberAddrs(id),
      dataDir: this.parts.dataDir,
      catalog: () => this.catalog,
      pool,
      log,
      onError: (err) => log(`peerqueue: ${errorMessage(err)}`),
      onChange: () => this.executor?.pump(),
    }))
    this.delegateTimer = setInterval(() => {
      directory.refresh(0).then(() => host.sync(), () => undefined)
    }, DELEGATE_SYNC_MS)
    this.delegateTimer.unref()
    await serveRpc(node, (method, params, caller) => {
      const shard = /^shard\/(\d+)\/(.+)$/.exec(method)
      if (shard) return host.handle(Number(shard[1]), shard[2]!, params, caller)
      throw new PeerqueueError('E_NOT_LEADER', `${this.identity.peerId} keeps only shards of "${queue.name}"; ask its trusted peers`)
    }, { perSecond: queue.limits.maxRequestsPerSecond, burst: 2 * queue.limits.maxRequestsPerSecond })
  }

  /** The certified shard map from the root, shared by a worker's leases and, on a delegate, its hosting. */
  private delegateDirectory(): ShardDirectory {
    const { link, queue, node } = this.parts
    this.shardDirectory ??= new ShardDirectory({ node, queue, askRoot: (method, params) => link!.call(method, params), self: this.identity.peerId, log: this.options.log })
    return this.shardDirectory
  }

  /** Leases from every shard of the queue, the root's among them. */
  private shardedSource(root: WorkSource, capacity: number): WorkSource {
    const { link, workerId, queue } = this.parts
    const rootShards = this.rootShards
    if (!rootShards && !link) return root
    const directory = rootShards ? (this.shardDirectory = new ShardDirectory({ node: this.parts.node, queue, askRoot: async () => rootShards.view(), self: this.identity.peerId, log: this.options.log })) : this.delegateDirectory()
    const remote = new Map<string, { link: unknown; source: WorkSource }>()
    return shardedWorkSource(root, {
      directory,
      sourceFor: (shard, holding) => {
        const hosted = this.shardHost?.get(shard)
        const shardLink = directory.link(shard)
        const key = `${shard}/${holding}`
        let far = remote.get(key)
        if (shardLink && far?.link !== shardLink) {
          // A shard without a leader for now must not hold up leases from the others: ask it briefly.
          far = { link: shardLink, source: remoteWorkSource(shardLink, workerId, () => capacity, holding ? undefined : 0, SHARD_LEASE_RETRY_MS) }
          remote.set(key, far)
        }
        if (!hosted) return far?.source
        const near = localWorkSource(hosted.group, workerId, DEFAULT_LEASE_MS, queue.limits.maxQueuedJobs)
        return far ? routedWorkSource(hosted.group, near, far.source) : near
      },
    })
  }

  private async onRoleChange(leader: boolean): Promise<void> {
    if (!leader) {
      this.census.follow()
      void this.shardKeeper?.stop()
      return
    }
    this.census.lead()
    this.shardKeeper?.start()
    const released = await this.parts.scheduler?.releaseStaleWorkers(this.identity.peerId, this.parts.workerId).catch(() => 0)
    if (released) this.options.log?.(`peerqueue: handed back the leases of ${released} earlier run(s) of this peer; their jobs run again`)
    this.parts.scheduler?.wake()
    this.executor?.pump()
    this.announce()
  }

  /** Trusted peers read worker announcements (status, delegates), and so do delegates (shard members' addresses). */
  private hearsWorkers(): boolean {
    return this.parts.mode !== 'worker' || this.offersToHost()
  }

  private announce(): void {
    const group = this.parts.group
    if (group?.isLeader()) this.announcements.announceLeader(group instanceof RaftGroup ? group.raft.core.term : 1)
    const hostAddrs = this.offersToHost() ? this.listenAddrs.filter((a) => !a.includes('/p2p-circuit')) : undefined
    if (this.executor) this.announcements.announceWorker(this.parts.workerId, this.parts.pool.slots, this.executor.runningCount, this.deployed?.held().map((v) => v.version), hostAddrs)
  }

  private censusReport(): { busy: boolean; freeSlots: number; handlers: string[]; version: string } {
    const running = this.executor?.runningCount ?? 0
    const capacity = this.executor ? this.parts.pool.slots : 0
    return { busy: running > 0, freeSlots: Math.max(0, capacity - running), handlers: this.handlerNames, version: RUNTIME_VERSION }
  }

  private workersSeen(): PeerStatus['workers'] {
    const now = Date.now()
    const seen = new Map<string, PeerStatus['workers'][number]>()
    for (const [id, w] of this.gossipWorkers) {
      if (now - w.lastSeen > 5 * ANNOUNCE_EVERY_MS) this.gossipWorkers.delete(id)
      else seen.set(id, { id, running: w.running, capacity: w.capacity, ...(w.versions ? { versions: w.versions } : {}) })
    }
    for (const w of this.parts.work?.seenWorkers(now) ?? []) if (!seen.has(w.id)) seen.set(w.id, { id: w.id, running: w.running, capacity: w.capacity })
    const versions = this.deployed?.held().map((v) => v.version)
    if (this.executor) seen.set(this.parts.workerId, { id: this.parts.workerId, running: this.executor.runningCount, capacity: this.parts.pool.slots, ...(versions ? { versions } : {}) })
    return [...seen.values()]
  }

  private watchHandlers(jobsDir: string): void {
    const log = this.options.log ?? (() => undefined)
    let timer: NodeJS.Timeout | undefined
    this.watcher = watch(jobsDir, { recursive: true }, () => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        this.reloadHandlers().then(
          () => log(`peerqueue: rebuilt handlers: ${this.handlerNames.join(', ')}`),
          (err: unknown) => log(`peerqueue: ${errorMessage(err)} (still running the previous build)`),
        )
      }, 150)
    })
  }
}

function defaultListen(registryAddrs: readonly string[] | undefined, dev: boolean): string[] {
  if (registryAddrs && registryAddrs.length > 0) return [...registryAddrs]
  if (dev) return ['/ip4/127.0.0.1/tcp/0']
  return registryAddrs ? [DEFAULT_TRUSTED_LISTEN] : []
}

async function openGroup(
  mode: PeerMode,
  identity: Identity,
  queue: QueueConfig,
  node: PeerNode,
  dir: string,
  onError: (err: unknown) => void,
  onRoleChange: (leader: boolean) => void,
  log: (line: string) => void,
): Promise<ConsensusGroup | undefined> {
  if (mode === 'worker') return undefined
  if (mode === 'solo') return SoloGroup.open({ dir, onError, log })
  const others = new Map(queue.trustedPeers.filter((p) => p.id !== identity.peerId).map((p) => [p.id, p.addrs.map((a) => `${a}/p2p/${p.id}`)]))
  const group = await RaftGroup.open({
    id: identity.peerId,
    group: queue.name,
    membership: { voters: queue.trustedPeers.map((p) => p.id), learners: [] },
    dir,
    onError,
    log,
    onRoleChange: (role) => onRoleChange(role === 'leader'),
    transport: (receive) => Libp2pRaftTransport.listen(node, queue.name, { members: others }, receive),
  })
  // A dead leader's connection closes at once (the OS resets it): elect a new one without waiting out the timeout.
  node.addEventListener('peer:disconnect', (event) => group.raft.leaderUnreachable(event.detail.toString()))
  return group
}
