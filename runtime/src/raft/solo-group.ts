// A consensus group of one: the degenerate Raft where the leader's own fsync is the majority.
// It keeps Raft's order of work (persist, then apply, then answer) and batches every proposal
// made while the previous batch was on its way to disk into one write and one fsync.
import { PeerqueueError, assert, storageFailure } from '../errors.js'
import type { ApplyResult, Command, Entry } from '../queue/commands.js'
import { QueueStateMachine, type QueueSnapshot } from '../queue/state-machine.js'
import type { ConsensusGroup } from './group.js'
import { readSnapshot, writeSnapshot } from './snapshot-file.js'
import { WriteAheadLog } from './wal.js'
import { StorageRecovery } from './storage-recovery.js'
import type { FileSystem } from '../fs/file-system.js'

const MAX_BATCH = 4096
export const DEFAULT_SNAPSHOT_EVERY = 50_000

interface Proposal {
  readonly commands: readonly Command[]
  resolve(results: ApplyResult[]): void
  reject(err: Error): void
}

export interface SoloGroupOptions {
  readonly dir: string
  readonly now?: () => number
  readonly snapshotEvery?: number
  /** Where log and snapshot live: tests pass a disk whose writes fail. */
  readonly fs?: FileSystem
  readonly onError?: (err: unknown) => void
  /** Where the group says it is waiting for its disk, and that it is back. */
  readonly log?: (line: string) => void
}

export class SoloGroup implements ConsensusGroup {
  private pending: Proposal[] = []
  private flushing = false
  private closed = false
  private lastTime = 0
  private sinceSnapshot = 0
  private failure: PeerqueueError | undefined
  private shutDown = false
  private readonly recovery: StorageRecovery

  private constructor(
    readonly state: QueueStateMachine,
    private wal: WriteAheadLog,
    private readonly options: SoloGroupOptions,
  ) {
    this.recovery = new StorageRecovery(options.dir, () => this.reopen(), options.log)
  }

  static async open(options: SoloGroupOptions): Promise<SoloGroup> {
    const state = new QueueStateMachine()
    const snapshot = await readSnapshot<QueueSnapshot>(options.dir, options.fs)
    if (snapshot) state.restore(snapshot.data)
    const { wal, records } = await WriteAheadLog.open(options.dir, { fs: options.fs })
    const decoder = new TextDecoder()
    for (const record of records) {
      if (record.index <= state.appliedIndex) continue
      state.apply(JSON.parse(decoder.decode(record.bytes)) as Entry)
    }
    assert(wal.lastIndex >= state.appliedIndex, 'snapshot is ahead of the log')
    const group = new SoloGroup(state, wal, options)
    group.lastTime = records.length > 0 ? (JSON.parse(decoder.decode(records.at(-1)!.bytes)) as Entry).time : 0
    return group
  }

  isLeader(): boolean {
    return !this.closed
  }

  stoppedBy(): PeerqueueError | undefined {
    return this.failure
  }

  refusal(): PeerqueueError {
    return this.failure ?? new PeerqueueError('E_CLOSED', 'the queue is shutting down')
  }

  propose(commands: readonly Command[]): Promise<ApplyResult[]> {
    if (this.closed) return Promise.reject(this.refusal())
    return new Promise((resolve, reject) => {
      this.pending.push({ commands, resolve, reject })
      if (!this.flushing) void this.flush()
    })
  }

  async close(): Promise<void> {
    this.closed = true
    this.shutDown = true
    this.recovery.close()
    while (this.flushing) await new Promise((r) => setTimeout(r, 5))
    await this.wal.close()
  }

  private async flush(): Promise<void> {
    this.flushing = true
    try {
      while (this.pending.length > 0) {
        const batch = this.takeBatch()
        const entries = this.toEntries(batch)
        const encoder = new TextEncoder()
        try {
          await this.wal.append(entries.map((e) => ({ index: e.index, bytes: encoder.encode(JSON.stringify(e)) })))
        } catch (err) {
          this.stop(err, batch)
          return
        }
        let next = 0
        for (const proposal of batch) {
          const results = proposal.commands.map(() => this.state.apply(entries[next++]!))
          proposal.resolve(results)
        }
        this.sinceSnapshot += entries.length
        if (this.sinceSnapshot >= Math.max(this.options.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY, this.state.size)) {
          try {
            await this.snapshot()
          } catch (err) {
            this.stop(err, [])
            return
          }
        }
      }
    } finally {
      this.flushing = false
    }
  }

  /** The disk state is unknown after a failed write or fsync: stop accepting rather than risk an acknowledgement. */
  private stop(err: unknown, batch: readonly Proposal[]): void {
    this.failure = storageFailure(err)
    this.closed = true
    for (const p of [...batch, ...this.pending.splice(0)]) p.reject(this.failure)
    this.options.onError?.(this.failure)
    this.recovery.begin()
  }

  /**
   * Reads the log as a restart would, once the disk takes writes again. Whole records of the
   * batch that failed may be there: they were never acknowledged, and a restart would apply
   * them too, so they are applied here.
   */
  private async reopen(): Promise<void> {
    while (this.flushing) await new Promise((r) => setTimeout(r, 5))
    await this.wal.close().catch(() => undefined)
    const { wal, records } = await WriteAheadLog.open(this.options.dir, { fs: this.options.fs })
    const decoder = new TextDecoder()
    for (const record of records) {
      if (record.index > this.state.appliedIndex) this.state.apply(JSON.parse(decoder.decode(record.bytes)) as Entry)
    }
    this.wal = wal
    if (this.shutDown) return wal.close()
    this.failure = undefined
    this.closed = false
  }

  private takeBatch(): Proposal[] {
    let count = 0
    let taken = 0
    while (taken < this.pending.length && (taken === 0 || count + this.pending[taken]!.commands.length <= MAX_BATCH)) {
      count += this.pending[taken]!.commands.length
      taken += 1
    }
    return this.pending.splice(0, taken)
  }

  private toEntries(batch: readonly Proposal[]): Entry[] {
    this.lastTime = Math.max(this.lastTime, (this.options.now ?? Date.now)())
    let index = this.wal.lastIndex
    return batch.flatMap((p) => p.commands.map((command) => ({ index: ++index, time: this.lastTime, command })))
  }

  private async snapshot(): Promise<void> {
    const snapshot = this.state.snapshot()
    await writeSnapshot(this.options.dir, snapshot.appliedIndex, snapshot, this.options.fs)
    await this.wal.compactThrough(snapshot.appliedIndex)
    this.sinceSnapshot = 0
  }
}
