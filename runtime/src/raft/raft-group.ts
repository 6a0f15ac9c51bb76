// The queue's consensus group when several trusted peers keep it: a Raft node whose state
// machine is the queue. The leader stamps each command with its clock (never earlier than the
// last stamp applied, so time does not run backwards across a change of leader).
import { PeerqueueError } from '../errors.js'
import type { ApplyResult, Command } from '../queue/commands.js'
import { QueueStateMachine, type QueueSnapshot } from '../queue/state-machine.js'
import type { ConsensusGroup } from './group.js'
import { RaftNode } from './node.js'
import { StorageRecovery } from './storage-recovery.js'
import type { Transport } from './transport.js'
import type { Membership, Message, NodeId, Role } from './types.js'

interface Stamped {
  readonly time: number
  readonly command: Command
}

export interface RaftGroupOptions {
  readonly id: NodeId
  readonly group: string
  readonly membership: Membership
  readonly dir: string
  readonly transport: (receive: (message: Message) => void) => Promise<Transport>
  readonly tickMs?: number
  readonly snapshotEvery?: number
  readonly onError?: (err: unknown) => void
  readonly onRoleChange?: (role: Role, term: number, leader: NodeId | undefined) => void
  readonly now?: () => number
  /** Where this member says it is waiting for its disk, and that it is back. */
  readonly log?: (line: string) => void
}

export class RaftGroup implements ConsensusGroup {
  readonly state = new QueueStateMachine()
  private lastTime = 0
  private node: RaftNode<ApplyResult> | undefined
  private transport!: Transport
  private readonly recovery: StorageRecovery

  private constructor(private readonly options: RaftGroupOptions) {
    this.recovery = new StorageRecovery(options.dir, () => this.reopen(), options.log)
  }

  static async open(options: RaftGroupOptions): Promise<RaftGroup> {
    const group = new RaftGroup(options)
    group.transport = await options.transport((m) => group.node?.receive(m))
    group.node = await group.openNode()
    group.node.start()
    return group
  }

  /**
   * A node opened again after a storage failure finds on disk an older snapshot and log than
   * the state machine has applied: committed entries never change, so it skips what is applied.
   */
  private openNode(): Promise<RaftNode<ApplyResult>> {
    const skipped: ApplyResult = { type: 'changed', jobIds: [] }
    return RaftNode.open<ApplyResult>({
      id: this.options.id,
      group: this.options.group,
      membership: this.options.membership,
      dir: this.options.dir,
      tickMs: this.options.tickMs,
      snapshotEvery: this.options.snapshotEvery,
      onError: (err) => {
        this.options.onError?.(err)
        this.recovery.begin()
      },
      onRoleChange: this.options.onRoleChange,
      transport: () => this.transport,
      stateMachine: {
        apply: (data, index) => {
          if (index <= this.state.appliedIndex) return skipped
          const { time, command } = data as Stamped
          this.lastTime = Math.max(this.lastTime, time)
          return this.state.apply({ index, time, command })
        },
        snapshot: () => ({ lastTime: this.lastTime, queue: this.state.snapshot() }),
        size: () => this.state.size,
        restore: (data) => {
          const saved = data as { lastTime: number; queue: QueueSnapshot }
          if (saved.queue.appliedIndex <= this.state.appliedIndex && this.state.appliedIndex > 0) return
          this.lastTime = saved.lastTime
          this.state.restore(saved.queue)
        },
      },
    })
  }

  private async reopen(): Promise<void> {
    await this.node?.close().catch(() => undefined)
    const node = await this.openNode()
    this.node = node
    node.start()
  }

  isLeader(): boolean {
    return this.raft.isLeader
  }

  stoppedBy(): PeerqueueError | undefined {
    return this.raft.stoppedBy
  }

  refusal(): PeerqueueError {
    if (this.raft.stoppedBy) return this.raft.askOthers()
    const leader = this.raft.core.leader
    return new PeerqueueError('E_NOT_LEADER', leader && leader !== this.options.id ? `this trusted peer is not the leader; ask ${leader}` : 'no leader is elected yet; retry shortly')
  }

  get raft(): RaftNode<ApplyResult> {
    if (!this.node) throw new PeerqueueError('E_CLOSED', 'the group is not open')
    return this.node
  }

  async propose(commands: readonly Command[]): Promise<ApplyResult[]> {
    if (!this.isLeader()) throw this.refusal()
    this.lastTime = Math.max(this.lastTime, (this.options.now ?? Date.now)())
    const time = this.lastTime
    const results = await this.raft.propose(commands.map((command) => ({ time, command })))
    return results.map((r) => {
      if (!r) throw new PeerqueueError('E_INTERNAL', 'a committed command produced no result')
      return r
    })
  }

  async close(): Promise<void> {
    this.recovery.close()
    await this.raft.close()
    // Its streams too: a group opened again on the same peers (a shard's new epoch) would otherwise
    // find the old ones still open, counting against each connection's limit of Raft streams.
    await this.transport.close?.()
  }
}
