// Leases and outcomes through the network, for a worker on a peer that is not the leader: every
// call goes to the current leader (found and followed by LeaderLink). Outcomes are retried
// across leader changes; a lease request waits briefly at the leader when the queue is empty.
import type { LeaderLink } from '../client/leader-link.js'
import type { GrantedLease } from '../queue/commands.js'
import { limitsOf, type WorkSource } from './work-source.js'

const LEASE_WAIT_MS = 1_000

/** `waitMs`: how long the leader may hold a lease request while it has nothing to give (0: answer at once). */
export function remoteWorkSource(link: LeaderLink, worker: string, capacity: () => number, waitMs = LEASE_WAIT_MS, leaseRetryMs?: number): WorkSource {
  return {
    async lease(count, exclude, running, outcomes = [], limits = {}) {
      const params = { worker, count, exclude, running, waitMs, capacity: capacity(), ...(outcomes.length > 0 ? { outcomes } : {}), ...limitsOf(limits) }
      return (await link.call('work.lease', params, leaseRetryMs)) as GrantedLease[]
    },
    async renew(jobs) {
      if (jobs.length === 0) return []
      return (await link.call('work.renew', { worker, jobs }, 5_000)) as string[]
    },
    async report(outcomes) {
      return (await link.call('work.report', { worker, outcomes })) as boolean[]
    },
    async progress(updates) {
      if (updates.length > 0) await link.call('work.progress', { worker, updates }, 5_000)
    },
    async release() {
      await link.call('work.release', { worker }, 3_000)
    },
  }
}
