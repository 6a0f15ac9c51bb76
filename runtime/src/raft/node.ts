// The shell around the pure Raft core for a real process: a timer for ticks, the durable log,
// a transport, and the application's state machine. It handles each Ready in the order the
// type prescribes (persist, send, apply, advance); proposals that arrive while a Ready is on its
// way to disk go into the next one, so one fsync covers many entries.
import { PeerqueueError, storageFailure } from '../errors.js'
import { RaftCore } from './core.js'
import { RaftStorage } from './raft-storage.js'
import type { FileSystem } from '../fs/file-system.js'
import type { Transport } from './transport.js'
import { DEFAULT_RAFT_CONFIG, sendsBeforePersist, type ConfChange, type LogEntry, type Membership, type Message, type NodeId, type RaftConfig, type Ready, type Role } from './types.js'

export interface StateMachine<Result> {
  apply(data: unknown, index: number): Result
  snapshot(): unknown
  restore(data: unknown): void
  /** About how many records a snapshot holds: snapshots come no more often than that many entries, so their cost per entry stays bounded. */
  size?(): number
}

export interface RaftNodeOptions<Result> {
  readonly id: NodeId
  readonly group: string
  readonly membership: Membership
  readonly dir: string
  readonly stateMachine: StateMachine<Result>
  readonly transport: (node: RaftNode<Result>) => Transport
  /** Milliseconds per Raft tick (default 25: heartbeats every 25 ms, elections after 200-400 ms). */
  readonly tickMs?: number
  readonly raft?: Partial<Omit<RaftConfig, 'id' | 'group'>>
  readonly snapshotEvery?: number
  readonly groupCommit?: boolean
  /** Where log and snapshot live: tests pass a disk whose writes fail, the simulator one in memory. */
  readonly fs?: FileSystem
  readonly onError?: (err: unknown) => void
  /** Called when this node's role, term or known leader changes. */
  readonly onRoleChange?: (role: Role, term: number, leader: NodeId | undefined) => void
  /** Calls `tick` every `everyMs` until the returned function is called (default: a timer; the simulator drives its own). */
  readonly ticker?: Ticker
}

export type Ticker = (tick: () => void, everyMs: number) => () => void

const intervalTicker: Ticker = (tick, everyMs) => {
  const timer = setInterval(tick, everyMs)
  return () => clearInterval(timer)
}

interface Waiter<Result> {
  readonly term: number
  resolve(result: Result | undefined): void
  reject(err: Error): void
}

export const DEFAULT_TICK_MS = 25
const DEFAULT_ELECTION_TICKS = 8

export class RaftNode<Result> {
  private transport!: Transport
  private stopTicking: (() => void) | undefined
  private running = false
  private closed = false
  private readonly waiters = new Map<number, Waiter<Result>>()
  private readonly readWaiters = new Map<string, { resolve(): void; reject(err: Error): void; index: number | undefined }>()
  private readCounter = 0
  private observed = ''
  private failure: PeerqueueError | undefined
  private idle: Promise<void> = Promise.resolve()
  /** A snapshot this node took, on its way to disk beside the log; the log is trimmed once it is there. */
  private snapshotWrite: { readonly index: number; state: 'writing' | 'written' | 'superseded' } | undefined

  /**
   * This node's snapshots come a little later than every so many entries, by a share of its own:
   * members counting the same entries would otherwise all snapshot at once, and a commit needs
   * the leader and a follower that are not both busy with one.
   */
  private readonly snapshotStagger: number

  private constructor(
    readonly core: RaftCore,
    private readonly storage: RaftStorage,
    private readonly options: RaftNodeOptions<Result>,
  ) {
    this.snapshotStagger = 1 + 0.5 * (options.raft?.random ?? Math.random)()
  }

  static async open<Result>(options: RaftNodeOptions<Result>): Promise<RaftNode<Result>> {
    const { storage, restored } = await RaftStorage.open(options.dir, options.membership, { groupCommit: options.groupCommit, fs: options.fs })
    if (restored.snapshot) options.stateMachine.restore(restored.snapshot.data)
    const core = new RaftCore(
      { ...DEFAULT_RAFT_CONFIG, electionTicks: DEFAULT_ELECTION_TICKS, random: Math.random, ...options.raft, id: options.id, group: options.group },
      restored,
    )
    const node = new RaftNode(core, storage, options)
    node.transport = options.transport(node)
    return node
  }

  get id(): NodeId {
    return this.core.id
  }

