// The real shell under the simulator: RaftNode with its RaftStorage and write-ahead log, on an
// in-memory disk per node (see memory-fs.ts), running the queue state machine, with messages,
// ticks and syncs all driven by one seeded clock. Where cluster.ts checks the pure Raft core,
// this finds the bugs of the code around it: the order of persist, send and apply, the WAL's
// framing and recovery, snapshots written and read back, a node stopped by a full disk.
import type { ApplyResult, Command } from '../../runtime/src/queue/commands.js'
import type { QueueSnapshot } from '../../runtime/src/queue/state-machine.js'
import { RaftNode } from '../../runtime/src/raft/node.js'
import type { Message, NodeId } from '../../runtime/src/raft/types.js'
import { MemoryFileSystem } from './memory-fs.js'
import { QueueReplica, checkQueueEnd, type QueueEntryData } from './queue-checks.js'
import { Random } from './random.js'

export const SHELL_TICK = 10
const DATA = '/data'

export interface ShellOptions {
  readonly peers: number
  readonly seed: number
  /** Chance a message is dropped, and the most steps one may be delayed (reordering them). */
  readonly drop?: number
  readonly maxDelay?: number
  /** Chance a sync waits for a later step (the window in which a crash loses it). */
  readonly slowSyncs?: number
  /** Entries between snapshots (small, so that snapshots are written, sent and read back often). */
  readonly snapshotEvery?: number
}

class ShellNode {
  raft: RaftNode<ApplyResult> | undefined
  queue = new QueueReplica()
  tick: (() => void) | undefined
  /** Bumped at each boot: messages and callbacks of an earlier incarnation are ignored. */
  incarnation = 0
  /** Set when the node stopped on a storage failure. */
  stoppedAt: number | undefined
  /** Reading its disk after a (re)start. */
  booting = false

  constructor(
    readonly id: NodeId,
    readonly fs: MemoryFileSystem,
    readonly tickOffset: number,
  ) {}

  get up(): boolean {
    return this.raft !== undefined && this.stoppedAt === undefined
  }
}

interface InFlight {
  readonly at: number
  readonly seq: number
  readonly message: Message
}

export class ShellCluster {
  now = 0
  readonly random: Random
  readonly nodes: ShellNode[]
  readonly violations: string[] = []
  /** Enqueued job ids a client was told are stored, with the step it heard it. */
  readonly acknowledged = new Map<string, number>()
  crashes = 0
  diskFulls = 0
  private network: InFlight[] = []
  private seq = 0
  private readonly blocked = new Set<string>()
  private readonly leaders = new Map<number, NodeId>()
  private readonly digests = new Map<number, string>()

  private constructor(readonly options: ShellOptions) {
    this.random = new Random(options.seed)
    this.nodes = Array.from({ length: options.peers }, (_, i) => {
      const fs = new MemoryFileSystem(new Random(options.seed * 7919 + i))
      fs.slowSyncs = options.slowSyncs ?? 0
      return new ShellNode(`n${i + 1}`, fs, this.random.int(0, SHELL_TICK - 1))
    })
  }

  static create(options: ShellOptions): ShellCluster {
    const cluster = new ShellCluster(options)
    for (const node of cluster.nodes) cluster.boot(node)
    return cluster
  }

  node(id: NodeId): ShellNode {
    return this.nodes.find((n) => n.id === id)!
  }

  leader(): ShellNode | undefined {
    const leaders = this.nodes.filter((n) => n.up && n.raft!.isLeader)
    return leaders.sort((a, b) => b.raft!.core.term - a.raft!.core.term)[0]
  }

  // ---- faults ------------------------------------------------------------------------

  /** A power cut: the process is gone and its disk keeps what was durable (and maybe more). */
  crash(id: NodeId): void {
    const node = this.node(id)
    this.endProcess(node)
    node.fs.crash()
    this.crashes += 1
  }

  /** The node's process is gone: its RaftNode, ticks and messages with it. */
  private endProcess(node: ShellNode): void {
    node.raft = undefined
    node.tick = undefined
    node.incarnation += 1
    node.stoppedAt = undefined
    node.booting = false
  }

  /** The disk fills within the next `room` bytes; the node stops when a write crosses it. */
  fillDisk(id: NodeId, room: number): void {
    this.node(id).fs.room = room
    this.diskFulls += 1
  }

  /** Room again, and the node (stopped or not) restarted as its operator would; the page cache survives. */
  freeDiskAndRestart(id: NodeId): void {
    const node = this.node(id)
    node.fs.room = Infinity
    this.endProcess(node)
    // The old process is gone: none of its writes may land after the new one opened the files.
    node.fs.processExit()
    this.boot(node)
  }

  /** Starts a crashed node again; it is up once it has read its disk (during the next steps). */
  restart(id: NodeId): void {
    const node = this.node(id)
    if (!node.raft && !node.booting) this.boot(node)
  }

  partition(a: NodeId, b: NodeId, oneWay = false): void {
    this.blocked.add(`${a}>${b}`)
    if (!oneWay) this.blocked.add(`${b}>${a}`)
  }

