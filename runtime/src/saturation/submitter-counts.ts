// Unfinished jobs per submitter, kept as the state changes (a scan only after a snapshot is
// restored), so that an admission under saturation knows each submitter's share at once.
import { FINAL_STATES } from '../queue/job.js'
import type { QueueStateMachine } from '../queue/state-machine.js'

export class SubmitterCounts {
  private counts = new Map<string, number>()

  constructor(private readonly state: QueueStateMachine) {
    state.onStateChange((job, previous) => {
      if (job.submitter === undefined) return
      const final = FINAL_STATES.has(job.state)
      // A new job is announced with its own state as the previous one.
      if (previous === job.state && !final) this.add(job.submitter, 1)
      else if (final && !FINAL_STATES.has(previous)) this.add(job.submitter, -1)
      else if (!final && FINAL_STATES.has(previous)) this.add(job.submitter, 1)
    })
    state.onRestore(() => this.rebuild())
    this.rebuild()
  }

  get map(): ReadonlyMap<string, number> {
    return this.counts
  }

  private add(submitter: string, n: number): void {
    const next = (this.counts.get(submitter) ?? 0) + n
    if (next > 0) this.counts.set(submitter, next)
    else this.counts.delete(submitter)
  }

  private rebuild(): void {
    this.counts = new Map(this.state.unfinishedBySubmitter())
  }
}
