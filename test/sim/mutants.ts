// Known Raft and queue bugs, each a small patch to a temporary copy of the sources (never to
// the checkout): `npm run sim:mutants` runs the simulator against each until it fails, to show
// which bugs its faults and checks find and how soon.
export interface Mutant {
  readonly name: string
  readonly bug: string
  /** A path under the repository, a text that occurs in it exactly once, and what replaces it. */
  readonly file: string
  readonly from: string
  readonly to: string
  /** Which simulator hunts it: the pure core's (the default), the real shell's (RaftNode on in-memory disks), or the sharded queue's. */
  readonly simulator?: 'core' | 'shell' | 'shards'
  /** Seeds this one gets at least, whatever `--seeds` says: a bug the faults reach only rarely. */
  readonly minSeeds?: number
}

export const MUTANTS: readonly Mutant[] = [
  {
    name: 'keep-conflicting-entry',
    bug: 'a follower keeps its own entry where the leader sent another of a newer term',
    file: 'runtime/src/raft/log.ts',
    from: 'if (existing === entry.term) continue',
    to: 'if (existing !== undefined) continue',
  },
  {
    name: 'vote-ignores-log',
    bug: 'a vote is granted without checking that the candidate\'s log is at least as up to date',
    file: 'runtime/src/raft/core.ts',
    from: 'const grant = canVote && this.log.isUpToDate(m.lastIndex, m.lastTerm)',
    to: 'const grant = canVote',
  },
  {
    name: 'commit-old-term',
    bug: 'the leader commits an entry of an older term by counting its replicas (Raft figure 8)',
    file: 'runtime/src/raft/core.ts',
    from: 'if (index <= this.log.committed || this.log.term(index) !== this.term) return false',
    to: 'if (index <= this.log.committed) return false',
    // Needs a leader change to line up with an old entry's replicas (caught at seed 783 since
    // the simulator cuts off leaders whose entries have not reached a majority; 11,599 before).
    minSeeds: 20_000,
  },
  {
    name: 'count-unpersisted-self',
    bug: 'the leader counts its own copy toward a commit before it is on its disk',
    file: 'runtime/src/raft/core.ts',
    from: 'id === this.id ? this.log.stableIndex()',
    to: 'id === this.id ? this.log.lastIndex()',
  },
  {
    name: 'append-without-match',
    bug: 'a follower appends entries whose previous entry it does not have with the same term',
    file: 'runtime/src/raft/log.ts',
    from: 'if (!this.matchTerm(prevIndex, prevTerm)) return undefined',
    to: 'if (!this.matchTerm(prevIndex, prevTerm) && prevIndex > this.lastIndex()) return undefined',
  },
  {
    name: 'vote-twice',
    bug: 'a node votes for a second candidate in the same term',
    file: 'runtime/src/raft/core.ts',
    from: 'const canVote = this.vote === m.from ||',
    to: 'const canVote = true ||',
  },
  {
    name: 'quorum-of-one',
    bug: 'the commit index is taken one place too high in the sorted match indexes',
    file: 'runtime/src/raft/core.ts',
    from: 'const index = matches[this.quorum() - 1] ?? 0',
    to: 'const index = matches[Math.max(0, this.quorum() - 2)] ?? 0',
  },
  {
    name: 'concurrency-off-by-one',
    bug: 'a lease is granted when the leased count equals the globalConcurrency limit',
    file: 'runtime/src/queue/state-machine.ts',
    from: '(this.leasedByName.get(job.name) ?? 0) >= limit',
    to: '(this.leasedByName.get(job.name) ?? 0) > limit',
  },
  {
    name: 'rate-off-by-one',
    bug: 'a rate window admits one start more than its max',
    file: 'runtime/src/queue/state-machine.ts',
    from: 'if (window.length >= rate.max) {',
    to: 'if (window.length > rate.max) {',
  },
  {
    name: 'parent-after-first-child',
    bug: 'a flow parent is queued once its first child is done',
    file: 'runtime/src/queue/state-machine.ts',
    from: 'if (parent.childrenDone.length >= parent.childIds.length)',
    to: 'if (parent.childrenDone.length >= 1)',
  },
  {
    name: 'snapshot-shares-array',
    bug: 'a parent\'s finished children are recorded in place, in an array a snapshot shares',
    file: 'runtime/src/queue/state-machine.ts',
    from: 'parent.childrenDone = [...done, child.id]',
    to: 'done.push(child.id); parent.childrenDone = done',
  },
  {
    name: 'heap-ties-unordered',
    bug: 'changes due at the same moment come out in an order that depends on how the heap was built',
    file: 'runtime/src/queue/state-machine.ts',
    from: 'a.at < b.at || (a.at === b.at && a.jobId < b.jobId)',
    to: 'a.at < b.at',
  },
  {
    name: 'unfenced-outcome',
    bug: 'an outcome is accepted from the right worker for any attempt, not only the one holding the lease',
    file: 'runtime/src/queue/state-machine.ts',
    from: 'if (job.lease.worker !== worker || job.lease.attempt !== ref.attempt) return undefined',
    to: 'if (job.lease.worker !== worker) return undefined',
  },
  {
    name: 'schedule-burst',
    bug: 'a schedule catches up every due time it missed, in one burst',
    file: 'runtime/src/queue/state-machine.ts',
    from: 'nextDue(schedule.spec, time, true)',
    to: 'nextDue(schedule.spec, schedule.nextAt, true)',
  },
  {
    name: 'pause-ignored',
    bug: 'a lease hands out jobs of a paused name',
    file: 'runtime/src/queue/state-machine.ts',
    from: 'if (this.pauses.isPaused(job.name)) {',
    to: 'if (false && this.pauses.isPaused(job.name)) {',
  },
  {
    name: 'send-before-persist',
    bug: 'the shell sends the messages that must wait for the disk (votes, acknowledgements) before the Ready is durable',
    file: 'runtime/src/raft/node.ts',
    from: `        await this.storage.save(ready)
        this.transport.send(late)`,
    to: `        this.transport.send(late)
        await this.storage.save(ready)`,
    simulator: 'shell',
  },
  {
    name: 'entries-not-synced',
    bug: 'the storage writes new entries and votes but does not fsync them before answering',
    file: 'runtime/src/raft/raft-storage.ts',
    from: `      mustSync,
    )`,
    to: `      false,
    )`,
    simulator: 'shell',
  },
  {
    name: 'snapshot-file-not-synced',
    bug: 'a durable file (the snapshot) is renamed into place without an fsync of its bytes',
    file: 'runtime/src/fs/durable-file.ts',
    from: `    await fill(file, target)
    await syncFile(file, target)`,
    to: `    await fill(file, target)`,
    simulator: 'shell',
  },
  {
    name: 'log-trimmed-before-snapshot',
    bug: 'the log is rewritten without the entries a snapshot covers before the snapshot itself is on disk',
    file: 'runtime/src/raft/raft-storage.ts',
    from: `    await this.oneAtATime(async () => {
      await writeSnapshot(this.dir, snapshot.index, snapshot, this.options.fs)
      this.snapshotOnDisk = snapshot.index
    })
    await this.restartLog(entriesAfter)`,
    to: `    await this.restartLog(entriesAfter)
    await this.oneAtATime(async () => {
      await writeSnapshot(this.dir, snapshot.index, snapshot, this.options.fs)
      this.snapshotOnDisk = snapshot.index
    })`,
    simulator: 'shell',
  },
  {
    name: 'log-trimmed-while-snapshot-written',
    bug: 'a snapshot written in the background counts as on disk as soon as its write starts, so the log is trimmed before it is durable',
    file: 'runtime/src/raft/raft-storage.ts',
    from: `      await writeSnapshotInSlices(this.dir, snapshot.index, snapshot, this.options.fs)
      this.snapshotOnDisk = snapshot.index`,
    to: `      this.snapshotOnDisk = snapshot.index
      void writeSnapshotInSlices(this.dir, snapshot.index, snapshot, this.options.fs).catch(() => undefined)`,
    simulator: 'shell',
  },
  {
    name: 'new-segment-not-synced',
    bug: 'a new log segment\'s directory entry is not made durable, so a crash can lose the whole segment',
    file: 'runtime/src/raft/wal.ts',
    from: `      this.segments.push({ firstIndex, path })
      await syncDir(this.dir, this.fs)`,
    to: `      this.segments.push({ firstIndex, path })`,
    simulator: 'shell',
  },
  {
    name: 'sealed-shard-takes-jobs',
    bug: 'a drained shard still takes new jobs, so one that arrives late is lost when the shard retires',
    file: 'runtime/src/queue/state-machine.ts',
    from: 'if (this.sealed) {',
    to: 'if (this.sealed && false) {',
    simulator: 'shards',
  },
]
