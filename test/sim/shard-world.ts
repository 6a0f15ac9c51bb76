// A queue of many Raft groups on one simulated network: a root group of three trusted peers
// whose log holds the shard map, and a group per shard, minted as jobs pile up, kept by root
// peers and delegates. The root leader's care (planShards, certificates signed by root members
// whose own map agrees, sealing, retiring, replacing a member gone for good, moving the group to
// the new members one Raft step at a time) runs as the real keeper does; submitters use a shard
// only under a certificate that checks out, from a member it names. Faults hit peers, so a crash
// takes a peer's node down in every group it keeps.
import { createHash } from 'node:crypto'
import type { Command } from '../../runtime/src/queue/commands.js'
import type { NewJob } from '../../runtime/src/queue/job.js'
import { signedBytes, type CertificateBody, type ShardCertificate } from '../../runtime/src/shards/certificate.js'
import { nextConfStep } from '../../runtime/src/shards/reconfigure.js'
import { planShards, type ShardAction, type ShardLoad, type ShardSettings } from '../../runtime/src/shards/shard-planner.js'
import type { ShardRecord } from '../../runtime/src/shards/shard-map.js'
import { Cluster, TICK, type NetworkFaults, type SimNode } from './cluster.js'
import { Random } from './random.js'

export const ROOT_PEERS = ['p1', 'p2', 'p3']
export const DELEGATE_PEERS = ['p4', 'p5', 'p6']
const ALL_PEERS = [...ROOT_PEERS, ...DELEGATE_PEERS]
const WORKERS = ['w1', 'w2', 'w3']
const LEASE_MS = 120
/** A peer down this long without coming back is replaced in the shards it keeps. */
const GONE_AFTER = 300
/** How long a retired shard's group keeps running: its members apply the retirement at different times. */
const RETIRED_RUNS_ON = 60

export const SIM_SHARD_SETTINGS: ShardSettings = { maxJobsPerShard: 10, membersPerShard: 3, maxShards: 8, certificateTtlMs: 200, retireAfterMs: 100 }

/** A simulated signature: only the signer can make it, as far as the simulation is concerned. */
function simSign(signer: string, body: CertificateBody): string {
  return createHash('sha256').update(signer).update(signedBytes(body)).digest('base64')
}

/** The checks a client, worker or delegate makes of a certificate, with simulated signatures. */
export function certificateHolds(c: ShardCertificate, now: number): boolean {
  const signers = new Set(c.signatures.filter((s) => ROOT_PEERS.includes(s.signer) && s.signature === simSign(s.signer, c)).map((s) => s.signer))
  return signers.size >= 2 && c.expiresAt > now
}

function newJob(id: string): NewJob {
  return { id, name: 'plain', payload: '{"json":{}}', priority: 0, idempotencyKey: undefined, retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 20 } }, timeoutMs: 100, delayMs: 0 }
}

export interface WorldOptions {
  readonly seed: number
  readonly faults: Partial<NetworkFaults>
  readonly rates: { readonly crash: number; readonly restart: number; readonly partition: number; readonly heal: number }
  /** When a delegate that keeps a shard goes down for good (undefined: none does). */
  readonly loseDelegateAt?: number
}

export class ShardWorld {
  readonly random: Random
  readonly root: Cluster
  /** Every shard's group, live or retired, by id. */
  readonly groups = new Map<number, Cluster>()
  readonly retired = new Map<number, number>()
  readonly violations: string[] = []
  readonly issued: ShardCertificate[] = []
  readonly down = new Set<string>()
  private readonly downSince = new Map<string, number>()
  lost: string | undefined
  private readonly blocked: [string, string][] = []
  private readonly emptySince = new Map<number, number>()
  /** Job id → the shard it was sent to. */
  readonly sent = new Map<string, number>()
  private nextJob = 0
  /** Enqueues on their way: a slow network or a paused client delivers one long after it chose its shard. */
  private readonly inFlight: { readonly at: number; readonly shard: number; readonly id: string }[] = []
  certificatesRefused = 0
  replacements = 0
  renewals = 0

  constructor(readonly options: WorldOptions) {
    this.random = new Random(options.seed)
    this.root = this.makeCluster(ROOT_PEERS, ROOT_PEERS, 0)
  }

