// An in-process Raft cluster on a simulated network and disks, driven one time unit at a time.
// Scenario tests script it; the random simulator drives it with seeded faults. Every step it
// checks the Raft safety properties and records a client history for the linearizability check.
import { RaftCore } from '../../runtime/src/raft/core.js'
import { DEFAULT_RAFT_CONFIG, sendsBeforePersist, type LogEntry, type Membership, type Message, type NodeId, type Ready, type Snapshot } from '../../runtime/src/raft/types.js'
import { KvMachine, type KvCommand, type KvSnapshot } from './kv.js'
import { QueueReplica, isQueueEntry } from './queue-checks.js'
import type { Command } from '../../runtime/src/queue/commands.js'
import type { QueueSnapshot } from '../../runtime/src/queue/state-machine.js'
import type { KvInput, KvOutput, Operation } from './linearizability.js'
import { Random } from './random.js'
import { SimStorage } from './storage.js'

export const TICK = 10

export interface NetworkFaults {
  drop: number
  duplicate: number
  /** Extra delivery delay, in time units, drawn uniformly up to this (reorders messages). */
  maxDelay: number
}

export interface ClusterOptions {
  readonly peers: number
  readonly seed: number
  readonly faults?: Partial<NetworkFaults>
  readonly compactEvery?: number
  readonly electionTicks?: number
  readonly leaseReads?: boolean
  readonly preVote?: boolean
  readonly checkQuorum?: boolean
  /** Chance, each step, that a write is still waiting for its fsync (the crash window). */
  readonly slowDisk?: number
  /** Chance, each fsync, that the disk fills mid-write: part of it lands and the node stops. */
  readonly diskFull?: number
  /** Small batches make acknowledgements stop at old-term entries, where commit-rule bugs show. */
  readonly maxEntriesPerMessage?: number
  readonly maxBytesPerMessage?: number
  /** Node ids (default n1…n<peers>). */
  readonly ids?: readonly NodeId[]
  /** The first configuration's voters (default every node); the others wait to be added. */
  readonly voters?: readonly NodeId[]
  /** Where the clock starts: a group made later in a run starts at the run's time. */
  readonly startAt?: number
}

interface InFlight {
  readonly at: number
  readonly seq: number
  readonly message: Message
}

export class SimNode {
  core: RaftCore | undefined
  kv = new KvMachine()
  readonly queue = new QueueReplica()
  readonly storage = new SimStorage()
  pending: Ready | undefined
  readonly tickOffset: number

  constructor(
    readonly id: NodeId,
    tickOffset: number,
  ) {
    this.tickOffset = tickOffset
  }

  get up(): boolean {
    return this.core !== undefined
  }

  get syncing(): boolean {
    return this.pending !== undefined
  }
}

interface PendingWrite {
  readonly op: Operation<KvInput, KvOutput> & { output: KvOutput | undefined; ret: number }
  readonly command: KvCommand
  readonly deadline: number
  node: NodeId
  retries: number
}

interface PendingRead {
  readonly op: Operation<KvInput, KvOutput> & { output: KvOutput | undefined; ret: number }
  readonly node: NodeId
  readonly ctx: string
  index: number | undefined
  readonly deadline: number
}

export class Cluster {
  now = 0
  readonly nodes: SimNode[]
  readonly random: Random
  readonly violations: string[] = []
  readonly history: (Operation<KvInput, KvOutput> & { output: KvOutput | undefined; ret: number })[] = []
  elections = 0
  diskFulls = 0
  /** Digests of the queue state by log index, to check every replica reaches the same one. */
  readonly queueDigests = new Map<number, string>()
  queueApplied = 0
  /** See ClusterOptions.diskFull; the calm phase of a run sets it to 0. */
  diskFull: number
  faults: NetworkFaults
  private readonly blocked = new Set<string>()
  /** Scenarios script which messages are lost, by kind as well as by link (a vote passes, an append does not). */
  dropIf: ((message: Message) => boolean) | undefined
  private network: InFlight[] = []
  private sendSeq = 0
  private readonly leaders = new Map<number, NodeId>()
  private readonly committed = new Map<number, string>()
  private readonly recordedThrough = new Map<NodeId, number>()
  private readonly checkedPairs = new Map<string, string>()
  private readonly applied = new Map<number, string>()
  private readonly writes = new Map<string, PendingWrite>()
  private readonly readsPending = new Map<string, PendingRead>()
  private nextClientSeq = new Map<number, number>()
  private readCounter = 0
  readonly initial: Membership

