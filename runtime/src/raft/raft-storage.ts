// Raft's durable state on disk: hard state and entries as records in the write-ahead log (one
// fsync per Ready: group commit), and the latest snapshot in its own file. Replaying the log
// rebuilds the entries: a record of entries starting at index i replaces whatever stood at i and
// after, exactly as the core replaced a conflicting suffix.
import { join } from 'node:path'
import { readSnapshot, writeSnapshot, writeSnapshotInSlices } from './snapshot-file.js'
import type { HardState, LogEntry, Membership, Ready, RestoredState, Snapshot } from './types.js'
import { WriteAheadLog } from './wal.js'
import { entriesJson } from './entry-json.js'
import { nodeFileSystem, type FileSystem } from '../fs/file-system.js'

type Record = { readonly t: 'hs'; readonly hs: HardState } | { readonly t: 'entries'; readonly entries: readonly LogEntry[] }

export interface RaftStorageOptions {
  /** Off only to measure what group commit buys: then every entry gets its own fsync. */
  readonly groupCommit?: boolean
  /** Where log and snapshot live: tests pass a disk whose writes fail, the simulator one in memory. */
  readonly fs?: FileSystem
}

export class RaftStorage {
  private readonly encoder = new TextEncoder()
  /** The index of the snapshot on disk, 0 for none. */
  private snapshotOnDisk = 0
  /** Snapshot files are written one at a time, in the order asked. */
  private snapshotWrites: Promise<unknown> = Promise.resolve()
  /** Each record of entries in the log, oldest first: where it is, and the last Raft index it holds. */
  private entryRecords: { readonly at: number; readonly last: number }[] = []

  private constructor(
    private readonly dir: string,
    private readonly wal: WriteAheadLog,
    private readonly options: RaftStorageOptions,
    /** The last hard state on disk: a rewritten log must carry it forward. */
    private hardState: HardState,
  ) {
    this.written = hardState
  }

  /** The hard state as last written: a newer commit index waits for the next record. */
  private written: HardState

  static async open(dir: string, initialMembership: Membership, options: RaftStorageOptions = {}): Promise<{ storage: RaftStorage; restored: RestoredState }> {
    const fs = options.fs ?? nodeFileSystem
    await fs.mkdir(dir)
    const saved = await readSnapshot<Snapshot>(dir, fs)
    const { wal, records } = await WriteAheadLog.open(join(dir, 'wal'), { fs })
    const decoder = new TextDecoder()
    let hardState: HardState = { term: 0, vote: undefined, commit: 0 }
    let entries: LogEntry[] = []
    const entryRecords: { at: number; last: number }[] = []
    for (const record of records) {
      const parsed = JSON.parse(decoder.decode(record.bytes)) as Record
      if (parsed.t === 'hs') hardState = { ...parsed.hs, vote: parsed.hs.vote ?? undefined }
      else if (parsed.entries.length > 0) {
        const first = parsed.entries[0]!.index
        entries = [...entries.filter((e) => e.index < first), ...parsed.entries]
        entryRecords.push({ at: record.index, last: parsed.entries.at(-1)!.index })
      }
    }
    const snapshot = saved?.data
    if (snapshot) entries = entries.filter((e) => e.index > snapshot.index)
    const storage = new RaftStorage(dir, wal, options, hardState)
    storage.snapshotOnDisk = snapshot?.index ?? 0
    storage.entryRecords = entryRecords
    return { storage, restored: { hardState, snapshot, entries, initialMembership } }
  }

  /**
   * Term and vote must be durable before any message goes out, and so must new entries. The
   * commit index need not be: after a crash a lower one is safe, and the leader repeats it.
   */
  mustSync(ready: Ready): boolean {
    return ready.entries.length > 0 || (ready.hardState !== undefined && (ready.hardState.term !== this.hardState.term || ready.hardState.vote !== this.hardState.vote))
  }

