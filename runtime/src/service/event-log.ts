// Job state changes as a stream clients can resume. Every trusted peer derives the same events
// from the same log entries, so each event's position (its entry's index, and its order within
// the entry) names it on every peer: a client that reconnects to a new leader asks for what
// came after the last position it saw, and gets no gap and no repeat. A peer keeps the latest
// `capacity` events; older positions (or those before a snapshot it restored) are refused with
// E_EVENTS_LOST rather than skipped in silence.
import { PeerqueueError } from '../errors.js'
import type { JobRecord, JobState } from '../queue/job.js'
import type { QueueStateMachine } from '../queue/state-machine.js'

/** Changes one entry may make; positions are index × this + order within the entry. */
const PER_ENTRY = 1_048_576
export const DEFAULT_EVENT_CAPACITY = 20_000

export interface JobEvent {
  readonly position: number
  readonly jobId: string
  readonly name: string
  readonly state: JobState
  readonly attempt: number
  readonly progress: number | null
  readonly error: string | null
  /** The leader's stamp on the entry that made the change. */
  readonly at: number
}

export interface EventFilter {
  readonly jobs?: readonly string[]
  readonly states?: readonly JobState[]
}

export class EventLog {
  private events: JobEvent[] = []
  private head = 0
  /** Events before this position are not held here (never seen, or dropped). */
  private from: number
  private lastIndex = -1
  private seq = 0
  private readonly waiters = new Set<() => void>()

  constructor(
    private readonly state: QueueStateMachine,
    private readonly capacity = DEFAULT_EVENT_CAPACITY,
  ) {
    this.from = (state.appliedIndex + 1) * PER_ENTRY
    state.onStateChange((job, previous) => this.record(job, previous))
    // What happened before a snapshot this peer restored is not known here, event by event.
    state.onRestore(() => {
      this.events = []
      this.head = 0
      this.from = (state.appliedIndex + 1) * PER_ENTRY
    })
  }

  /** The oldest position this log can still answer from. */
  get oldest(): number {
    return this.from
  }

  /** The position after the latest event: where a client that wants only new events starts. */
  get end(): number {
    return this.events.length > this.head ? this.events.at(-1)!.position + 1 : Math.max(this.from, (this.state.appliedIndex + 1) * PER_ENTRY)
  }

  /**
   * Events at or after `after`, matching the filter, at most `max`; waits up to `waitMs` when
   * there are none yet. `next` is where the following call starts.
   */
  async read(after: number, filter: EventFilter, max: number, waitMs: number): Promise<{ events: JobEvent[]; next: number }> {
    const deadline = Date.now() + waitMs
    for (;;) {
      const { events, next } = this.readNow(after, filter, max)
      if (events.length > 0 || Date.now() >= deadline) return { events, next }
      after = next
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer)
          this.waiters.delete(wake)
          resolve()
        }
        const timer = setTimeout(wake, deadline - Date.now())
        this.waiters.add(wake)
      })
    }
  }

  /** What `read` answers without waiting. */
  readNow(after: number, filter: EventFilter, max: number): { events: JobEvent[]; next: number } {
    // No entry has index 0, so nothing is lost before the first entry's position: `after: 0` on a
    // log that holds everything since the queue began reads from its beginning.
    if (after < this.from && this.from > PER_ENTRY) {
      throw new PeerqueueError('E_EVENTS_LOST', `events from position ${after} are no longer kept here (the oldest is ${this.from}); read the jobs' states instead and follow from the end`)
    }
    const found: JobEvent[] = []
    let next = Math.max(after, this.from)
    // Positions only grow: find the first event at or after `after` by bisection.
    let lo = this.head
    let hi = this.events.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.events[mid]!.position < after) lo = mid + 1
      else hi = mid
    }
    for (let i = lo; i < this.events.length && found.length < max; i++) {
      const event = this.events[i]!
      next = event.position + 1
      if (filter.jobs && !filter.jobs.includes(event.name)) continue
      if (filter.states && !filter.states.includes(event.state)) continue
      found.push(event)
    }
    if (found.length < max) next = Math.max(next, this.end)
    return { events: found, next }
  }

  private record(job: JobRecord, previous: JobState): void {
    const index = this.state.appliedIndex
    if (index !== this.lastIndex) {
      this.lastIndex = index
      this.seq = 0
    }
    // A job announced with its own state as the previous one is new; any other repeat changes nothing.
    if (previous === job.state && job.attempt > 0) return
    this.events.push({
      position: index * PER_ENTRY + this.seq++,
      jobId: job.id,
      name: job.name,
      state: job.state,
      attempt: job.attempt,
      progress: job.progress ?? null,
      error: job.error?.message ?? null,
      at: job.updatedAt,
    })
    if (this.events.length - this.head > this.capacity) {
      this.head++
      this.from = this.events[this.head]!.position
      if (this.head > 4096 && this.head * 2 > this.events.length) {
        this.events = this.events.slice(this.head)
        this.head = 0
      }
    }
    for (const wake of [...this.waiters]) wake()
  }
}
