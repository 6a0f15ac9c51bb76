// The queue's consensus group when several trusted peers keep it: a Raft node whose state
// machine is the queue. The leader stamps each command with its clock (never earlier than the
// last stamp applied, so time does not run backwards across a change of leader).
import { PeerqueueError } from '../errors.js'
import type { ApplyResult, Command } from '../queue/commands.js'
import { QueueStateMachine, type QueueSnapshot } from '../queue/state-machine.js'
import type { ConsensusGroup } from './group.js'
import { RaftNode } from './node.js'
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
}

export class RaftGroup implements ConsensusGroup {
  readonly state = new QueueStateMachine()
  private lastTime = 0
  private node!: RaftNode<ApplyResult>

  private constructor(private readonly options: RaftGroupOptions) {}

  static async open(options: RaftGroupOptions): Promise<RaftGroup> {
    const group = new RaftGroup(options)
    let node: RaftNode<ApplyResult> | undefined
    const transport = await options.transport((m) => node?.receive(m))
    node = await RaftNode.open<ApplyResult>({
      id: options.id,
      group: options.group,
      membership: options.membership,
      dir: options.dir,
      tickMs: options.tickMs,
      snapshotEvery: options.snapshotEvery,
      onError: options.onError,
      onRoleChange: options.onRoleChange,
      transport: () => transport,
      stateMachine: {
        apply: (data, index) => {
          const { time, command } = data as Stamped
          group.lastTime = Math.max(group.lastTime, time)
          return group.state.apply({ index, time, command })
        },
        snapshot: () => ({ lastTime: group.lastTime, queue: group.state.snapshot() }),
        restore: (data) => {
          const saved = data as { lastTime: number; queue: QueueSnapshot }
          group.lastTime = saved.lastTime
          group.state.restore(saved.queue)
        },
      },
    })
    group.node = node
    node.start()
    return group
  }

  isLeader(): boolean {
    return this.node.isLeader
  }

  stoppedBy(): PeerqueueError | undefined {
    return this.node.stoppedBy
  }

  refusal(): PeerqueueError {
    if (this.node.stoppedBy) return this.node.askOthers()
    const leader = this.node.core.leader
    return new PeerqueueError('E_NOT_LEADER', leader && leader !== this.options.id ? `this trusted peer is not the leader; ask ${leader}` : 'no leader is elected yet; retry shortly')
  }

  get raft(): RaftNode<ApplyResult> {
    return this.node
  }

  async propose(commands: readonly Command[]): Promise<ApplyResult[]> {
    if (!this.isLeader()) throw this.refusal()
    this.lastTime = Math.max(this.lastTime, (this.options.now ?? Date.now)())
    const time = this.lastTime
    const results = await this.node.propose(commands.map((command) => ({ time, command })))
    return results.map((r) => {
      if (!r) throw new PeerqueueError('E_INTERNAL', 'a committed command produced no result')
      return r
    })
  }

  close(): Promise<void> {
    return this.node.close()
  }
}
