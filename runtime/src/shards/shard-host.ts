// The shards this peer keeps: for each live shard of the root's map that names this peer as a
// member, a Raft group of its own (its own log directory and Raft protocol id), its scheduler and
// its services. Groups open as the map names this peer and close, their logs deleted, when the
// shard retires or moves to other members. Raft streams for a shard are taken only from the
// members its map entry names.
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { PeerqueueError, errorMessage } from '../errors.js'
import { Libp2pRaftTransport } from '../net/raft-transport.js'
import type { PeerNode } from '../net/node.js'
import type { Caller } from '../net/rpc.js'
import { RaftGroup } from '../raft/raft-group.js'
import type { QueueConfig } from '../registry/schema.js'
import { Scheduler } from '../scheduler/scheduler.js'
import { QueueService } from '../service/queue-service.js'
import { WorkService } from '../service/work-service.js'
import type { DeployService } from '../deploy/deploy-service.js'
import type { Catalog } from '../worker/catalog.js'
import type { HandlerPool } from '../worker/pool.js'
import type { ShardMap } from './shard-map.js'
import { nextConfStep } from './reconfigure.js'
import { SubmitterCounts } from '../saturation/submitter-counts.js'
import { ShardAdmission } from '../saturation/shard-admission.js'
import { parseRequest } from '../service/requests.js'
import { z } from 'zod'

const reconfigureRequest = z.strictObject({ members: z.array(z.string().min(1).max(128)).min(1).max(15) })
const admissionRequest = z.strictObject({
  saturated: z.boolean(),
  retryAfterMs: z.int().min(0).max(3_600_000),
  allowance: z.record(z.string().max(128), z.number().min(0)),
  newcomer: z.number().min(0),
})
import { shardStatus, type ShardStatus } from './shard-status.js'

export interface HostedShard {
  readonly id: number
  readonly epoch: number
  readonly members: readonly string[]
  readonly group: RaftGroup
  readonly scheduler: Scheduler
  readonly work: WorkService
  readonly service: QueueService
  readonly unwatch: () => void
  readonly submitters: SubmitterCounts
  readonly admission: ShardAdmission
}

export interface ShardHostOptions {
  readonly node: PeerNode
  readonly selfId: string
  readonly queue: QueueConfig
  /** Which shards there are and who keeps them. */
  readonly map: HostedMap
  /** Where to dial another member of a shard. */
  readonly addressesOf: (id: string) => readonly string[]
  /** This peer's folder; shard n keeps its log in shards/<n>. */
  readonly dataDir: string
  readonly catalog: () => Catalog
  readonly pool: HandlerPool
  /** On a root trusted peer: deploys and bundles (a delegate keeps none). */
  readonly deploys?: DeployService
  readonly log: (line: string) => void
  readonly onError: (err: unknown) => void
  /** A hosted shard's group changed role or applied something that may free work for this peer's executor. */
  readonly onChange?: () => void
}

/** A shard as its members need it: who keeps it, in which epoch. */
export interface HostedRecord {
  readonly id: number
  readonly members: readonly string[]
  /** The first configuration of its Raft group (see ShardRecord.founders). */
  readonly founders: readonly string[]
  readonly epoch: number
}

/**
 * The map a host follows: the root log itself on a root trusted peer, the certified map read from
 * the root on a delegate. A shard's log is deleted only when the map says outright that the shard
 * retired or moved: a certificate that lapses while the root is out of reach stops the group, and
 * keeps its log.
 */
export interface HostedMap {
  live(): readonly HostedRecord[]
  dropped(id: number): 'retired' | 'moved' | undefined
}

/** The root log's map, as a root trusted peer hosts from it. */
export function rootHostedMap(map: ShardMap, selfId: string): HostedMap {
  return {
    live: () => map.live(),
    dropped: (id) => {
      const record = map.get(id)
      if (record?.state === 'retired') return 'retired'
      return record && !record.members.includes(selfId) ? 'moved' : undefined
    },
  }
}

