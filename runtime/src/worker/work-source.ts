// Where a worker gets leases and sends outcomes. On a trusted peer this is its own consensus
// group; a worker peer elsewhere reaches the leader through the network with the same calls.
import type { ApplyResult, Command, GrantedLease, LeaseRef } from '../queue/commands.js'
import type { JobError, NewJob } from '../queue/job.js'
import type { ConsensusGroup } from '../raft/group.js'

export interface WorkSource {
  /**
   * Up to `count` leases. `running` lists the jobs the worker runs now, so a leader that granted
   * leases whose answer never arrived can hand them over again instead of letting them expire.
   * `outcomes` of finished runs travel along: reported in the same log batch as the lease, one
   * round trip and one commit for both (or reported at once, if the request then waits for work).
   */
  lease(count: number, exclude: readonly string[], running: readonly string[], outcomes?: readonly Outcome[], limits?: LeaseLimits): Promise<GrantedLease[]>
  /** Extends the leases; returns the jobs whose lease is gone (cancelled, expired, given to another worker). */
  renew(jobs: readonly LeaseRef[]): Promise<string[]>
  /** Reports finished runs, many at once; says for each whether its lease was still current. */
  report(outcomes: readonly Outcome[]): Promise<boolean[]>
  progress(updates: readonly { job: LeaseRef; progress: number }[]): Promise<void>
  release(): Promise<void>
  /**
   * For a source that is not polled: whether queued work is there that a lease left behind (a
   * rate window or a limit across peers held it back), so the worker asks again a little later.
   */
  hasReady?(): boolean
}

/** What the handlers ask of leases across all workers, by job name: globalConcurrency and rateLimit. */
export interface LeaseLimits {
  readonly concurrency?: Readonly<Record<string, number>>
  readonly rates?: Readonly<Record<string, { readonly max: number; readonly perMs: number }>>
}

/** A finished run: its result (with the follow-up jobs it started), or its error. */
export type Outcome = { readonly job: LeaseRef; readonly result: string; readonly enqueue?: readonly NewJob[] } | { readonly job: LeaseRef; readonly error: JobError }

export const DEFAULT_LEASE_MS = 6_000

export function localWorkSource(group: ConsensusGroup, worker: string, leaseMs = DEFAULT_LEASE_MS, maxQueuedJobs?: number, fairness: () => Readonly<Record<string, number>> | undefined = () => undefined): WorkSource {
  const accepted = (result: ApplyResult | undefined) => result?.type === 'fenced' && result.accepted
  return {
    hasReady: () => group.state.hasReady(),
    async lease(count, exclude, _running, outcomes = [], limits = {}) {
      const reports = outcomeCommands(worker, outcomes, maxQueuedJobs)
      // Nothing to lease: say so without writing a lease to the log.
      if (!group.state.hasReady()) {
        if (reports.length > 0) await group.propose(reports)
        return []
      }
      const weights = fairness()
      const results = await group.propose([...reports, { type: 'lease', worker, count, leaseMs, exclude, ...limitsOf(limits), ...(weights ? { fair: weights } : {}) }])
      const result = results.at(-1)
      return result?.type === 'lease' ? [...result.leases] : []
    },
    async renew(jobs) {
      if (jobs.length === 0) return []
      const [result] = await group.propose([{ type: 'renew', worker, jobs, leaseMs }])
      const renewed = new Set(result?.type === 'changed' ? result.jobIds : [])
      return jobs.filter((j) => !renewed.has(j.jobId)).map((j) => j.jobId)
    },
    async report(outcomes) {
      return (await group.propose(outcomeCommands(worker, outcomes, maxQueuedJobs))).map(accepted)
    },
    async progress(updates) {
      if (updates.length === 0) return
      await group.propose(updates.map(({ job, progress }) => ({ type: 'progress' as const, worker, job, progress })))
    },
    async release() {
      await group.propose([{ type: 'release', worker }])
    },
  }
}

export function outcomeCommands(worker: string, outcomes: readonly Outcome[], maxQueuedJobs?: number): Command[] {
  return outcomes.map((o) => {
    if ('error' in o) return { type: 'fail', worker, job: o.job, error: o.error }
    const followUps = o.enqueue && o.enqueue.length > 0 ? { enqueue: o.enqueue, ...(maxQueuedJobs === undefined ? {} : { maxQueuedJobs }) } : {}
    return { type: 'complete', worker, job: o.job, result: o.result, ...followUps }
  })
}

/** The limits as a lease command (and request) carries them: only those that are set. */
export function limitsOf(limits: LeaseLimits | undefined): Pick<Extract<Command, { type: 'lease' }>, 'limits' | 'rates'> {
  const nonEmpty = <T extends object>(o: T | undefined) => (o && Object.keys(o).length > 0 ? o : undefined)
  const concurrency = nonEmpty(limits?.concurrency)
  const rates = nonEmpty(limits?.rates)
  return { ...(concurrency ? { limits: concurrency } : {}), ...(rates ? { rates } : {}) }
}