  constructor(readonly options: ClusterOptions) {
    this.random = new Random(options.seed)
    this.faults = { drop: 0, duplicate: 0, maxDelay: 0, ...options.faults }
    this.diskFull = options.diskFull ?? 0
    this.nodes = (options.ids ?? Array.from({ length: options.peers }, (_, i) => `n${i + 1}`)).map((id) => new SimNode(id, this.random.int(0, TICK - 1)))
    this.initial = { voters: [...(options.voters ?? this.nodes.map((n) => n.id))], learners: [] }
    this.now = options.startAt ?? 0
    for (const node of this.nodes) this.boot(node)
  }

  node(id: NodeId): SimNode {
    return this.nodes.find((n) => n.id === id)!
  }

  leader(): SimNode | undefined {
    const leaders = this.nodes.filter((n) => n.core?.isLeader)
    return leaders.sort((a, b) => b.core!.term - a.core!.term)[0]
  }

  get committedCount(): number {
    return this.committed.size
  }

  // ---- faults ------------------------------------------------------------------------

  crash(id: NodeId): void {
    const node = this.node(id)
    this.recordedThrough.delete(id)
    this.checkedPairs.clear()
    node.core = undefined
    node.pending = undefined
    node.storage.crash()
    node.kv = new KvMachine()
  }

  restart(id: NodeId): void {
    const node = this.node(id)
    if (!node.up) this.boot(node)
  }

