// Leader-side timekeeping: one timer for the earliest moment something is due (a delayed job,
// a retry, an expiring lease), never one timer per job. When it fires, the leader proposes an
// `advance` entry stamped with its clock, and every replica makes the same transitions.
import type { ConsensusGroup } from '../raft/group.js'

export class Scheduler {
  private timer: NodeJS.Timeout | undefined
  private timerAt = Infinity
  private proposing = false
  private stopped = false

  constructor(
    private readonly group: ConsensusGroup,
    private readonly onError: (err: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Hands back leases held by earlier runs of this peer: their threads died with the process. */
  async releaseStaleWorkers(peerId: string, currentWorker: string): Promise<number> {
    const stale = [...this.group.state.workersWithLeases()].filter((w) => w.startsWith(`${peerId}/`) && w !== currentWorker)
    if (stale.length > 0) await this.group.propose(stale.map((worker) => ({ type: 'release' as const, worker })))
    return stale.length
  }

  /** Re-reads the earliest due time; call after anything was applied. Only the leader keeps time. */
  wake(): void {
    if (this.stopped || this.proposing || !this.group.isLeader()) return
    const due = this.group.state.nextDueTime()
    if (due === undefined || due >= this.timerAt) return
    clearTimeout(this.timer)
    this.timerAt = due
    this.timer = setTimeout(() => void this.advance(), Math.max(0, due - this.now()))
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
  }

  private async advance(): Promise<void> {
    this.timerAt = Infinity
    if (!this.group.isLeader()) return
    this.proposing = true
    try {
      await this.group.propose([{ type: 'advance' }])
    } catch (err) {
      this.onError(err)
    } finally {
      this.proposing = false
    }
    this.wake()
  }
}
