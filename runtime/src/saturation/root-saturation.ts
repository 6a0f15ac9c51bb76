// Saturation control as the root group's leader runs it inside a peer: new jobs admitted from
// the census' free slots against the unfinished jobs across the root and the shards (and jobs
// admitted but not yet in the log), the submitters' weights for sharing leases while saturated,
// what each open shard's leader is told to admit, and the view `status` shows.
import type { CensusEstimate } from '../census/window.js'
import type { PeerStatus } from '../peer-status.js'
import { FINAL_STATES } from '../queue/job.js'
import type { ConsensusGroup } from '../raft/group.js'
import type { ShardLoad } from '../shards/shard-planner.js'
import { Admission, type AdmissionDecision, type SaturationSettings } from './admission.js'
import type { ShardAdmissionState } from './shard-admission.js'
import { SubmitterCounts, Tally } from './submitter-counts.js'

export class RootSaturation {
  private readonly admission: Admission
  private readonly submitters: SubmitterCounts
  /** Admitted, not yet in the log: many requests at once must not all pass. */
  private readonly onTheirWay = new Tally()
  private fedEstimate: CensusEstimate | undefined

  constructor(
    private readonly settings: SaturationSettings,
    private readonly group: ConsensusGroup,
    /** The census' latest estimate (undefined before the first poll closes). */
    private readonly estimate: () => CensusEstimate | undefined,
    /** The shards' loads as their leaders last reported them. */
    private readonly shardLoads: () => Iterable<ShardLoad>,
  ) {
    const admission = (this.admission = new Admission(settings))
    this.submitters = new SubmitterCounts(group.state)
    group.state.onStateChange((job, previous) => {
      if (FINAL_STATES.has(job.state) && !FINAL_STATES.has(previous)) admission.finished(Date.now())
    })
  }

  /** Admits `count` jobs from `submitter`, or says when to try again. */
  admit(submitter: string, count: number): AdmissionDecision {
    this.feedCensus()
    const decision = this.admission.decide(submitter, count, this.unfinishedAcrossShards() + this.onTheirWay.total, this.unfinishedBySubmitter(), Date.now())
    if (decision.ok) this.onTheirWay.add(submitter, count)
    return decision
  }

  /** Admitted jobs that reached the log (or were refused there): no longer on their way. */
  admitted(submitter: string, count: number): void {
    this.onTheirWay.add(submitter, -count)
  }

  /** While the queue is saturated, leases are shared among submitters by these weights. */
  fairWeights(): Readonly<Record<string, number>> | undefined {
    return this.admission.view(Date.now()).saturated ? this.settings.weights : undefined
  }

  /**
   * What each open shard's leader is told to admit: whether the queue is saturated and, if so,
   * each submitter's remaining share split among the shards that take new jobs.
   */
  shardAdmissions(): Map<number, ShardAdmissionState> | undefined {
    if (!this.group.isLeader()) return undefined
    this.feedCensus()
    const now = Date.now()
    const counts = this.unfinishedBySubmitter()
    const unfinished = this.unfinishedAcrossShards() + this.onTheirWay.total
    const saturated = this.admission.saturatedAt(unfinished)
    const shards = this.group.state.shards
    const open = shards.live().filter((s) => s.state === 'open' && s.certificate !== undefined)
    if (open.length === 0) return undefined
    const ways = open.length + (shards.rootState === 'open' ? 1 : 0)
    const allowance = Object.fromEntries([...counts].map(([id, n]) => [id, Math.max(0, this.admission.shareOf(id, counts) - n) / ways]))
    const state: ShardAdmissionState = { saturated, retryAfterMs: this.admission.retryHint(unfinished - 0.9 * this.admission.bound, now), allowance, newcomer: this.admission.shareOf('', counts) / ways }
    return new Map(open.map((s) => [s.id, state]))
  }

  /** For status, on the leader. */
  view(): PeerStatus['saturation'] {
    if (!this.group.isLeader()) return null
    this.feedCensus()
    const counts = this.unfinishedBySubmitter()
    return {
      ...this.admission.view(Date.now()),
      unfinished: this.unfinishedAcrossShards(),
      jobsPerFreeSlot: this.settings.jobsPerFreeSlot,
      submitters: [...counts].map(([id, unfinished]) => ({ id, unfinished, share: Math.floor(this.admission.shareOf(id, counts)) })),
    }
  }

  /** The census' latest free-slot estimate, to the admission, once per estimate. */
  private feedCensus(): void {
    const estimate = this.estimate()
    if (!estimate || estimate === this.fedEstimate) return
    this.admission.census(estimate.freeSlots)
    this.fedEstimate = estimate
  }

  /** Unfinished jobs by submitter: the root's, the shards' as last reported, and admitted ones on their way. */
  private unfinishedBySubmitter(): Map<string, number> {
    const counts = new Map(this.submitters.map)
    const add = (id: string, n: number) => counts.set(id, (counts.get(id) ?? 0) + n)
    for (const [id, n] of this.onTheirWay.map) add(id, n)
    for (const load of this.shardLoads()) for (const [id, n] of Object.entries(load.bySubmitter ?? {})) add(id, n)
    return counts
  }

  private unfinishedAcrossShards(): number {
    let unfinished = this.group.state.activeCount()
    for (const load of this.shardLoads()) unfinished += load.unfinished
    return unfinished
  }
}