  /** Step 1 of handling a Ready: everything durable before any message leaves. */
  async save(ready: Ready): Promise<void> {
    const mustSync = this.mustSync(ready)
    if (ready.hardState) this.hardState = ready.hardState
    if (ready.snapshot) await this.saveSnapshot(ready.snapshot, [])
    // A Ready that only moves the commit index on writes nothing: after a crash a lower commit
    // index is safe (the leader repeats it), so it goes out with the next record instead of
    // holding the Raft loop for a write of its own.
    if (ready.entries.length === 0 && !mustSync) return
    const records: Record[] = []
    if (ready.entries.length > 0) records.push({ t: 'entries', entries: ready.entries })
    if (this.hardState !== this.written) records.push({ t: 'hs', hs: this.hardState })
    this.written = this.hardState
    if (this.options.groupCommit === false) {
      for (const entry of ready.entries) {
        await this.wal.append([this.record({ t: 'entries', entries: [entry] })])
        this.entryRecords.push({ at: this.wal.lastIndex, last: entry.index })
      }
      for (const record of records) if (record.t === 'hs') await this.wal.append([this.record(record)])
      return
    }
    const first = this.wal.lastIndex + 1
    await this.wal.append(
      records.map((r, i) => ({ index: first + i, bytes: this.encoder.encode(recordJson(r)) })),
      mustSync,
    )
    if (ready.entries.length > 0) this.entryRecords.push({ at: first, last: ready.entries.at(-1)!.index })
  }

  /**
   * After the application took a snapshot: write it, then start the log afresh with the state
   * it does not cover (the hard state and the entries after it).
   */
  async saveSnapshot(snapshot: Snapshot, entriesAfter: readonly LogEntry[]): Promise<void> {
    await this.oneAtATime(async () => {
      await writeSnapshot(this.dir, snapshot.index, snapshot, this.options.fs)
      this.snapshotOnDisk = snapshot.index
    })
    await this.restartLog(entriesAfter)
  }

  /** Starts the log afresh with the hard state and `entriesAfter` (a snapshot on disk covers the rest). */
  private async restartLog(entriesAfter: readonly LogEntry[]): Promise<void> {
    const keep: Record[] = [{ t: 'hs', hs: this.hardState }]
    if (entriesAfter.length > 0) keep.push({ t: 'entries', entries: entriesAfter })
    const first = this.wal.lastIndex + 1
    await this.wal.rewrite(keep.map((r) => this.encoder.encode(recordJson(r))))
    this.entryRecords = entriesAfter.length > 0 ? [{ at: first + 1, last: entriesAfter.at(-1)!.index }] : []
  }

  /**
   * Writes a snapshot this node took, a slice at a time, while the log goes on being written;
   * true once it is durable, false if a newer one (from a leader) got there first. The log
   * keeps what the snapshot covers until `trimLog`, so a crash meanwhile loses nothing.
   */
  writeSnapshotFile(snapshot: Snapshot): Promise<boolean> {
    return this.oneAtATime(async () => {
      if (snapshot.index <= this.snapshotOnDisk) return false
      await writeSnapshotInSlices(this.dir, snapshot.index, snapshot, this.options.fs)
      this.snapshotOnDisk = snapshot.index
      return true
    })
  }

  /**
   * Once the snapshot at `index` is on disk: a new segment starts with the hard state, and the
   * segments whose entries the snapshot covers are deleted. Nothing is copied (at thousands of
   * commits a second, rewriting the entries written since the snapshot began stalled the peer),
   * so the log keeps the entries since the snapshot's segment until the next snapshot.
   */
  async trimLog(index: number): Promise<void> {
    if (index !== this.snapshotOnDisk) return
    // Committed entries are never rewritten, so the records after the first one reaching past the snapshot are all still needed.
    const keepFrom = this.entryRecords.find((r) => r.last > index)?.at ?? this.wal.lastIndex + 1
    await this.wal.startSegment([this.encoder.encode(recordJson({ t: 'hs', hs: this.hardState }))], keepFrom)
    this.entryRecords = this.entryRecords.filter((r) => r.at >= keepFrom)
  }

  async close(): Promise<void> {
    await this.snapshotWrites
    await this.wal.close()
  }

  private oneAtATime<T>(write: () => Promise<T>): Promise<T> {
    const done = this.snapshotWrites.then(write)
    this.snapshotWrites = done.catch(() => undefined)
    return done
  }

  private record(r: Record) {
    return { index: this.wal.lastIndex + 1, bytes: this.encoder.encode(recordJson(r)) }
  }
}

/** A record as JSON; entries from the JSON a leader made to send them, when there is one. */
function recordJson(r: Record): string {
  return r.t === 'entries' ? `{"t":"entries","entries":${entriesJson(r.entries, false)}}` : JSON.stringify(r)
}
