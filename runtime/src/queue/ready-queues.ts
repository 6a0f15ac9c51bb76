// Queued jobs ready to lease, one heap per submitter. The best job overall (highest priority,
// then oldest) is the best of the heaps' tops, the same order one heap would give; under
// saturation a lease can instead take the best job of the submitter furthest below its share.
import { Heap } from './heap.js'

export interface ReadyEntry {
  readonly priority: number
  readonly seq: number
  readonly jobId: string
  readonly version: number
  /** The submitting peer ('' for jobs without one: follow-ups, schedules). */
  readonly submitter: string
}

const before = (a: ReadyEntry, b: ReadyEntry) => a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq)

export class ReadyQueues {
  private readonly heaps = new Map<string, Heap<ReadyEntry>>()

  push(entry: ReadyEntry): void {
    let heap = this.heaps.get(entry.submitter)
    if (!heap) {
      heap = new Heap<ReadyEntry>(before)
      this.heaps.set(entry.submitter, heap)
    }
    heap.push(entry)
  }

  /** The best live entry, of one submitter or of all; stale entries met on the way are dropped. */
  top(live: (entry: ReadyEntry) => boolean, submitter?: string): ReadyEntry | undefined {
    if (submitter !== undefined) return this.liveTopOf(submitter, live)
    let best: ReadyEntry | undefined
    // Deleting the entry being visited is safe while iterating a Map.
    for (const id of this.heaps.keys()) {
      const top = this.liveTopOf(id, live)
      if (top && (!best || before(top, best))) best = top
    }
    return best
  }

  /** Submitters with a live entry, in a fixed order. */
  submitters(live: (entry: ReadyEntry) => boolean): string[] {
    return [...this.heaps.keys()].filter((id) => this.liveTopOf(id, live) !== undefined).sort()
  }

  /** Removes `entry`, which must be the top of its submitter's heap. */
  pop(entry: ReadyEntry): void {
    this.heaps.get(entry.submitter)?.pop()
  }

  private liveTopOf(submitter: string, live: (entry: ReadyEntry) => boolean): ReadyEntry | undefined {
    const heap = this.heaps.get(submitter)
    if (!heap) return undefined
    for (let top = heap.peek(); top; top = heap.peek()) {
      if (live(top)) return top
      heap.pop()
    }
    this.heaps.delete(submitter)
    return undefined
  }
}
