// The vocabulary of the Raft core: entries, persistent state, messages and the Ready contract
// between the pure core and the shell that owns disk, network and the state machine.

export type NodeId = string

/** A configuration change, applied when committed; the leader allows one in flight at a time. */
export type ConfChange =
  | { readonly type: 'addVoter'; readonly node: NodeId }
  | { readonly type: 'addLearner'; readonly node: NodeId }
  | { readonly type: 'remove'; readonly node: NodeId }

export type EntryPayload =
  | { readonly kind: 'noop' }
  | { readonly kind: 'data'; readonly data: unknown }
  | { readonly kind: 'conf'; readonly change: ConfChange }

export type LogEntry = { readonly index: number; readonly term: number } & EntryPayload

export interface Membership {
  readonly voters: readonly NodeId[]
  readonly learners: readonly NodeId[]
}

/** Term, vote and commit: saved before any message that depends on them leaves this node. */
export interface HardState {
  readonly term: number
  readonly vote: NodeId | undefined
  readonly commit: number
}

export interface Snapshot {
  readonly index: number
  readonly term: number
  readonly membership: Membership
  /** The application's state as of `index`, opaque to Raft. */
  readonly data: unknown
}

interface Envelope {
  readonly group: string
  readonly from: NodeId
  readonly to: NodeId
  readonly term: number
}

export type Message = Envelope &
  (
    | { readonly type: 'vote'; readonly preVote: boolean; readonly lastIndex: number; readonly lastTerm: number; readonly transfer: boolean }
    | { readonly type: 'voteResp'; readonly preVote: boolean; readonly reject: boolean }
    | { readonly type: 'append'; readonly prevIndex: number; readonly prevTerm: number; readonly entries: readonly LogEntry[]; readonly commit: number }
    /** On success `index` is the follower's last matching index; on reject, `hintIndex`/`hintTerm` let the leader skip a whole term. */
    | { readonly type: 'appendResp'; readonly reject: boolean; readonly index: number; readonly hintIndex: number; readonly hintTerm: number }
    | { readonly type: 'heartbeat'; readonly commit: number; readonly readCtx: string | undefined }
    | { readonly type: 'heartbeatResp'; readonly readCtx: string | undefined }
    | { readonly type: 'snapshot'; readonly snapshot: Snapshot }
    | { readonly type: 'timeoutNow' }
  )

export type MessageType = Message['type']

/** A leader's replication traffic, which may leave before the leader's own write (see Ready). */
export function sendsBeforePersist(message: Message): boolean {
  return message.type === 'append' || message.type === 'heartbeat'
}

/** A linearizable read is safe once the state machine has applied `index`. */
export interface ReadState {
  readonly ctx: string
  readonly index: number
}

/**
 * Everything the shell must do, in this order:
 * 1. persist `snapshot` (if any), then `entries` (replacing any stored entries from the first
 *    one's index on), then `hardState` — and fsync;
 * 2. only then send `messages` (a vote or an acknowledgement must never get ahead of the disk);
 *    except that a leader's appends and heartbeats (`sendsBeforePersist`) may go out before
 *    step 1, so followers write while the leader does (Raft thesis §10.2.1): the leader counts
 *    its own copy toward a commit only after `advance`;
 * 3. apply `snapshot` then `committed` to the state machine, in order (these were persisted
 *    in this or an earlier Ready);
 * 4. serve `reads` once the applied index reaches theirs;
 * 5. call `advance(ready)`.
 */
export interface Ready {
  readonly hardState: HardState | undefined
  readonly entries: readonly LogEntry[]
  readonly snapshot: Snapshot | undefined
  readonly messages: readonly Message[]
  readonly committed: readonly LogEntry[]
  readonly reads: readonly ReadState[]
}

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader'

export interface RaftConfig {
  readonly id: NodeId
  readonly group: string
  /** Ticks without hearing from a leader before an election; randomised in [t, 2t). */
  readonly electionTicks: number
  readonly heartbeatTicks: number
  readonly preVote: boolean
  readonly checkQuorum: boolean
  /** Answer reads from the leader lease without a heartbeat round (needs checkQuorum and bounded clock drift). */
  readonly leaseReads: boolean
  readonly maxEntriesPerMessage: number
  /** An append carries entries up to about this many bytes of data (at least one entry), so a follower far behind is caught up in frames the transport can carry. */
  readonly maxBytesPerMessage: number
  readonly maxInflightMessages: number
  /** Source of randomness for election timeouts: deterministic in the simulator. */
  readonly random: () => number
}

export const DEFAULT_RAFT_CONFIG = {
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  leaseReads: false,
  maxEntriesPerMessage: 512,
  maxBytesPerMessage: 1024 * 1024,
  maxInflightMessages: 256,
} as const

/** What a node restarts from: its persisted hard state, snapshot and entries. */
export interface RestoredState {
  readonly hardState: HardState
  readonly snapshot: Snapshot | undefined
  readonly entries: readonly LogEntry[]
  /** Membership at boot when there is no snapshot (a new group's founding members). */
  readonly initialMembership: Membership
}