  /** Why this node stopped, if its storage failed: it takes no part in the group until restarted. */
  get stoppedBy(): PeerqueueError | undefined {
    return this.failure
  }

  /** What a caller hears from a stopped node: the others may still commit what was pending here, so ask them. */
  askOthers(): PeerqueueError {
    return new PeerqueueError('E_NOT_LEADER', `this trusted peer stopped writing (${this.failure?.message ?? 'closed'}); a request made here may or may not take effect under the next leader, so retry it there`)
  }

  /** Leader in the core's view and still able to write: a node whose disk failed leads nothing. */
  get isLeader(): boolean {
    return this.failure === undefined && this.core.isLeader
  }

  start(): void {
    this.stopTicking = (this.options.ticker ?? intervalTicker)(() => {
      if (this.closed) return
      this.core.tick()
      this.schedule()
      this.noticeRoleChange()
    }, this.options.tickMs ?? DEFAULT_TICK_MS)
    this.schedule()
  }

  receive(message: Message): void {
    if (this.closed) return
    this.core.step(message)
    this.schedule()
  }

  /**
   * Resolves with each payload's result once committed and applied here. Rejects with
   * E_NOT_LEADER at once on a follower; if leadership is lost later, the proposal may or may not
   * be applied, and the promise rejects only if another entry took its place.
   */
  propose(payloads: readonly unknown[]): Promise<(Result | undefined)[]> {
    if (this.closed) return Promise.reject(this.failure ? this.askOthers() : new PeerqueueError('E_CLOSED', 'the node is closed'))
    let last: number
    try {
      last = this.core.propose(payloads)
    } catch (err) {
      return Promise.reject(err)
    }
    const term = this.core.term
    const promises = payloads.map((_, i) => new Promise<Result | undefined>((resolve, reject) => this.waiters.set(last - payloads.length + 1 + i, { term, resolve, reject })))
    this.schedule()
    return Promise.all(promises)
  }

  async proposeConfChange(change: ConfChange): Promise<void> {
    const index = this.core.proposeConfChange(change)
    const term = this.core.term
    await new Promise<Result | undefined>((resolve, reject) => this.waiters.set(index, { term, resolve, reject }))
  }

  /** Resolves when a read of the local state machine would be linearizable. */
  linearizableRead(): Promise<void> {
    const ctx = `${this.id}:${++this.readCounter}`
    return new Promise((resolve, reject) => {
      this.readWaiters.set(ctx, { resolve, reject, index: undefined })
      try {
        this.core.readIndex(ctx)
      } catch (err) {
        this.readWaiters.delete(ctx)
        reject(err as Error)
        return
      }
      this.schedule()
    })
  }

  /** See RaftCore.leaderUnreachable: the transport saw the connection to `leader` close. */
  leaderUnreachable(leader: NodeId): void {
    if (this.closed) return
    this.core.leaderUnreachable(leader)
    this.schedule()
  }

  transferLeadership(to: NodeId): void {
    this.core.transferLeadership(to)
    this.schedule()
  }

  /** Resolves once every Ready produced so far has been handled. */
  settled(): Promise<void> {
    return this.idle
  }

  async close(): Promise<void> {
    this.closed = true
    this.stopTicking?.()
    await this.idle
    const err = new PeerqueueError('E_CLOSED', 'the node closed before this was committed')
    for (const waiter of this.waiters.values()) waiter.reject(err)
    for (const read of this.readWaiters.values()) read.reject(err)
    this.waiters.clear()
    this.readWaiters.clear()
    await this.storage.close()
  }

  private noticeRoleChange(): void {
    const { role, term, leader } = this.core
    const now = `${role}/${term}/${leader ?? ''}`
    if (now === this.observed) return
    if (role !== 'leader') this.abandonProposals()
    this.observed = now
    this.options.onRoleChange?.(role, term, leader)
  }

  /**
   * A deposed leader cannot tell whether its pending proposals will commit under the next
   * leader, so it answers them now; callers retry with ids that make a repeat harmless.
   */
  private abandonProposals(): void {
    if (this.waiters.size === 0 && this.readWaiters.size === 0) return
    const err = new PeerqueueError('E_NOT_LEADER', 'this peer lost the leadership before the request committed; it may or may not take effect, so retry it')
    for (const waiter of this.waiters.values()) waiter.reject(err)
    for (const read of this.readWaiters.values()) read.reject(err)
    this.waiters.clear()
    this.readWaiters.clear()
  }

