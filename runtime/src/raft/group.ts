// What the queue needs from its consensus group, whether it has one member or many: propose
// commands, learn their results once a majority has them on disk, read the applied state.
import type { PeerqueueError } from '../errors.js'
import type { ApplyResult, Command } from '../queue/commands.js'
import type { QueueStateMachine } from '../queue/state-machine.js'

export interface ConsensusGroup {
  readonly state: QueueStateMachine
  /**
   * Resolves with each command's result after it is durable on a majority and applied here.
   * Rejects if this member cannot commit (not the leader, or closing); the commands may or may
   * not have been applied then, so callers retry with ids that make a repeat harmless.
   */
  propose(commands: readonly Command[]): Promise<ApplyResult[]>
  /** Whether proposals made here can commit now (the leader of a Raft group; always, for a group of one). */
  isLeader(): boolean
  /** Why this member stopped writing (its disk failed), if it did: it takes no part until restarted. */
  stoppedBy(): PeerqueueError | undefined
  /**
   * What a caller is told while isLeader() is false: E_NOT_LEADER (ask another member) where
   * another member can serve, the storage failure itself where none can.
   */
  refusal(): PeerqueueError
  close(): Promise<void>
}