  get now(): number {
    return this.root.now
  }

  private makeCluster(ids: readonly string[], voters: readonly string[], startAt: number): Cluster {
    return new Cluster({ peers: ids.length, ids, voters, seed: this.random.int(1, 2 ** 30), faults: this.options.faults, startAt, maxEntriesPerMessage: 4, slowDisk: 0.3 })
  }

  /**
   * The groups still running. A retired shard's members close its group as each applies the
   * retirement, so the group runs on a little after the root commits it: a job it takes then is lost.
   */
  private clusters(): Cluster[] {
    return [this.root, ...[...this.groups].filter(([id]) => this.now - (this.retired.get(id) ?? Infinity) < RETIRED_RUNS_ON).map(([, c]) => c)]
  }

  step(calm: boolean): void {
    if (!calm) this.faults()
    for (const cluster of this.clusters()) cluster.step()
    this.openNewGroups()
    if (this.now % TICK === 0) this.keep()
    if (!calm) this.submit()
    this.work()
  }

  /** Heals the network and brings every peer back but the one lost for good. */
  calm(): void {
    this.blocked.length = 0
    for (const cluster of [this.root, ...this.groups.values()]) {
      cluster.heal()
      cluster.faults = { drop: 0, duplicate: 0, maxDelay: 0 }
    }
    for (const peer of [...this.down]) if (peer !== this.lost) this.restart(peer)
  }

  /** Every job stored anywhere is final, and every shard's group has the members its map names. */
  settled(): boolean {
    const map = this.rootMap()
    if (!map) return false
    for (const record of map.live()) {
      const leader = this.groups.get(record.id)?.leader()
      if (!leader?.core) return false
      const { voters, learners } = leader.core.membership
      if (learners.length > 0 || voters.length !== record.members.length || voters.some((v) => !record.members.includes(v))) return false
      if (record.members.includes(this.lost ?? '')) return false
      if (leader.queue.machine.activeCount() > 0) return false
    }
    return true
  }

  private rootLeader(): SimNode | undefined {
    const leader = this.root.leader()
    return leader?.core?.isLeader ? leader : undefined
  }

  private rootMap() {
    return this.rootLeader()?.queue.machine.shards
  }

  // ---- faults, by peer: a peer's crash takes down its node in every group ------------------

  private faults(): void {
    const r = this.random
    const { rates } = this.options
    if (r.chance(rates.crash)) {
      const up = ALL_PEERS.filter((p) => !this.down.has(p))
      // Never more than one root peer down at once by crash: the root keeps a majority, as it must for anything to move.
      const victim = r.pick(up)
      if (!(ROOT_PEERS.includes(victim) && ROOT_PEERS.some((p) => this.down.has(p)))) this.crash(victim)
    }
    if (r.chance(rates.restart)) {
      const down = [...this.down].filter((p) => p !== this.lost)
      if (down.length > 0) this.restart(r.pick(down))
    }
    if (r.chance(rates.partition)) {
      const a = r.pick(ALL_PEERS)
      const b = r.pick(ALL_PEERS)
      if (a !== b) {
        this.blocked.push([a, b])
        for (const cluster of this.clusters()) if (cluster.nodes.some((n) => n.id === a) && cluster.nodes.some((n) => n.id === b)) cluster.partition(a, b)
      }
    }
    // The root split in three: no majority signs, so certificates lapse until the network heals.
    if (r.chance(rates.partition / 4)) {
      for (const [a, b] of [['p1', 'p2'], ['p1', 'p3'], ['p2', 'p3']] as const) {
        this.blocked.push([a, b])
        for (const cluster of this.clusters()) cluster.partition(a, b)
      }
    }
    if (r.chance(rates.heal)) {
      this.blocked.length = 0
      for (const cluster of this.clusters()) cluster.heal()
    }
    if (this.options.loseDelegateAt !== undefined && this.lost === undefined && this.now >= this.options.loseDelegateAt) {
      const keeping = DELEGATE_PEERS.filter((p) => this.rootMap()?.live().some((s) => s.members.includes(p)))
      if (keeping.length > 0) {
        this.lost = r.pick(keeping)
        this.crash(this.lost)
      }
    }
  }

