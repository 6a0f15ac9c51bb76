// Moving a shard's Raft group to the members of a new epoch, one safe step at a time: a newcomer
// joins as a learner, becomes a voter once it has caught up, and only then does the member it
// replaces leave. A leader that is itself to leave hands leadership to a caught-up member first.
import type { ConfChange, Membership, NodeId } from '../raft/types.js'

export type ConfStep = { readonly change: ConfChange } | { readonly transferTo: NodeId }

export interface LeaderView {
  readonly id: NodeId
  readonly membership: Membership
  /** Each member's replicated index, as the leader tracks it. */
  readonly match: ReadonlyMap<NodeId, number>
  readonly lastIndex: number
}

/** How far behind a learner may be and still be promoted: it catches up the rest as a voter. */
const CAUGHT_UP_LAG = 8

export function nextConfStep(leader: LeaderView, target: readonly NodeId[]): ConfStep | undefined {
  const { voters, learners } = leader.membership
  const joining = target.find((m) => !voters.includes(m) && !learners.includes(m))
  if (joining) return { change: { type: 'addLearner', node: joining } }
  const ready = learners.find((m) => target.includes(m) && (leader.match.get(m) ?? 0) >= leader.lastIndex - CAUGHT_UP_LAG)
  if (ready) return { change: { type: 'addVoter', node: ready } }
  if (learners.some((m) => target.includes(m))) return undefined
  const leaving = [...voters, ...learners].find((m) => !target.includes(m) && m !== leader.id)
  if (leaving) return { change: { type: 'remove', node: leaving } }
  if (!target.includes(leader.id) && voters.includes(leader.id)) {
    const heir = target.find((m) => voters.includes(m) && (leader.match.get(m) ?? 0) >= leader.lastIndex)
    return heir ? { transferTo: heir } : undefined
  }
  return undefined
}
