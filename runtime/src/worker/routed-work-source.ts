// On a trusted peer of a Raft group: take work straight from the group while this peer leads,
// and through the network from the leader otherwise.
import type { ConsensusGroup } from '../raft/group.js'
import type { WorkSource } from './work-source.js'

export function routedWorkSource(group: ConsensusGroup, local: WorkSource, remote: WorkSource): WorkSource {
  const pick = () => (group.isLeader() ? local : remote)
  return {
    lease: (count, exclude, running) => pick().lease(count, exclude, running),
    renew: (jobs) => pick().renew(jobs),
    complete: (job, result) => pick().complete(job, result),
    fail: (job, error) => pick().fail(job, error),
    progress: (updates) => pick().progress(updates),
    release: () => pick().release(),
  }
}