  private crash(peer: string): void {
    this.down.add(peer)
    this.downSince.set(peer, this.now)
    for (const cluster of this.clusters()) if (cluster.nodes.some((n) => n.id === peer)) cluster.crash(peer)
  }

  private restart(peer: string): void {
    this.down.delete(peer)
    this.downSince.delete(peer)
    for (const cluster of this.clusters()) if (cluster.nodes.some((n) => n.id === peer)) cluster.restart(peer)
  }

  private partitioned(a: string, b: string): boolean {
    return this.blocked.some(([x, y]) => (x === a && y === b) || (x === b && y === a))
  }

  // ---- groups appear as the root's log mints them -------------------------------------------

  private openNewGroups(): void {
    for (const node of this.root.nodes) {
      for (const record of node.queue.machine.shards.all()) {
        if (this.groups.has(record.id)) continue
        const group = this.makeCluster(ALL_PEERS, record.founders, this.now)
        for (const peer of this.down) group.crash(peer)
        for (const [a, b] of this.blocked) group.partition(a, b)
        this.groups.set(record.id, group)
      }
    }
  }

  // ---- the root leader's keeper -------------------------------------------------------------

  private keep(): void {
    const leader = this.rootLeader()
    if (!leader) return
    const machine = leader.queue.machine
    // The root holds only the map here: it starts drained, so every job goes to a shard.
    if (machine.shards.rootState === 'open') {
      this.root.proposeQueue(leader.id, { type: 'shard-drain', id: 0 })
      return
    }
    const loads = new Map<number, ShardLoad>()
    for (const record of machine.shards.live()) {
      const shardLeader = this.groups.get(record.id)?.leader()
      if (!shardLeader?.core?.isLeader || this.partitioned(leader.id, shardLeader.id)) continue
      const state = shardLeader.queue.machine
      loads.set(record.id, { unfinished: state.activeCount(), queued: state.countByState().queued, sealed: state.sealed, voters: [...shardLeader.core.membership.voters, ...shardLeader.core.membership.learners] })
      if (state.sealed && state.activeCount() === 0) {
        if (!this.emptySince.has(record.id)) this.emptySince.set(record.id, this.now)
      } else this.emptySince.delete(record.id)
    }
    const gone = new Set([...this.downSince].filter(([p, since]) => !ROOT_PEERS.includes(p) && this.now - since >= GONE_AFTER).map(([p]) => p))
    const actions = planShards({
      rootState: machine.shards.rootState,
      // The root keeps no jobs here: always full, so clients go to shards.
      rootUnfinished: SIM_SHARD_SETTINGS.maxJobsPerShard,
      shards: machine.shards.live(),
      loads,
      emptySince: this.emptySince,
      candidates: ALL_PEERS.filter((p) => !this.down.has(p)),
      nextId: machine.shards.nextId,
      gone,
      settings: SIM_SHARD_SETTINGS,
      now: this.now,
    })
    for (const action of actions) this.act(leader, action)
  }

  private act(leader: SimNode, action: ShardAction): void {
    const propose = (command: Command) => this.root.proposeQueue(leader.id, command)
    const shardLeader = 'id' in action ? this.groups.get(action.id)?.leader() : undefined
    switch (action.type) {
      case 'mint':
        propose({ type: 'shard-mint', members: action.members })
        return
      case 'certify':
        return this.certify(leader, action.id)
      case 'drain':
        propose({ type: 'shard-drain', id: action.id })
        return
      case 'reopen':
        return
      case 'seal':
        if (shardLeader) this.groups.get(action.id)!.proposeQueue(shardLeader.id, { type: 'seal' })
        return
      case 'retire': {
        // Retired only once its leader reported it sealed and empty: nothing unfinished may be left on any member.
        propose({ type: 'shard-retire', id: action.id })
        return
      }
      case 'replace':
        this.replacements++
        propose({ type: 'shard-members', id: action.id, members: action.members })
        return
      case 'reconfigure': {
        const core = shardLeader?.core
        if (!core?.isLeader) return
        const match = new Map(core.followers().map((f) => [f.id, f.match]))
        const step = nextConfStep({ id: shardLeader!.id, membership: core.membership, match, lastIndex: core.log.lastIndex() }, action.members)
        try {
          if (step && 'change' in step) core.proposeConfChange(step.change)
          else if (step) core.transferLeadership(step.transferTo)
        } catch {
          // A change still in flight, or a transfer under way: the next round tries again.
        }
        return
      }
    }
  }