  private schedule(): void {
    if (this.running || this.closed || !this.core.hasReady()) return
    this.running = true
    this.idle = this.loop()
  }

  private async loop(): Promise<void> {
    try {
      while (!this.closed && this.core.hasReady()) {
        const ready = this.core.ready()
        const early: Message[] = []
        const late: Message[] = []
        for (const message of ready.messages) (sendsBeforePersist(message) ? early : late).push(message)
        this.transport.send(early)
        // What a ready commits was made durable by the readies before it. One that only moves
        // the commit index on (which need not be durable) is applied before its record is
        // written, so the answers it releases do not wait for that write.
        const applyFirst = ready.snapshot === undefined && !this.storage.mustSync(ready)
        if (applyFirst) this.apply(ready)
        await this.storage.save(ready)
        this.transport.send(late)
        if (!applyFirst) this.apply(ready)
        this.core.advance(ready)
        this.serveReads()
        this.noticeRoleChange()
        await this.maybeSnapshot()
      }
    } catch (err) {
      this.stop(storageFailure(err))
    } finally {
      // In the same turn as the last hasReady() check: work proposed after it finds the loop gone
      // and starts another, instead of waiting for the next tick.
      this.running = false
    }
  }

  /**
   * A failed write or fsync leaves the disk in an unknown state: stop rather than risk
   * acknowledging. Nothing more is sent, so the others elect a leader among themselves; a restart
   * reads what is really on disk and catches up from them.
   */
  private stop(failure: PeerqueueError): void {
    this.failure = failure
    this.closed = true
    this.stopTicking?.()
    this.options.onError?.(failure)
    const retry = this.askOthers()
    for (const waiter of this.waiters.values()) waiter.reject(retry)
    for (const read of this.readWaiters.values()) read.reject(retry)
    this.waiters.clear()
    this.readWaiters.clear()
    if (this.core.isLeader) this.options.onRoleChange?.('follower', this.core.term, undefined)
  }

  private apply(ready: Ready): void {
    if (ready.snapshot) this.options.stateMachine.restore(ready.snapshot.data)
    for (const entry of ready.committed) this.applyEntry(entry)
    for (const read of ready.reads) {
      const waiter = this.readWaiters.get(read.ctx)
      if (waiter) waiter.index = read.index
    }
  }

  private applyEntry(entry: LogEntry): void {
    const result = entry.kind === 'data' ? this.options.stateMachine.apply(entry.data, entry.index) : undefined
    const waiter = this.waiters.get(entry.index)
    if (!waiter) return
    this.waiters.delete(entry.index)
    if (waiter.term === entry.term) waiter.resolve(result)
    else waiter.reject(new PeerqueueError('E_NOT_LEADER', 'leadership changed and the proposal was replaced; retry it'))
  }

  private serveReads(): void {
    for (const [ctx, waiter] of this.readWaiters) {
      if (waiter.index === undefined || this.core.log.applied < waiter.index) continue
      this.readWaiters.delete(ctx)
      waiter.resolve()
    }
  }

  /**
   * Takes a snapshot every so many entries. Its file is written in the background, its JSON a
   * slice at a time, so commits go on meanwhile (a large queue's snapshot took the peer away for
   * tens of milliseconds); the log is trimmed in this loop, between two writes of its own.
   */
  private async maybeSnapshot(): Promise<void> {
    const pending = this.snapshotWrite
    if (pending) {
      if (pending.state === 'writing') return
      this.snapshotWrite = undefined
      // A snapshot from the leader may have replaced it meanwhile, in memory and on disk.
      if (pending.state === 'written' && this.core.log.firstIndex() - 1 === pending.index) {
        await this.storage.trimLog(pending.index)
      }
      return
    }
    const every = Math.round(Math.max(this.options.snapshotEvery ?? 10_000, this.options.stateMachine.size?.() ?? 0) * this.snapshotStagger)
    const applied = this.core.log.applied
    // The log starts after the latest snapshot, whether we took it or a leader sent it.
    if (applied - (this.core.log.firstIndex() - 1) < every) return
    this.core.compact(applied, this.options.stateMachine.snapshot())
    const write: { readonly index: number; state: 'writing' | 'written' | 'superseded' } = { index: applied, state: 'writing' }
    this.snapshotWrite = write
    this.storage.writeSnapshotFile(this.core.log.snapshot!).then(
      (written) => {
        write.state = written ? 'written' : 'superseded'
        this.schedule()
      },
      (err: unknown) => {
        if (!this.closed) this.stop(storageFailure(err))
      },
    )
  }
}