  heal(): void {
    this.blocked.clear()
  }

  // ---- clients -----------------------------------------------------------------------

  proposeQueue(via: NodeId, command: Command): boolean {
    const node = this.node(via)
    if (!node.up || !node.raft!.isLeader) return false
    const data: QueueEntryData = { queue: command, time: this.now }
    node.raft!.propose([data]).then(
      ([result]) => {
        if (result?.type !== 'enqueue') return
        for (const outcome of result.outcomes) if (outcome.ok) this.acknowledged.set(outcome.id, this.now)
      },
      () => undefined,
    )
    return true
  }

  // ---- time --------------------------------------------------------------------------

  /** One unit of time: deliver what is due, tick, let slow syncs finish, then let every promise settle. */
  async step(): Promise<void> {
    this.now += 1
    const due = this.network.filter((m) => m.at <= this.now).sort((a, b) => a.at - b.at || a.seq - b.seq)
    this.network = this.network.filter((m) => m.at > this.now)
    for (const { message } of due) {
      const to = this.node(message.to)
      if (to.up) to.raft!.receive(message)
    }
    for (const node of this.nodes) {
      if (node.up && (this.now + node.tickOffset) % SHELL_TICK === 0) node.tick?.()
      if (this.random.chance(0.5)) node.fs.releaseSyncs()
    }
    await settle()
    this.checkLeaders()
  }

  /** Checks that need the run to be over: every acknowledged job is on every node, and events agree. */
  checkEnd(): void {
    for (const node of this.nodes.filter((n) => n.up)) {
      for (const id of this.acknowledged.keys()) {
        if (!node.queue.machine.get(id)) this.violations.push(`durability: ${node.id} does not hold acknowledged job ${id}`)
      }
    }
    checkQueueEnd(this.nodes.filter((n) => n.up).map((n) => ({ id: n.id, queue: n.queue })), this.violations)
  }

  private checkLeaders(): void {
    for (const node of this.nodes) {
      if (!node.up || !node.raft!.isLeader) continue
      const term = node.raft!.core.term
      const other = this.leaders.get(term)
      if (other !== undefined && other !== node.id) this.violations.push(`election safety: ${other} and ${node.id} both lead term ${term}`)
      this.leaders.set(term, node.id)
    }
  }

  private send(from: ShellNode, incarnation: number, messages: readonly Message[]): void {
    if (from.incarnation !== incarnation) return
    for (const message of messages) {
      if (this.blocked.has(`${message.from}>${message.to}`) || this.random.chance(this.options.drop ?? 0)) continue
      // As JSON, the way the libp2p transport carries it: the receiver never shares the sender's objects.
      const copy = JSON.parse(JSON.stringify(message)) as Message
      this.network.push({ at: this.now + 1 + this.random.int(0, this.options.maxDelay ?? 0), seq: this.seq++, message: copy })
    }
  }

  /** Opens the node's storage in the background: it may wait on slow syncs, which only steps release. */
  private boot(node: ShellNode): void {
    node.booting = true
    const incarnation = node.incarnation
    void this.open(node, incarnation).then(
      (raft) => {
        if (node.incarnation !== incarnation) return
        node.booting = false
        node.raft = raft
        raft.start()
      },
      (err: unknown) => {
        if (node.incarnation !== incarnation) return
        node.booting = false
        this.violations.push(`boot: ${node.id} could not open its storage: ${err instanceof Error ? err.message : String(err)}`)
      },
    )
  }

  private open(node: ShellNode, incarnation: number): Promise<RaftNode<ApplyResult>> {
    // Each incarnation applies to a replica of its own, as each process has its own memory.
    const queue = new QueueReplica()
    node.queue = queue
    return RaftNode.open<ApplyResult>({
      id: node.id,
      group: 'sim',
      membership: { voters: this.nodes.map((n) => n.id), learners: [] },
      dir: `${DATA}/${node.id}`,
      fs: node.fs,
      snapshotEvery: this.options.snapshotEvery ?? 40,
      raft: { random: () => this.random.next(), electionTicks: 10 },
      ticker: (tick) => {
        node.tick = tick
        return () => {
          if (node.incarnation === incarnation) node.tick = undefined
        }
      },
      transport: () => ({ send: (messages) => this.send(node, incarnation, messages) }),
      onError: () => {
        if (node.incarnation === incarnation) node.stoppedAt = this.now
      },
      stateMachine: {
        apply: (data, index) => {
          const result = queue.apply(index, data as QueueEntryData, this.violations, node.id)
          const digest = queue.digest()
          const other = this.digests.get(index)
          if (other !== undefined && other !== digest) this.violations.push(`determinism: ${node.id} has another queue state after index ${index}`)
          this.digests.set(index, digest)
          return result
        },
        snapshot: () => queue.machine.snapshot(),
        restore: (data) => queue.reset(data as QueueSnapshot),
      },
    })
  }
}

/** Lets every promise the step started settle: nothing in the simulation waits on a real timer. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
