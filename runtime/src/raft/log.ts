// The Raft log as one node holds it in memory: the latest snapshot's position, the entries after
// it, and three marks — what is committed, what the state machine applied, and what the shell
// has persisted (everything after `stable` still has to reach the disk).
import { assert } from '../errors.js'
import type { LogEntry, Snapshot } from './types.js'

export class RaftLog {
  /** Index and term of the last entry covered by the snapshot (0, 0 for none). */
  private snapIndex = 0
  private snapTerm = 0
  private entries: LogEntry[] = []
  committed = 0
  applied = 0
  /** Entries at or below this index are persisted: the shell said so with advance(). */
  private stable = 0
  /** A snapshot received from the leader that the shell has not persisted and applied yet. */
  pendingSnapshot: Snapshot | undefined
  /** The latest snapshot this node has, sent to followers that fell behind the log's start. */
  snapshot: Snapshot | undefined
  /** Bumped whenever entries change, so observers can skip re-reading an unchanged log. */
  version = 0

  restore(snapshot: Snapshot | undefined, entries: readonly LogEntry[], committed: number): void {
    if (snapshot) {
      this.snapIndex = snapshot.index
      this.snapTerm = snapshot.term
      this.snapshot = snapshot
    }
    this.entries = entries.filter((e) => e.index > this.snapIndex)
    this.entries.forEach((e, i) => assert(e.index === this.snapIndex + 1 + i, `restored log has a gap at ${e.index}`))
    this.stable = this.lastIndex()
    this.applied = this.snapIndex
    this.committed = Math.max(Math.min(committed, this.lastIndex()), this.snapIndex)
  }

  firstIndex(): number {
    return this.snapIndex + 1
  }

  /** The last index the shell has persisted (and reported with advance). */
  stableIndex(): number {
    return this.stable
  }

  lastIndex(): number {
    return this.snapIndex + this.entries.length
  }

  lastTerm(): number {
    return this.term(this.lastIndex())!
  }

  /** The term of the entry at `index`, or undefined when it was compacted away or does not exist. */
  term(index: number): number | undefined {
    if (index === this.snapIndex) return this.snapTerm
    if (index < this.snapIndex || index > this.lastIndex()) return undefined
    return this.entries[index - this.snapIndex - 1]!.term
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term
  }

  /** Entries in [lo, hi], which must all be present. */
  slice(lo: number, hi: number): LogEntry[] {
    assert(lo > this.snapIndex && hi <= this.lastIndex(), `slice ${lo}..${hi} outside ${this.firstIndex()}..${this.lastIndex()}`)
    return this.entries.slice(lo - this.snapIndex - 1, hi - this.snapIndex)
  }

  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    return lastTerm > this.lastTerm() || (lastTerm === this.lastTerm() && lastIndex >= this.lastIndex())
  }

  /** Leader side: appends new entries at the end. */
  append(entries: readonly LogEntry[]): void {
    this.version += 1
    for (const entry of entries) {
      assert(entry.index === this.lastIndex() + 1, `append ${entry.index} after ${this.lastIndex()}`)
      this.entries.push(entry)
    }
  }

  /**
   * Follower side: accepts the leader's entries after (prevIndex, prevTerm). Returns the index of
   * the last entry now known to match the leader, or undefined if prev does not match. A
   * conflicting suffix is cut off; entries already present are kept (a delayed duplicate append
   * must not truncate entries a later append added).
   */
  maybeAppend(prevIndex: number, prevTerm: number, entries: readonly LogEntry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined
    const lastNew = prevIndex + entries.length
    for (const entry of entries) {
      if (entry.index <= this.snapIndex) continue
      const existing = this.term(entry.index)
      if (existing === entry.term) continue
      if (existing !== undefined) {
        assert(entry.index > this.committed, `conflict at committed index ${entry.index}`)
        this.truncateFrom(entry.index)
      }
      this.entries.push(entry)
      this.version += 1
    }
    return lastNew
  }

  /** For a rejected append: the last index at or before `index` whose term is at most `term`. */
  findConflictByTerm(index: number, term: number): number {
    let i = Math.min(index, this.lastIndex())
    while (i > this.snapIndex && this.term(i)! > term) i--
    return i
  }

  commitTo(index: number): void {
    if (index > this.committed) {
      assert(index <= this.lastIndex(), `commit ${index} beyond last ${this.lastIndex()}`)
      this.committed = index
    }
  }

  /** Replaces the log with a snapshot from the leader. */
  installSnapshot(snapshot: Snapshot): void {
    this.version += 1
    this.snapIndex = snapshot.index
    this.snapTerm = snapshot.term
    this.entries = []
    this.snapshot = snapshot
    this.pendingSnapshot = snapshot
    this.committed = snapshot.index
    this.stable = snapshot.index
  }

  /** Drops entries covered by a snapshot the application took at its applied index. */
  compact(snapshot: Snapshot): void {
    this.version += 1
    assert(snapshot.index <= this.applied && snapshot.index > this.snapIndex, `compact to ${snapshot.index}`)
    this.entries = this.entries.slice(snapshot.index - this.snapIndex)
    this.snapIndex = snapshot.index
    this.snapTerm = snapshot.term
    this.snapshot = snapshot
  }

  /** Entries after `index` that are already on disk: what a rewritten log must keep. */
  stableEntriesAfter(index: number): LogEntry[] {
    return this.stable > index ? this.slice(index + 1, this.stable) : []
  }

  unstableEntries(): LogEntry[] {
    return this.stable >= this.lastIndex() ? [] : this.slice(this.stable + 1, this.lastIndex())
  }

  /** The shell persisted entries through `index` in `term` (skipped if the log changed meanwhile). */
  stableTo(index: number, term: number): void {
    if (this.term(index) === term && index > this.stable) this.stable = index
  }

  committedToApply(): LogEntry[] {
    const from = Math.max(this.applied, this.snapIndex) + 1
    const to = Math.min(this.committed, this.stable)
    return to >= from ? this.slice(from, to) : []
  }

  appliedTo(index: number): void {
    if (index > this.applied) this.applied = index
  }

  private truncateFrom(index: number): void {
    this.version += 1
    this.entries = this.entries.slice(0, index - this.snapIndex - 1)
    this.stable = Math.min(this.stable, index - 1)
  }
}
