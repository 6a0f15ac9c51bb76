// On a trusted peer of a Raft group: take work straight from the group while this peer leads,
// and through the network from the leader otherwise. A call that set out for a remote leader
// and found that this peer leads now is made again locally.
import { isPeerqueueError } from '../errors.js'
import type { ConsensusGroup } from '../raft/group.js'
import type { WorkSource } from './work-source.js'

export function routedWorkSource(group: ConsensusGroup, local: WorkSource, remote: WorkSource): WorkSource {
  const route = async <T>(call: (source: WorkSource) => Promise<T>): Promise<T> => {
    if (group.isLeader()) return call(local)
    try {
      return await call(remote)
    } catch (err) {
      if (isPeerqueueError(err) && err.code === 'E_LEADER_IS_SELF') return call(local)
      throw err
    }
  }
  return {
    lease: (count, exclude, running, outcomes, limits) => route((s) => s.lease(count, exclude, running, outcomes, limits)),
    renew: (jobs) => route((s) => s.renew(jobs)),
    report: (outcomes) => route((s) => s.report(outcomes)),
    progress: (updates) => route((s) => s.progress(updates)),
    release: () => route((s) => s.release()),
  }
}