  /** Signed by the leader and every root member it reaches whose own map agrees; written only with a majority. */
  private certify(leader: SimNode, id: number): void {
    const record = leader.queue.machine.shards.get(id)
    if (!record || record.state === 'retired') return
    const body: CertificateBody = { queue: 'sim', shard: id, members: [...record.members], epoch: record.epoch, expiresAt: this.now + SIM_SHARD_SETTINGS.certificateTtlMs }
    const signatures = ROOT_PEERS.filter((p) => {
      if (p !== leader.id && (this.down.has(p) || this.partitioned(leader.id, p))) return false
      const theirs = this.root.node(p).queue.machine.shards.get(id)
      return theirs !== undefined && theirs.epoch === record.epoch && theirs.state !== 'retired' && theirs.members.join() === record.members.join()
    }).map((signer) => ({ signer, signature: simSign(signer, body) }))
    if (signatures.length < 2) return
    const certificate = { ...body, signatures }
    if (record.certificate) this.renewals++
    this.issued.push(certificate)
    this.root.proposeQueue(leader.id, { type: 'shard-certify', certificate })
  }

  // ---- submitters and workers ------------------------------------------------------------------

  private submit(): void {
    const r = this.random
    for (const due of this.inFlight.filter((f) => f.at <= this.now)) this.deliver(due.shard, due.id)
    this.inFlight.splice(0, this.inFlight.length, ...this.inFlight.filter((f) => f.at > this.now))
    if (!r.chance(0.12)) return
    const leader = this.rootLeader()
    if (!leader) return
    const open = leader.queue.machine.shards.live().filter((s): s is ShardRecord & { certificate: ShardCertificate } => s.state === 'open' && s.certificate !== undefined)
    if (open.length === 0) return
    const shard = r.pick(open)
    const shardLeader = this.groups.get(shard.id)?.leader()
    if (!shardLeader?.core?.isLeader) return
    // A client takes a shard's leader only under a certificate that holds and names it.
    if (!certificateHolds(shard.certificate, this.now) || !shard.certificate.members.includes(shardLeader.id)) {
      this.certificatesRefused++
      return
    }
    // Sometimes a retry of an earlier job to the same shard: it must not make a second job.
    const earlier = [...this.sent].filter(([, s]) => s === shard.id)
    const id = r.chance(0.1) && earlier.length > 0 ? r.pick(earlier)[0] : `${shard.id}.j${this.nextJob++}`
    this.sent.set(id, shard.id)
    if (r.chance(0.15)) this.inFlight.push({ at: this.now + r.int(1, 1_200), shard: shard.id, id })
    else this.deliver(shard.id, id)
  }

  /** To the shard's leader now, if its group still runs (a retired group's members refuse it). */
  private deliver(shard: number, id: string): void {
    const group = this.groups.get(shard)
    if (!group || !this.clusters().includes(group)) return
    const leader = group.leader()
    if (leader?.core?.isLeader) group.proposeQueue(leader.id, { type: 'enqueue', jobs: [newJob(id)], maxQueuedJobs: 10_000 })
  }