  /** Cuts the link from a to b (and b to a unless one-way). */
  partition(a: NodeId, b: NodeId, oneWay = false): void {
    this.blocked.add(`${a}>${b}`)
    if (!oneWay) this.blocked.add(`${b}>${a}`)
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes) if (other.id !== id) this.partition(id, other.id)
  }

  heal(): void {
    this.blocked.clear()
  }

  // ---- clients -----------------------------------------------------------------------

  /** A client writes key=value through `via` (the leader it believes in). False if `via` refused at once. */
  write(client: number, key: string, value: string, via: NodeId, timeout = 40 * TICK): boolean {
    const seq = (this.nextClientSeq.get(client) ?? 0) + 1
    const command: KvCommand = { client, seq, key, value }
    if (!this.proposeTo(via, command)) return false
    this.nextClientSeq.set(client, seq)
    const op = { client, input: { kind: 'put' as const, key, value }, output: undefined, call: this.now, ret: Infinity }
    this.history.push(op)
    this.writes.set(`${client}:${seq}`, { op, command, deadline: this.now + timeout, node: via, retries: 0 })
    return true
  }

  /** Resends a client's unanswered write with the same sequence number (it must apply once). */
  retryWrite(client: number, via: NodeId): boolean {
    const pending = [...this.writes.values()].find((w) => w.command.client === client)
    if (!pending || !this.proposeTo(via, pending.command)) return false
    pending.node = via
    pending.retries += 1
    return true
  }

  read(client: number, key: string, via: NodeId, timeout = 40 * TICK): boolean {
    const node = this.node(via)
    if (!node.core?.isLeader) return false
    const ctx = `r${++this.readCounter}`
    try {
      node.core.readIndex(ctx)
    } catch {
      return false
    }
    const op = { client, input: { kind: 'get' as const, key }, output: undefined, call: this.now, ret: Infinity }
    this.readsPending.set(ctx, { op, node: via, ctx, index: undefined, deadline: this.now + timeout })
    return true
  }

  hasPendingWrite(client: number): boolean {
    return [...this.writes.values()].some((w) => w.command.client === client)
  }

  hasPendingRead(client: number): boolean {
    return [...this.readsPending.values()].some((r) => r.op.client === client)
  }

  // ---- time --------------------------------------------------------------------------

  step(): void {
    this.now += 1
    this.deliver()
    for (const node of this.nodes) {
      if (node.core && this.now % TICK === node.tickOffset) node.core.tick()
    }
    for (const node of this.nodes) this.handleReady(node)
    this.expireClientOps()
    this.checkInvariants()
  }

  run(steps: number): void {
    for (let i = 0; i < steps; i++) this.step()
  }

  /** Runs until `done` holds or `maxSteps` pass; returns whether it held. */
  runUntil(done: () => boolean, maxSteps = 5_000): boolean {
    for (let i = 0; i < maxSteps; i++) {
      if (done()) return true
      this.step()
    }
    return done()
  }

  // ---- internals ---------------------------------------------------------------------

  private boot(node: SimNode): void {
    const restored = node.storage.restored(this.initial)
    node.kv = new KvMachine()
    this.restoreMachines(node, restored.snapshot?.data)
    node.core = new RaftCore(
      {
        ...DEFAULT_RAFT_CONFIG,
        id: node.id,
        group: 'sim',
        electionTicks: this.options.electionTicks ?? DEFAULT_RAFT_CONFIG.electionTicks,
        leaseReads: this.options.leaseReads ?? false,
        preVote: this.options.preVote ?? true,
        checkQuorum: this.options.checkQuorum ?? true,
        maxEntriesPerMessage: this.options.maxEntriesPerMessage ?? 4,
        maxBytesPerMessage: this.options.maxBytesPerMessage ?? DEFAULT_RAFT_CONFIG.maxBytesPerMessage,
        maxInflightMessages: 8,
        random: () => this.random.next(),
      },
      restored,
    )
  }

  /** A queue command proposed by `via` if it leads, stamped with the simulated clock. */
  proposeQueue(via: NodeId, command: Command): boolean {
    const core = this.node(via).core
    if (!core?.isLeader) return false
    try {
      core.propose([{ queue: command, time: this.now }])
      return true
    } catch {
      return false
    }
  }

  private restoreMachines(node: SimNode, data: unknown): void {
    const saved = data as { kv: KvSnapshot; queue: QueueSnapshot } | undefined
    if (saved?.kv) node.kv.restore(saved.kv)
    node.queue.reset(saved?.queue)
  }

  private proposeTo(via: NodeId, command: KvCommand): boolean {
    const core = this.node(via).core
    if (!core?.isLeader) return false
    try {
      core.propose([command])
      return true
    } catch {
      return false
    }
  }

  private deliver(): void {
    if (this.network.length === 0) return
    const due = this.network.filter((f) => f.at <= this.now).sort((a, b) => a.at - b.at || a.seq - b.seq)
    if (due.length === 0) return
    this.network = this.network.filter((f) => f.at > this.now)
    for (const { message } of due) this.node(message.to).core?.step(message)
  }

  private send(message: Message): void {
    if (this.blocked.has(`${message.from}>${message.to}`) || this.dropIf?.(message) || this.random.chance(this.faults.drop)) return
    const copies = this.random.chance(this.faults.duplicate) ? 2 : 1
    for (let i = 0; i < copies; i++) {
      const at = this.now + 1 + (this.faults.maxDelay > 0 ? this.random.int(0, this.faults.maxDelay) : 0)
      this.network.push({ at, seq: this.sendSeq++, message })
    }
  }

  /** Two phases, possibly a step apart, so a crash can fall between the write and the fsync. */
  private handleReady(node: SimNode): void {
    const core = node.core
    if (!core) return
    if (!node.pending) {
      if (!core.hasReady()) return
      node.pending = core.ready()
      // A leader's appends leave while its own write is under way (the Ready contract allows it).
      for (const message of node.pending.messages) if (sendsBeforePersist(message)) this.send(message)
      node.storage.write(node.pending)
    }
    if (this.random.chance(this.options.slowDisk ?? 0.3)) return
    const ready = node.pending
    node.pending = undefined
    if (this.random.chance(this.diskFull)) {
      // The real shell stops its group on a failed write: nothing of this Ready is sent or applied.
      node.storage.syncShort(ready, this.random)
      this.diskFulls += 1
      this.crash(node.id)
      return
    }
    node.storage.sync()
    for (const message of ready.messages) if (!sendsBeforePersist(message)) this.send(message)
    if (ready.snapshot) this.restoreMachines(node, ready.snapshot.data)
    for (const entry of ready.committed) this.apply(node, entry)
    for (const read of ready.reads) {
      const pending = this.readsPending.get(read.ctx)
      if (pending) pending.index = read.index
    }
    core.advance(ready)
    this.serveReads(node)
    this.maybeCompact(node)
  }

  private apply(node: SimNode, entry: LogEntry): void {
    const key = entryKey(entry)
    const seen = this.applied.get(entry.index)
    if (seen !== undefined && seen !== key) this.violations.push(`state machine safety: ${node.id} applied ${key} at ${entry.index}, another node applied ${seen}`)
    this.applied.set(entry.index, key)
    if (entry.kind !== 'data') return
    if (isQueueEntry(entry.data)) {
      node.queue.apply(entry.index, entry.data, this.violations, node.id)
      if (entry.index % 16 === 0) {
        const digest = node.queue.digest()
        const other = this.queueDigests.get(entry.index)
        if (other !== undefined && other !== digest) this.violations.push(`queue determinism: ${node.id} has another queue state after index ${entry.index}`)
        this.queueDigests.set(entry.index, digest)
      }
      this.queueApplied += 1
      return
    }
    const command = entry.data as KvCommand
    node.kv.apply(command)
    const pending = this.writes.get(`${command.client}:${command.seq}`)
    if (pending && pending.node === node.id) {
      pending.op.output = { value: null }
      pending.op.ret = this.now
      this.writes.delete(`${command.client}:${command.seq}`)
    }
  }

  private serveReads(node: SimNode): void {
    for (const [ctx, read] of this.readsPending) {
      if (read.node !== node.id || read.index === undefined || node.core!.log.applied < read.index) continue
      read.op.output = { value: node.kv.data.get(read.op.input.key) ?? null }
      read.op.ret = this.now
      this.history.push(read.op)
      this.readsPending.delete(ctx)
    }
  }

  private maybeCompact(node: SimNode): void {
    const core = node.core!
    const every = this.options.compactEvery ?? 0
    const applied = core.log.applied
    if (every <= 0 || applied - (core.log.firstIndex() - 1) < every) return
    core.compact(applied, { kv: node.kv.snapshot(), queue: node.queue.machine.snapshot() })
    node.storage.compact(core.log.snapshot as Snapshot)
  }

  private expireClientOps(): void {
    for (const [key, write] of this.writes) {
      if (this.now < write.deadline) continue
      // The outcome stays unknown; the history says when the client stopped waiting.
      ;(write.op as { gaveUpAt?: number }).gaveUpAt = this.now
      this.writes.delete(key)
    }
    for (const [ctx, read] of this.readsPending) if (this.now >= read.deadline) this.readsPending.delete(ctx) // a read with no answer had no effect
  }

  private onNewLeader(node: SimNode): void {
    this.elections += 1
    const core = node.core!
    for (const [index, key] of this.committed) {
      if (index < core.log.firstIndex()) continue
      const entry = index <= core.log.lastIndex() ? core.log.slice(index, index)[0] : undefined
      if (!entry || entryKey(entry) !== key) this.violations.push(`leader completeness: ${node.id} leads term ${core.term} without committed entry ${index}`)
    }
  }

  private checkInvariants(): void {
    const up = this.nodes.filter((n) => n.core)
    for (const node of up) {
      const core = node.core!
      if (core.isLeader) {
        if (this.leaders.get(core.term) === undefined) this.onNewLeader(node)
        const other = this.leaders.get(core.term)
        if (other !== undefined && other !== node.id) this.violations.push(`election safety: ${other} and ${node.id} both lead term ${core.term}`)
        this.leaders.set(core.term, node.id)
      }
      this.recordCommitted(node)
    }
    for (let i = 0; i < up.length; i++) for (let j = i + 1; j < up.length; j++) this.checkLogMatching(up[i]!, up[j]!)
  }

  private recordCommitted(node: SimNode): void {
    const log = node.core!.log
    const from = Math.max(log.firstIndex(), (this.recordedThrough.get(node.id) ?? 0) + 1)
    this.recordedThrough.set(node.id, log.committed)
    for (let index = from; index <= log.committed; index++) {
      const key = entryKey(log.slice(index, index)[0]!)
      const seen = this.committed.get(index)
      if (seen === undefined) this.committed.set(index, key)
      else if (seen !== key) this.violations.push(`committed entries differ at ${index}: ${seen} on one node, ${key} on ${node.id}`)
    }
  }

  /** Log matching: where two logs hold an entry with the same index and term, they agree on everything before it. */
  private checkLogMatching(a: SimNode, b: SimNode): void {
    const la = a.core!.log
    const lb = b.core!.log
    const versions = `${la.version}:${la.firstIndex()}/${lb.version}:${lb.firstIndex()}`
    if (this.checkedPairs.get(`${a.id}|${b.id}`) === versions) return
    this.checkedPairs.set(`${a.id}|${b.id}`, versions)
    const lo = Math.max(la.firstIndex(), lb.firstIndex())
    let agreed = false
    for (let index = Math.min(la.lastIndex(), lb.lastIndex()); index >= lo; index--) {
      const ea = la.slice(index, index)[0]!
      const eb = lb.slice(index, index)[0]!
      if (ea.term === eb.term) {
        if (entryKey(ea) !== entryKey(eb)) this.violations.push(`log matching: ${a.id} and ${b.id} differ at ${index} in term ${ea.term}`)
        agreed = true
      } else if (agreed) {
        this.violations.push(`log matching: ${a.id} and ${b.id} agree after ${index} but not at it`)
        return
      }
    }
  }
}

function entryKey(entry: LogEntry): string {
  if (entry.kind === 'data' && isQueueEntry(entry.data)) return `${entry.term}:q:${JSON.stringify(entry.data)}`
  if (entry.kind === 'data') {
    const c = entry.data as KvCommand
    return `${entry.term}:d:${c.client}:${c.seq}:${c.key}=${c.value}`
  }
  if (entry.kind === 'conf') return `${entry.term}:c:${entry.change.type}:${entry.change.node}`
  return `${entry.term}:noop`
}
