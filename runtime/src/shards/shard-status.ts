// What a shard's member says of it: who leads, the members, its jobs by state, whether it is
// sealed. Clients and workers ask this to find the shard's leader, as they ask `status` of the root.
import type { RaftGroup } from '../raft/raft-group.js'

export interface ShardStatus {
  readonly shard: number
  readonly peerId: string
  readonly role: 'leader' | 'follower' | 'candidate'
  readonly leader: string | null
  readonly term: number
  readonly members: readonly { id: string }[]
  /** The voters of the shard's Raft group now: the members once a change of epoch has gone through. */
  readonly voters: readonly string[]
  /** Members catching up before they vote (a newcomer of a new epoch). */
  readonly learners: readonly string[]
  readonly jobs: Record<string, number>
  readonly sealed: boolean
  readonly stopped: string | null
}

export function shardStatus(shard: number, group: RaftGroup, members: readonly string[], selfId: string): ShardStatus {
  const core = group.raft.core
  const stopped = group.stoppedBy()?.message ?? null
  return {
    shard,
    peerId: selfId,
    role: stopped ? 'follower' : core.role === 'leader' ? 'leader' : core.role === 'follower' ? 'follower' : 'candidate',
    leader: stopped ? null : (core.leader ?? null),
    term: core.term,
    members: members.map((id) => ({ id })),
    voters: [...core.membership.voters],
    learners: [...core.membership.learners],
    jobs: group.state.countByState(),
    sealed: group.state.sealed,
    stopped,
  }
}
