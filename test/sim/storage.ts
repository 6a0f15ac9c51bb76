// A node's disk in the simulation: writes land in a page cache and become durable only at sync.
// A crash throws away every write that was not synced, as a real power cut would. A disk that
// fills mid-write keeps only a prefix of what was written, in the order the real storage writes
// it (snapshot file, then the entries record, then the hard state record).
import type { HardState, LogEntry, Ready, RestoredState, Snapshot } from '../../runtime/src/raft/types.js'
import type { Random } from './random.js'

interface Durable {
  hardState: HardState
  snapshot: Snapshot | undefined
  entries: LogEntry[]
}

export class SimStorage {
  private durable: Durable = { hardState: { term: 0, vote: undefined, commit: 0 }, snapshot: undefined, entries: [] }
  private cached: Durable | undefined

  write(ready: Ready): void {
    const next = this.cached ?? clone(this.durable)
    if (ready.snapshot) {
      next.snapshot = ready.snapshot
      next.entries = next.entries.filter((e) => e.index > ready.snapshot!.index)
    }
    if (ready.entries.length > 0) {
      const first = ready.entries[0]!.index
      next.entries = [...next.entries.filter((e) => e.index < first), ...ready.entries]
    }
    if (ready.hardState) next.hardState = ready.hardState
    this.cached = next
  }

  /** The application compacted its log: keep the snapshot, drop what it covers. */
  compact(snapshot: Snapshot): void {
    const target = this.cached ?? this.durable
    target.snapshot = snapshot
    target.entries = target.entries.filter((e) => e.index > snapshot.index)
  }

  sync(): void {
    if (this.cached) this.durable = this.cached
    this.cached = undefined
  }

  crash(): void {
    this.cached = undefined
  }

  /**
   * The disk filled while `ready` (the last write) was going out: a random prefix of its records
   * is durable, nothing after it, and the node must stop without acknowledging any of it.
   */
  syncShort(ready: Ready, random: Random): void {
    this.cached = undefined
    // Each record lands only if every one before it did: the log is written in order.
    const snapshotLanded = !ready.snapshot || random.chance(0.5)
    const keptEntries = snapshotLanded ? random.int(0, ready.entries.length) : 0
    const keepSnapshot = ready.snapshot !== undefined && snapshotLanded
    const keepHardState = snapshotLanded && keptEntries === ready.entries.length && random.chance(0.5)
    this.write({ ...ready, snapshot: keepSnapshot ? ready.snapshot : undefined, entries: ready.entries.slice(0, keptEntries), hardState: keepHardState ? ready.hardState : undefined })
    this.sync()
  }

  restored(initial: RestoredState['initialMembership']): RestoredState {
    const d = this.durable
    return { hardState: d.hardState, snapshot: d.snapshot, entries: [...d.entries], initialMembership: initial }
  }
}

function clone(d: Durable): Durable {
  return { hardState: d.hardState, snapshot: d.snapshot, entries: [...d.entries] }
}
