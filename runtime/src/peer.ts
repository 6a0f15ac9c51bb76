// The composition root: wires registry, identity, libp2p, the consensus group, the scheduler,
// the handler pool and the client service into one running peer.
import { randomUUID } from 'node:crypto'
import { watch, type FSWatcher } from 'node:fs'
import { join, resolve } from 'node:path'
import { lockDataDir } from './data-lock.js'
import { PeerqueueError, errorMessage } from './errors.js'
import { readKeyFile, type Identity } from './net/identity.js'
import { createPeerNode, type PeerNode } from './net/node.js'
import { serveRpc } from './net/rpc.js'
import { FINAL_STATES } from './queue/job.js'
import type { ConsensusGroup } from './raft/group.js'
import { SoloGroup } from './raft/solo-group.js'
import { loadRegistry, selectQueue } from './registry/load.js'
import type { QueueConfig } from './registry/schema.js'
import { Scheduler } from './scheduler/scheduler.js'
import { QueueService } from './service/queue-service.js'
import { buildCatalog, type Catalog } from './worker/catalog.js'
import { Executor } from './worker/executor.js'
import { HandlerPool } from './worker/pool.js'
import { localWorkSource } from './worker/work-source.js'
import { availableParallelism } from 'node:os'

export interface PeerOptions {
  readonly registry: string
  readonly queue?: string
  readonly keyFile: string
  readonly listen?: readonly string[]
  readonly jobsDir?: string
  readonly dataDir: string
  readonly concurrency?: number
  /** Run handlers on this peer (default true). */
  readonly work?: boolean
  /** Dev mode: act as a one-member group whatever the registry lists, and rebuild on jobs/ changes. */
  readonly dev?: boolean
  readonly log?: (line: string) => void
}

export interface PeerStatus {
  readonly queue: string
  readonly peerId: string
  readonly role: 'leader'
  readonly term: number
  readonly commitIndex: number
  readonly members: readonly { id: string; self: boolean; healthy: boolean; lag: number }[]
  readonly jobs: Record<string, number>
  readonly workers: readonly { id: string; running: number; capacity: number }[]
  readonly handlers: readonly string[]
  readonly listen: readonly string[]
}

export class Peer {
  private watcher: FSWatcher | undefined
  private catalog: Catalog = new Map()

  private constructor(
    readonly identity: Identity,
    readonly queue: QueueConfig,
    readonly node: PeerNode,
    readonly group: ConsensusGroup,
    private readonly pool: HandlerPool,
    private readonly scheduler: Scheduler,
    private readonly executor: Executor | undefined,
    private readonly workerId: string,
    private readonly unlock: () => Promise<void>,
    private readonly options: PeerOptions,
  ) {}

  static async start(options: PeerOptions): Promise<Peer> {
    const log = options.log ?? (() => undefined)
    const registry = await loadRegistry(options.registry)
    const queue = selectQueue(registry, options.queue, options.registry)
    const identity = await readKeyFile(options.keyFile)
    const listen = listenAddresses(queue, identity.peerId, options)
    const dataDir = resolve(options.dataDir, queue.name)
    const unlock = await lockDataDir(dataDir)
    try {
      const group = await SoloGroup.open({ dir: join(dataDir, 'log') })
      const threads = options.concurrency ?? availableParallelism()
      let executorRef: Executor | undefined
      const pool = new HandlerPool(threads, (m) => executorRef?.recordProgress(m.jobId, m.attempt, m.progress))
      const onError = (err: unknown) => log(`peerqueue: ${errorMessage(err)}`)
      const scheduler = new Scheduler(group, onError)
      const workerId = `${identity.peerId}/${randomUUID().slice(0, 8)}`
      const peerRef: { current?: Peer } = {}
      if (options.work !== false) {
        executorRef = new Executor({
          pool,
          source: localWorkSource(group, workerId),
          catalog: () => peerRef.current?.catalog ?? new Map(),
          capacity: threads,
          maxResultBytes: queue.limits.maxResultBytes,
          onError,
        })
      }
      const node = await createPeerNode({ privateKey: identity.privateKey, listen })
      const peer = new Peer(identity, queue, node, group, pool, scheduler, executorRef, workerId, unlock, options)
      peerRef.current = peer
      if (options.jobsDir) await peer.reloadHandlers()
      peer.wire()
      await serveRpc(node, new QueueService({
        group,
        queue,
        selfId: identity.peerId,
        catalog: () => peer.catalog,
        pool,
        status: () => peer.status(),
      }).handle)
      const released = await scheduler.releaseStaleWorkers(identity.peerId, workerId)
      if (released > 0) log(`peerqueue: handed back the leases of ${released} earlier run(s) of this peer; their jobs run again`)
      scheduler.wake()
      executorRef?.pump()
      if (options.dev && options.jobsDir) peer.watchHandlers(options.jobsDir)
      return peer
    } catch (err) {
      await unlock()
      throw err
    }
  }

  get listenAddrs(): string[] {
    return this.node.getMultiaddrs().map((a) => a.toString())
  }

  get handlerNames(): string[] {
    return [...this.catalog.keys()]
  }

  status(): PeerStatus {
    return {
      queue: this.queue.name,
      peerId: this.identity.peerId,
      role: 'leader',
      term: 1,
      commitIndex: this.group.state.appliedIndex,
      members: [{ id: this.identity.peerId, self: true, healthy: true, lag: 0 }],
      jobs: this.group.state.countByState(),
      workers: this.executor ? [{ id: this.workerId, running: this.executor.runningCount, capacity: this.pool.threads }] : [],
      handlers: this.handlerNames,
      listen: this.listenAddrs,
    }
  }

  /** Bundles jobs/ again and swaps the catalog; runs in progress finish on the code they started with. */
  async reloadHandlers(): Promise<void> {
    const jobsDir = this.options.jobsDir
    if (!jobsDir) return
    this.catalog = await buildCatalog(jobsDir, join(resolve(this.options.dataDir), 'bundles'), this.pool)
    this.executor?.pump()
  }

  async close(): Promise<void> {
    this.watcher?.close()
    this.scheduler.stop()
    await this.executor?.stop()
    await this.node.stop()
    await this.pool.close()
    await this.group.close()
    await this.unlock()
  }

  private wire(): void {
    this.group.state.onStateChange((job, previous) => {
      if (job.state === 'queued') this.executor?.pump()
      if (previous === 'leased' && job.state !== 'leased' && FINAL_STATES.has(job.state)) {
        this.pool.abort(job.id, `the job was ${job.state}`)
      }
      this.scheduler.wake()
    })
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

function listenAddresses(queue: QueueConfig, peerId: string, options: PeerOptions): string[] {
  if (options.listen && options.listen.length > 0) return [...options.listen]
  const trusted = queue.trustedPeers.find((p) => p.id === peerId)
  if (!options.dev) {
    if (!trusted) {
      throw new PeerqueueError('E_GROUP_UNSUPPORTED', `peer ${peerId} is not a trusted peer of queue "${queue.name}"; this version runs trusted peers only (list the peer under trustedPeers)`)
    }
    if (queue.trustedPeers.length > 1) {
      throw new PeerqueueError('E_GROUP_UNSUPPORTED', `queue "${queue.name}" lists ${queue.trustedPeers.length} trusted peers; this version runs one-member groups only (list one trusted peer, or use queue-runtime dev)`)
    }
  }
  return trusted ? [...trusted.addrs] : ['/ip4/127.0.0.1/tcp/0']
}