export function shardGroupName(queue: string, shard: number): string {
  return `${queue}.s${shard}`
}

export class ShardHost {
  private readonly hosted = new Map<number, HostedShard>()
  private readonly opening = new Map<number, Promise<void>>()
  private syncing: Promise<void> = Promise.resolve()
  private closed = false
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly options: ShardHostOptions) {}

  get shards(): HostedShard[] {
    return [...this.hosted.values()]
  }

  get(id: number): HostedShard | undefined {
    return this.hosted.get(id)
  }

  /** Syncs every `periodMs` as well: a group that failed to open (a busy disk, a port) is tried again. */
  syncEvery(periodMs: number): void {
    this.timer ??= setInterval(() => void this.sync(), periodMs)
    this.timer.unref()
  }

  /** Opens and closes groups to match the root's map; calls run one after another. */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.syncNow()).catch((err: unknown) => this.options.onError(err))
    return this.syncing
  }

  async handle(id: number, method: string, params: unknown, caller: Caller): Promise<unknown> {
    const shard = this.hosted.get(id)
    if (!shard) {
      const dropped = this.options.map.dropped(id)
      const why = dropped === 'retired' ? 'it is retired' : dropped === 'moved' ? 'it moved to other members' : 'this peer keeps no such shard (now)'
      throw new PeerqueueError('E_SHARD_UNKNOWN', `shard ${id} of "${this.options.queue.name}" is not kept here: ${why}`)
    }
    switch (method) {
      case 'status':
        return this.status(shard)
      case 'shard.load': {
        if (!shard.group.isLeader()) throw shard.group.refusal()
        const { voters, learners } = shard.group.raft.core.membership
        return { ...this.status(shard).jobs, sealed: shard.group.state.sealed, unfinished: shard.group.state.activeCount(), voters: [...voters, ...learners], bySubmitter: Object.fromEntries(shard.submitters.map) }
      }
      case 'shard.admission': {
        this.assertRoot(caller)
        shard.admission.update(parseRequest(admissionRequest, params, method), Date.now())
        return null
      }
      case 'shard.reconfigure': {
        this.assertRoot(caller)
        if (!shard.group.isLeader()) throw shard.group.refusal()
        const { members } = parseRequest(reconfigureRequest, params, method)
        const core = shard.group.raft.core
        const match = new Map(core.followers().map((f) => [f.id, f.match]))
        const step = nextConfStep({ id: this.options.selfId, membership: core.membership, match, lastIndex: core.log.lastIndex() }, members)
        if (step && 'change' in step) await shard.group.raft.proposeConfChange(step.change)
        else if (step) shard.group.raft.transferLeadership(step.transferTo)
        return { step: step ?? null, voters: core.membership.voters, learners: core.membership.learners }
      }
      case 'shard.seal':
      case 'shard.unseal': {
        this.assertRoot(caller)
        if (!shard.group.isLeader()) throw shard.group.refusal()
        await shard.group.propose([{ type: method === 'shard.seal' ? 'seal' : 'unseal' }])
        return { sealed: shard.group.state.sealed, unfinished: shard.group.state.activeCount() }
      }
      default:
        return shard.service.handle(method, params, caller)
    }
  }

  status(shard: HostedShard): ShardStatus {
    return shardStatus(shard.id, shard.group, shard.members, this.options.selfId)
  }

  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.timer)
    await this.syncing
    await Promise.all([...this.hosted.values()].map((s) => this.stop(s)))
    this.hosted.clear()
  }

  private assertRoot(caller: Caller): void {
    if (!this.options.queue.trustedPeers.some((p) => p.id === caller.peerId)) {
      throw new PeerqueueError('E_NOT_ALLOWED', `only the root trusted peers may seal or unseal a shard, not ${caller.peerId}`)
    }
  }

  private async syncNow(): Promise<void> {
    if (this.closed) return
    const wanted = new Map<number, HostedRecord>()
    for (const record of this.options.map.live()) if (record.members.includes(this.options.selfId)) wanted.set(record.id, record)
    for (const [id, shard] of this.hosted) {
      const record = wanted.get(id)
      if (record && record.epoch === shard.epoch) continue
      this.hosted.delete(id)
      await this.stop(shard)
      const dropped = this.options.map.dropped(id)
      if (dropped) {
        // What this peer kept of it is not needed any more.
        await rm(this.dirOf(id), { recursive: true, force: true })
        this.options.log(`peerqueue: shard ${id} ${dropped === 'retired' ? 'retired' : 'moved to other members'}; dropped its log here`)
      } else if (!record) this.options.log(`peerqueue: shard ${id} has no valid certificate naming this peer now; stopped it, keeping its log`)
    }
    for (const [id, record] of wanted) if (!this.hosted.has(id)) await this.open(record)
  }

  /** Folders of shards this peer kept while it was down and that retired or moved meanwhile. */
  async dropStale(ids: readonly number[]): Promise<void> {
    for (const id of ids) if (!this.hosted.has(id) && this.options.map.dropped(id)) await rm(this.dirOf(id), { recursive: true, force: true }).catch(() => undefined)
  }

  private dirOf(id: number): string {
    return join(this.options.dataDir, 'shards', String(id))
  }

  private async open(record: HostedRecord): Promise<void> {
    const { node, queue, selfId } = this.options
    const name = shardGroupName(queue.name, record.id)
    const others = new Map(record.members.filter((m) => m !== selfId).map((m) => [m, this.options.addressesOf(m).map((a) => (a.includes('/p2p/') ? a : `${a}/p2p/${m}`))]))
    let shard: HostedShard | undefined
    try {
      const group = await RaftGroup.open({
        id: selfId,
        group: name,
        // Never the current members: a member's log, not the map, says who votes now.
        membership: { voters: [...record.founders], learners: [] },
        dir: this.dirOf(record.id),
        onError: this.options.onError,
        log: this.options.log,
        onRoleChange: (role) => {
          if (role === 'leader') shard?.scheduler.wake()
          this.options.onChange?.()
        },
        transport: (receive) => Libp2pRaftTransport.listen(node, name, { members: others }, receive),
      })
      const scheduler = new Scheduler(group, this.options.onError)
      const work = new WorkService(group, queue)
      const submitters = new SubmitterCounts(group.state)
      const admission = new ShardAdmission()
      const service = new QueueService({
        group,
        queue,
        selfId,
        catalog: this.options.catalog,
        pool: this.options.pool,
        status: () => this.status(shard!),
        work,
        wake: () => scheduler.wake(),
        censusAnswer: () => {
          throw new PeerqueueError('E_USAGE', 'census answers go to the root group')
        },
        deploys: this.options.deploys,
        shard: record.id,
        ...(queue.saturation ? { admit: (submitter: string, count: number) => admission.decide(submitter, count, Date.now()) } : {}),
      })
      group.state.onStateChange(() => {
        scheduler.wake()
        this.options.onChange?.()
      })
      // A dead leader's connection closes at once: elect a new one without waiting out the timeout.
      const onDisconnect = (event: CustomEvent<{ toString(): string }>) => group.raft.leaderUnreachable(event.detail.toString())
      node.addEventListener('peer:disconnect', onDisconnect)
      shard = { id: record.id, epoch: record.epoch, members: record.members, group, scheduler, work, service, submitters, admission, unwatch: () => node.removeEventListener('peer:disconnect', onDisconnect) }
      this.hosted.set(record.id, shard)
      this.options.log(`peerqueue: keeping shard ${record.id} (epoch ${record.epoch}, ${record.members.length} members)`)
    } catch (err) {
      this.options.log(`peerqueue: could not open shard ${record.id}: ${errorMessage(err)}`)
    }
  }

  private async stop(shard: HostedShard): Promise<void> {
    shard.scheduler.stop()
    shard.unwatch()
    await shard.group.close().catch(() => undefined)
  }
}
