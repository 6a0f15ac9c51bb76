// Unfinished jobs per submitter, kept as the state changes (a scan only after a snapshot is
// restored), so that an admission under saturation knows each submitter's share at once.
import { FINAL_STATES } from '../queue/job.js'
import type { QueueStateMachine } from '../queue/state-machine.js'

/** Counts by submitter, with their total. */
export class Tally {
  readonly map = new Map<string, number>()
  total = 0

  add(submitter: string, n: number): void {
    const next = (this.map.get(submitter) ?? 0) + n
    if (next > 0) this.map.set(submitter, next)
    else this.map.delete(submitter)
    this.total = Math.max(0, this.total + n)
  }

  reset(counts: ReadonlyMap<string, number>): void {
    this.map.clear()
    this.total = 0
    for (const [id, n] of counts) this.add(id, n)
  }
}

export class SubmitterCounts {
  private readonly tally = new Tally()

  constructor(private readonly state: QueueStateMachine) {
    state.onStateChange((job, previous) => {
      if (job.submitter === undefined) return
      const final = FINAL_STATES.has(job.state)
      // A new job is announced with its own state as the previous one.
      if (previous === job.state && !final) this.tally.add(job.submitter, 1)
      else if (final && !FINAL_STATES.has(previous)) this.tally.add(job.submitter, -1)
      else if (!final && FINAL_STATES.has(previous)) this.tally.add(job.submitter, 1)
    })
    state.onRestore(() => this.tally.reset(state.unfinishedBySubmitter()))
    this.tally.reset(state.unfinishedBySubmitter())
  }

  get map(): ReadonlyMap<string, number> {
    return this.tally.map
  }
}