  private work(): void {
    const r = this.random
    for (const [id, group] of this.groups) {
      if (this.retired.has(id) || !r.chance(0.1)) continue
      const leader = group.leader()
      if (!leader?.core?.isLeader) continue
      const state = leader.queue.machine
      const roll = r.next()
      if (roll < 0.45) group.proposeQueue(leader.id, { type: 'lease', worker: r.pick(WORKERS), count: r.int(1, 3), leaseMs: LEASE_MS, exclude: [] })
      else if (roll < 0.9) {
        const held = state.list({ state: 'leased', limit: 20 })
        if (held.length === 0) continue
        const job = r.pick(held)
        const ref = { jobId: job.id, attempt: r.chance(0.9) ? job.attempt : job.attempt - 1 }
        const worker = r.chance(0.9) ? job.lease!.worker : r.pick(WORKERS)
        if (r.chance(0.85)) group.proposeQueue(leader.id, { type: 'complete', worker, job: ref, result: '{"json":1}' })
        else group.proposeQueue(leader.id, { type: 'fail', worker, job: ref, error: { name: 'E', message: 'simulated', retryable: true } })
      } else group.proposeQueue(leader.id, { type: 'advance' })
    }
    // A retirement applied by the root: the shard's group stops, and must have had nothing unfinished.
    const map = this.rootMap()
    for (const record of map?.all() ?? []) {
      if (record.state !== 'retired' || this.retired.has(record.id)) continue
      this.retired.set(record.id, this.now)
      const group = this.groups.get(record.id)
      for (const node of group?.nodes ?? []) {
        if (!node.core || !record.members.includes(node.id)) continue
        const unfinished = node.queue.machine.activeCount()
        // A member that lagged may not have applied everything; the leader's copy is the one that must be empty.
        if (node.core.isLeader && unfinished > 0) this.violations.push(`retire: shard ${record.id} retired with ${unfinished} unfinished job(s) on its leader ${node.id}`)
      }
    }
  }

  // ---- the end ---------------------------------------------------------------------------------

  check(): void {
    for (const [id, cluster] of [[0, this.root] as const, ...this.groups]) for (const v of new Set(cluster.violations)) this.violations.push(`${id === 0 ? 'root' : `shard ${id}`}: ${v}`)
    // Certificates: one set of members per shard and epoch, and each signed by a majority whose maps agreed.
    const membersOf = new Map<string, string>()
    for (const c of this.issued) {
      const key = `${c.shard}/${c.epoch}`
      const members = c.members.join()
      if (membersOf.has(key) && membersOf.get(key) !== members) this.violations.push(`certificates: shard ${c.shard} epoch ${c.epoch} certified for ${membersOf.get(key)} and for ${members}`)
      membersOf.set(key, members)
    }
    // The map holds, for each shard, only a certificate of its current epoch and members.
    for (const node of this.root.nodes) {
      for (const record of node.queue.machine.shards.live()) {
        const c = record.certificate
        if (c && (c.epoch !== record.epoch || c.members.join() !== record.members.join())) this.violations.push(`map: ${node.id} holds for shard ${record.id} (epoch ${record.epoch}) a certificate of epoch ${c.epoch} for ${c.members.join(', ')}`)
      }
    }
    // No job in two shards, and every job where its id says.
    const holders = new Map<string, Set<number>>()
    for (const [id, group] of this.groups) {
      for (const node of group.nodes) {
        for (const job of node.queue.machine.list({ limit: 1_000_000 })) {
          const set = holders.get(job.id) ?? new Set<number>()
          set.add(id)
          holders.set(job.id, set)
        }
      }
    }
    for (const [job, shards] of holders) {
      if (shards.size > 1) this.violations.push(`placement: job ${job} is in shards ${[...shards].join(', ')}`)
      if (Number(job.split('.')[0]) !== [...shards][0]) this.violations.push(`placement: job ${job} is in shard ${[...shards][0]}`)
    }
    // Every job a shard stored ended (completed or dead) on the shard's leader, live or retired when empty.
    for (const [id, group] of this.groups) {
      if (this.retired.has(id)) {
        for (const node of group.nodes) {
          const lost = node.queue.machine.list({ limit: 1_000_000 }).filter((j) => !['completed', 'dead', 'cancelled'].includes(j.state))
          if (lost.length > 0 && node.core && node.queue.machine.appliedIndex === Math.max(...group.nodes.map((n) => n.queue.machine.appliedIndex))) {
            this.violations.push(`lost: shard ${id} retired holding ${lost.length} unfinished job(s) (${lost[0]!.id}, ${lost[0]!.state}) on ${node.id}`)
          }
        }
        continue
      }
      const leader = group.leader()
      if (!leader) {
        this.violations.push(`liveness: shard ${id} has no leader at the end`)
        continue
      }
      const unfinished = leader.queue.machine.activeCount()
      if (unfinished > 0) this.violations.push(`liveness: shard ${id} still has ${unfinished} unfinished job(s) at the end`)
    }
  }
}
