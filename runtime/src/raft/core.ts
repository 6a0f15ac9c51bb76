// The Raft protocol as a pure state machine (after etcd-io/raft): it takes messages, ticks and
// proposals and hands back a Ready of what to persist, send and apply. No disk, network, clock
// or randomness of its own, so the same code runs on libp2p, in one process and in the
// deterministic simulator.
import { entryJson } from './entry-json.js'
import { PeerqueueError, assert } from '../errors.js'
import { RaftLog } from './log.js'
import { Progress } from './progress.js'
import type { ConfChange, EntryPayload, HardState, LogEntry, Membership, Message, NodeId, RaftConfig, Ready, ReadState, RestoredState, Role, Snapshot } from './types.js'

type Outgoing = Message extends infer M ? (M extends Message ? Omit<M, 'group' | 'from' | 'term'> & { term?: number } : never) : never

interface PendingRead {
  readonly ctx: string
  readonly index: number
  readonly acks: Set<NodeId>
}

export class RaftCore {
  role: Role = 'follower'
  term = 0
  vote: NodeId | undefined
  leader: NodeId | undefined
  membership: Membership
  readonly log = new RaftLog()

  private ticks = 0
  private electionElapsed = 0
  private heartbeatElapsed = 0
  private randomizedTimeout = 0
  private votes = new Map<NodeId, boolean>()
  private progress = new Map<NodeId, Progress>()
  private pendingConfIndex = 0
  private transferee: NodeId | undefined
  private outbox: Message[] = []
  private reads: ReadState[] = []
  private pendingReads: PendingRead[] = []
  /** Reads asked for before this leader committed an entry of its term: they wait for it. */
  private readsAwaitingCommit: string[] = []
  private persisted: HardState

  constructor(
    private readonly config: RaftConfig,
    restored: RestoredState,
  ) {
    this.term = restored.hardState.term
    this.vote = restored.hardState.vote
    this.log.restore(restored.snapshot, restored.entries, restored.hardState.commit)
    this.membership = restored.snapshot?.membership ?? restored.initialMembership
    this.persisted = { ...restored.hardState, commit: this.log.committed }
    this.resetRandomizedTimeout()
  }

  get id(): NodeId {
    return this.config.id
  }

  get isLeader(): boolean {
    return this.role === 'leader'
  }

  /** The leader's view of each member (empty on followers): how far its log matches, and whether it answered lately. */
  followers(): { id: NodeId; match: number; active: boolean; learner: boolean }[] {
    if (this.role !== 'leader') return []
    const alive = (pr: Progress) => this.ticks - pr.lastHeard <= this.config.electionTicks
    return [...this.progress].map(([id, pr]) => ({ id, match: id === this.id ? this.log.lastIndex() : pr.match, active: id === this.id || alive(pr), learner: pr.learner }))
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed }
  }

  /** One unit of logical time: elections for followers, heartbeats and check-quorum for leaders. */
  tick(): void {
    this.ticks += 1
    if (this.role === 'leader') this.tickLeader()
    else this.tickElection()
  }

  /**
   * Appends entries if this node leads and no leadership transfer is under way; returns the index
   * of the last. A proposal can be lost without notice (the leader may be deposed before it
   * commits); retrying is the caller's job, with request ids that make a repeat harmless.
   */
  propose(payloads: readonly unknown[]): number {
    this.requireLeader()
    if (this.transferee !== undefined) throw new PeerqueueError('E_NOT_LEADER', `leadership is moving to ${this.transferee}`)
    return this.appendEntries(payloads.map((data) => ({ kind: 'data' as const, data })))
  }

  proposeConfChange(change: ConfChange): number {
    this.requireLeader()
    if (this.pendingConfIndex > this.log.applied) {
      throw new PeerqueueError('E_CONF_PENDING', 'a membership change is still in progress; retry when it has been applied')
    }
    this.checkConfChange(change)
    const index = this.appendEntries([{ kind: 'conf', change }])
    this.pendingConfIndex = index
    return index
  }

  /** Asks for a linearizable read; it appears in a later Ready's `reads` with the index to wait for. */
  readIndex(ctx: string): void {
    this.requireLeader()
    if (this.log.term(this.log.committed) !== this.term) {
      this.readsAwaitingCommit.push(ctx)
      return
    }
    this.startRead(ctx)
  }

  transferLeadership(to: NodeId): void {
    this.requireLeader()
    if (to === this.id) return
    if (!this.membership.voters.includes(to)) throw new PeerqueueError('E_USAGE', `${to} is not a voting member`)
    this.transferee = to
    this.electionElapsed = 0
    const pr = this.progress.get(to)!
    if (pr.match === this.log.lastIndex()) this.send({ to, type: 'timeoutNow' })
    else this.sendAppend(to)
  }

  /** The application took a snapshot of its state at the applied index: drop the log before it. */
  compact(index: number, data: unknown): void {
    assert(index === this.log.applied, `compact at ${index}, applied is ${this.log.applied}`)
    const term = this.log.term(index)
    assert(term !== undefined, `compact at ${index}: no term`)
    this.log.compact({ index, term, membership: this.membership, data })
  }

  step(m: Message): void {
    if (m.group !== this.config.group || m.to !== this.id) return
    if (m.term > this.term && !this.stepHigherTerm(m)) return
    if (m.term < this.term) {
      this.stepLowerTerm(m)
      return
    }
    if (m.type === 'vote') {
      this.answerVote(m)
      return
    }
    if (this.role === 'leader') this.stepLeader(m)
    else if (this.role === 'follower') this.stepFollower(m)
    else this.stepCandidate(m)
  }

  hasReady(): boolean {
    const hs = this.hardState()
    return (
      this.outbox.length > 0 ||
      this.reads.length > 0 ||
      this.log.pendingSnapshot !== undefined ||
      this.log.unstableEntries().length > 0 ||
      this.log.committedToApply().length > 0 ||
      hs.term !== this.persisted.term ||
      hs.vote !== this.persisted.vote ||
      hs.commit !== this.persisted.commit
    )
  }

  /** Collects the work for the shell. Do not call again before advance(); step() and tick() are fine. */
  ready(): Ready {
    const hs = this.hardState()
    const changed = hs.term !== this.persisted.term || hs.vote !== this.persisted.vote || hs.commit !== this.persisted.commit
    const ready: Ready = {
      hardState: changed ? hs : undefined,
      entries: this.log.unstableEntries(),
      snapshot: this.log.pendingSnapshot,
      messages: this.outbox,
      committed: this.log.committedToApply(),
      reads: this.reads,
    }
    this.outbox = []
    this.reads = []
    return ready
  }

  advance(ready: Ready): void {
    if (ready.hardState) this.persisted = ready.hardState
    if (ready.snapshot) {
      if (this.log.pendingSnapshot === ready.snapshot) this.log.pendingSnapshot = undefined
      this.log.appliedTo(ready.snapshot.index)
    }
    const last = ready.entries.at(-1)
    if (last) {
      this.log.stableTo(last.index, last.term)
      if (this.role === 'leader') this.maybeCommit()
    }
    for (const entry of ready.committed) {
      if (entry.index <= this.log.applied) continue
      this.log.appliedTo(entry.index)
      if (entry.kind === 'conf') this.applyConfChange(entry.change)
    }
  }

  // ---- roles -------------------------------------------------------------------------

  private becomeFollower(term: number, leader: NodeId | undefined): void {
    if (term > this.term) {
      this.term = term
      this.vote = undefined
    }
    this.role = 'follower'
    this.leader = leader
    this.resetTimers()
  }

  private becomePreCandidate(): void {
    this.role = 'preCandidate'
    this.leader = undefined
    this.votes = new Map([[this.id, true]])
    this.resetTimers()
  }

  private becomeCandidate(): void {
    this.term += 1
    this.vote = this.id
    this.role = 'candidate'
    this.leader = undefined
    this.votes = new Map([[this.id, true]])
    this.resetTimers()
  }

  private becomeLeader(): void {
    this.role = 'leader'
    this.leader = this.id
    this.resetTimers()
    this.progress = new Map()
    for (const id of [...this.membership.voters, ...this.membership.learners]) this.addProgress(id)
    this.pendingConfIndex = this.log.lastIndex()
    this.pendingReads = []
    this.appendEntries([{ kind: 'noop' }])
  }

  private resetTimers(): void {
    this.electionElapsed = 0
    this.heartbeatElapsed = 0
    this.transferee = undefined
    this.resetRandomizedTimeout()
    if (this.role !== 'leader') {
      this.pendingReads = []
      this.readsAwaitingCommit = []
    }
  }

  private resetRandomizedTimeout(): void {
    this.randomizedTimeout = this.config.electionTicks + Math.floor(this.config.random() * this.config.electionTicks)
  }

  private isPromotable(): boolean {
    return this.membership.voters.includes(this.id)
  }

  /**
   * The connection to `leader` broke (its process died, or the network dropped it). Rather than
   * wait out a whole election timeout, campaign within a few ticks. This is safe, and harmless
   * if the leader is in fact alive: with pre-vote and check-quorum, a peer still hearing the
   * leader refuses to vote, so only a majority that lost the leader can elect another.
   */
  leaderUnreachable(leader: NodeId): void {
    if (this.role === 'leader' || this.leader !== leader || !this.isPromotable()) return
    this.electionElapsed = Math.max(this.electionElapsed, this.config.electionTicks)
    // The voters left take turns by id, three ticks apart: followers that lost the leader together
    // would otherwise often campaign in the same tick and split the vote, and then wait out a whole
    // election timeout (failovers of 450-990 ms against ~100). The first may find the next one still
    // hearing the dead leader and be refused; the next then campaigns on its own turn.
    const turn = this.membership.voters.filter((id) => id !== leader).sort().indexOf(this.id)
    this.randomizedTimeout = this.electionElapsed + 1 + 3 * turn + Math.floor(this.config.random() * 2)
  }

  // ---- ticks -------------------------------------------------------------------------

  private tickElection(): void {
    this.electionElapsed += 1
    if (this.isPromotable() && this.electionElapsed >= this.randomizedTimeout) this.campaign(this.config.preVote, false)
  }

  private tickLeader(): void {
    this.heartbeatElapsed += 1
    this.electionElapsed += 1
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0
      if (this.config.checkQuorum && !this.quorumActive()) {
        this.becomeFollower(this.term, undefined)
        return
      }
      this.transferee = undefined
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0
      this.broadcastHeartbeat(undefined)
    }
  }

  /** Check-quorum: a leader that has not heard from a majority within an election timeout steps down. */
  private quorumActive(): boolean {
    let active = 0
    for (const id of this.membership.voters) {
      const pr = this.progress.get(id)
      if (id === this.id || pr?.recentActive) active += 1
      if (pr) pr.recentActive = false
    }
    return active >= this.quorum()
  }

  // ---- elections ---------------------------------------------------------------------

  private campaign(preVote: boolean, transfer: boolean): void {
    if (preVote) this.becomePreCandidate()
    else this.becomeCandidate()
    if (this.countVotes() === 'won') {
      if (preVote) this.campaign(false, transfer)
      else this.becomeLeader()
      return
    }
    const term = preVote ? this.term + 1 : this.term
    for (const to of this.membership.voters) {
      if (to === this.id) continue
      this.send({ to, term, type: 'vote', preVote, lastIndex: this.log.lastIndex(), lastTerm: this.log.lastTerm(), transfer })
    }
  }

  private countVotes(): 'won' | 'lost' | 'pending' {
    let granted = 0
    let rejected = 0
    for (const id of this.membership.voters) {
      const v = this.votes.get(id)
      if (v === true) granted += 1
      else if (v === false) rejected += 1
    }
    if (granted >= this.quorum()) return 'won'
    if (rejected > this.membership.voters.length - this.quorum()) return 'lost'
    return 'pending'
  }

  private answerVote(m: Extract<Message, { type: 'vote' }>): void {
    const canVote = this.vote === m.from || (this.vote === undefined && this.leader === undefined) || (m.preVote && m.term > this.term)
    // Learners vote too: one may have been promoted without having applied the change yet, and
    // candidates count only the votes of their own voters.
    const grant = canVote && this.log.isUpToDate(m.lastIndex, m.lastTerm)
    // A granted pre-vote answers at the campaign's future term so the candidate counts it.
    this.send({ to: m.from, term: grant && m.preVote ? m.term : this.term, type: 'voteResp', preVote: m.preVote, reject: !grant })
    if (grant && !m.preVote) {
      this.electionElapsed = 0
      this.vote = m.from
    }
  }

  /** Returns false when the message must be dropped without touching our term. */
  private stepHigherTerm(m: Message): boolean {
    if (m.type === 'vote') {
      const inLease = this.config.checkQuorum && this.leader !== undefined && this.electionElapsed < this.config.electionTicks
      // Leader stickiness: while we hear from a live leader, a rejoining node cannot depose it.
      if (inLease && !m.transfer) return false
      if (m.preVote) return true
    }
    if (m.type === 'voteResp' && m.preVote && !m.reject) return true
    const fromLeader = m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot'
    this.becomeFollower(m.term, fromLeader ? m.from : undefined)
    return true
  }

  private stepLowerTerm(m: Message): void {
    if ((this.config.checkQuorum || this.config.preVote) && (m.type === 'append' || m.type === 'heartbeat')) {
      // Tell a deposed leader about the newer term so it steps down.
      this.send({ to: m.from, type: 'appendResp', reject: false, index: 0, hintIndex: 0, hintTerm: 0 })
    } else if (m.type === 'vote' && m.preVote) {
      this.send({ to: m.from, type: 'voteResp', preVote: true, reject: true })
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        this.becomeFollower(m.term, m.from)
        this.stepFollower(m)
        return
      case 'voteResp': {
        if (m.preVote !== (this.role === 'preCandidate')) return
        this.votes.set(m.from, !m.reject)
        const outcome = this.countVotes()
        if (outcome === 'won') {
          if (this.role === 'preCandidate') this.campaign(false, false)
          else this.becomeLeader()
        } else if (outcome === 'lost') {
          this.becomeFollower(this.term, undefined)
        }
        return
      }
      default:
        return
    }
  }

  // ---- follower ----------------------------------------------------------------------

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'append':
        this.heardFromLeader(m.from)
        this.handleAppend(m)
        return
      case 'heartbeat':
        this.heardFromLeader(m.from)
        this.log.commitTo(Math.min(m.commit, this.log.lastIndex()))
        this.send({ to: m.from, type: 'heartbeatResp', readCtx: m.readCtx })
        return
      case 'snapshot':
        this.heardFromLeader(m.from)
        this.handleSnapshot(m.snapshot, m.from)
        return
      case 'timeoutNow':
        if (this.isPromotable()) this.campaign(false, true)
        return
      default:
        return
    }
  }

  private heardFromLeader(from: NodeId): void {
    this.electionElapsed = 0
    this.leader = from
  }

  private handleAppend(m: Extract<Message, { type: 'append' }>): void {
    if (m.prevIndex < this.log.committed) {
      this.send({ to: m.from, type: 'appendResp', reject: false, index: this.log.committed, hintIndex: 0, hintTerm: 0 })
      return
    }
    const lastNew = this.log.maybeAppend(m.prevIndex, m.prevTerm, m.entries)
    if (lastNew !== undefined) {
      this.log.commitTo(Math.min(m.commit, lastNew))
      this.send({ to: m.from, type: 'appendResp', reject: false, index: lastNew, hintIndex: 0, hintTerm: 0 })
      return
    }
    const hintIndex = this.log.findConflictByTerm(Math.min(m.prevIndex, this.log.lastIndex()), m.prevTerm)
    this.send({ to: m.from, type: 'appendResp', reject: true, index: m.prevIndex, hintIndex, hintTerm: this.log.term(hintIndex) ?? 0 })
  }

  private handleSnapshot(snapshot: Snapshot, from: NodeId): void {
    if (snapshot.index <= this.log.committed) {
      this.send({ to: from, type: 'appendResp', reject: false, index: this.log.committed, hintIndex: 0, hintTerm: 0 })
      return
    }
    if (this.log.matchTerm(snapshot.index, snapshot.term)) {
      this.log.commitTo(snapshot.index)
    } else {
      this.log.installSnapshot(snapshot)
      this.membership = snapshot.membership
    }
    this.send({ to: from, type: 'appendResp', reject: false, index: this.log.lastIndex(), hintIndex: 0, hintTerm: 0 })
  }

  // ---- leader ------------------------------------------------------------------------

  private stepLeader(m: Message): void {
    const pr = this.progress.get(m.from)
    if (!pr) return
    pr.lastHeard = this.ticks
    switch (m.type) {
      case 'appendResp':
        pr.recentActive = true
        if (m.reject) this.handleRejection(m.from, pr, m)
        else this.handleAcceptance(m.from, pr, m.index)
        return
      case 'heartbeatResp':
        pr.recentActive = true
        pr.onHeartbeatResponse()
        if (pr.state === 'snapshot') pr.becomeProbe()
        if (pr.match < this.log.lastIndex()) this.sendAppend(m.from)
        if (m.readCtx !== undefined) this.ackRead(m.readCtx, m.from)
        return
      default:
        return
    }
  }

  private handleRejection(from: NodeId, pr: Progress, m: Extract<Message, { type: 'appendResp' }>): void {
    const hint = m.hintTerm > 0 ? this.log.findConflictByTerm(m.hintIndex, m.hintTerm) : m.hintIndex
    if (pr.maybeDecrease(m.index, hint)) this.sendAppend(from)
  }

  private handleAcceptance(from: NodeId, pr: Progress, index: number): void {
    const wasPaused = pr.isPaused()
    if (!pr.maybeUpdate(index)) {
      if (wasPaused && !pr.isPaused()) this.sendAppend(from)
      return
    }
    if (pr.state === 'probe') pr.becomeReplicate()
    else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) pr.becomeProbe()
    // A commit that moves on here is not broadcast as appends of no entries: followers learn it
    // from the next append or heartbeat (every tick). Those appends, and the answers they drew,
    // were four more messages a commit; at light load the leader's answers to clients and workers
    // left after them, behind two socket writes that each wake a follower.
    this.maybeCommit()
    while (pr.next <= this.log.lastIndex() && !pr.isPaused() && this.sendAppend(from)) { /* stream while allowed */ }
    if (from === this.transferee && pr.match === this.log.lastIndex()) this.send({ to: from, type: 'timeoutNow' })
  }

  /** Commits the highest index stored on a majority of voters, but only if it is of this term. */
  private maybeCommit(): boolean {
    // The leader's own copy counts only once persisted: its appends may have left before its write.
    const matches = this.membership.voters.map((id) => (id === this.id ? this.log.stableIndex() : (this.progress.get(id)?.match ?? 0))).sort((a, b) => b - a)
    const index = matches[this.quorum() - 1] ?? 0
    if (index <= this.log.committed || this.log.term(index) !== this.term) return false
    this.log.commitTo(index)
    if (this.readsAwaitingCommit.length > 0) {
      const waiting = this.readsAwaitingCommit
      this.readsAwaitingCommit = []
      for (const ctx of waiting) this.startRead(ctx)
    }
    return true
  }

  private appendEntries(payloads: readonly EntryPayload[]): number {
    let index = this.log.lastIndex()
    this.log.append(payloads.map((p) => ({ ...p, index: ++index, term: this.term }) as LogEntry))
    this.maybeCommit()
    this.broadcastAppend()
    return index
  }

  private broadcastAppend(): void {
    for (const id of this.progress.keys()) if (id !== this.id) this.sendAppend(id)
  }

  private broadcastHeartbeat(readCtx: string | undefined): void {
    for (const [to, pr] of this.progress) {
      if (to === this.id) continue
      this.send({ to, type: 'heartbeat', commit: Math.min(pr.match, this.log.committed), readCtx })
    }
  }

  /** Sends the next append (or the snapshot) to one follower; false when nothing was sent. */
  private sendAppend(to: NodeId): boolean {
    const pr = this.progress.get(to)
    if (!pr || pr.isPaused()) return false
    const prevIndex = pr.next - 1
    const prevTerm = this.log.term(prevIndex)
    if (prevTerm === undefined) {
      const snapshot = this.log.snapshot
      assert(snapshot !== undefined, `no snapshot to send ${to} at ${prevIndex}`)
      pr.becomeSnapshot(snapshot.index)
      this.send({ to, type: 'snapshot', snapshot })
      return true
    }
    const entries = this.entriesToSend(prevIndex)
    const last = prevIndex + entries.length
    this.send({ to, type: 'append', prevIndex, prevTerm, entries, commit: this.log.committed })
    pr.sent(last, entries.length)
    return entries.length > 0
  }

  /** The entries after `prevIndex` for one append: bounded in count and in bytes, never empty if any are due. */
  private entriesToSend(prevIndex: number): LogEntry[] {
    const last = Math.min(this.log.lastIndex(), prevIndex + this.config.maxEntriesPerMessage)
    if (last <= prevIndex) return []
    const entries = this.log.slice(prevIndex + 1, last)
    if (entries.length === 1) return entries
    let bytes = 0
    for (let i = 0; i < entries.length; i++) {
      bytes += entryBytes(entries[i]!)
      if (i > 0 && bytes > this.config.maxBytesPerMessage) return entries.slice(0, i)
    }
    return entries
  }

  // ---- reads -------------------------------------------------------------------------

  private startRead(ctx: string): void {
    const index = this.log.committed
    if (this.membership.voters.length === 1 || (this.config.leaseReads && this.config.checkQuorum)) {
      this.reads.push({ ctx, index })
      return
    }
    this.pendingReads.push({ ctx, index, acks: new Set([this.id]) })
    this.broadcastHeartbeat(ctx)
  }

  private ackRead(ctx: string, from: NodeId): void {
    const at = this.pendingReads.findIndex((r) => r.ctx === ctx)
    if (at < 0) return
    const read = this.pendingReads[at]!
    if (this.membership.voters.includes(from)) read.acks.add(from)
    if (read.acks.size < this.quorum()) return
    // A quorum confirmed leadership after this read began, so it also holds for earlier reads.
    for (const done of this.pendingReads.splice(0, at + 1)) this.reads.push({ ctx: done.ctx, index: done.index })
  }

  // ---- membership --------------------------------------------------------------------

  private checkConfChange(change: ConfChange): void {
    const { voters, learners } = this.membership
    if (change.type === 'addVoter' && voters.includes(change.node)) throw new PeerqueueError('E_USAGE', `${change.node} is already a voter`)
    if (change.type === 'addLearner' && (voters.includes(change.node) || learners.includes(change.node))) {
      throw new PeerqueueError('E_USAGE', `${change.node} is already a member`)
    }
    if (change.type === 'remove' && !voters.includes(change.node) && !learners.includes(change.node)) {
      throw new PeerqueueError('E_USAGE', `${change.node} is not a member`)
    }
    if (change.type === 'remove' && voters.length === 1 && voters[0] === change.node) throw new PeerqueueError('E_USAGE', 'cannot remove the last voter')
  }

  private applyConfChange(change: ConfChange): void {
    const voters = this.membership.voters.filter((id) => id !== change.node)
    const learners = this.membership.learners.filter((id) => id !== change.node)
    if (change.type === 'addVoter') voters.push(change.node)
    if (change.type === 'addLearner') learners.push(change.node)
    this.membership = { voters: voters.sort(), learners: learners.sort() }
    if (this.role !== 'leader') return
    if (change.type === 'remove') {
      this.progress.delete(change.node)
      if (change.node === this.id) {
        this.becomeFollower(this.term, undefined)
        return
      }
      if (this.transferee === change.node) this.transferee = undefined
      if (this.maybeCommit()) this.broadcastAppend()
    } else {
      const existing = this.progress.get(change.node)
      if (existing) {
        const promoted = new Progress(existing.next, change.type === 'addLearner', this.config.maxInflightMessages)
        promoted.match = existing.match
        this.progress.set(change.node, promoted)
      } else {
        this.addProgress(change.node)
        this.sendAppend(change.node)
      }
    }
  }

  private addProgress(id: NodeId): void {
    const pr = new Progress(this.log.lastIndex() + 1, this.membership.learners.includes(id), this.config.maxInflightMessages)
    pr.lastHeard = this.ticks
    if (id === this.id) pr.match = this.log.lastIndex()
    this.progress.set(id, pr)
  }

  private quorum(): number {
    return Math.floor(this.membership.voters.length / 2) + 1
  }

  private requireLeader(): void {
    if (this.role !== 'leader') {
      throw new PeerqueueError('E_NOT_LEADER', this.leader ? `not the leader; ${this.leader} is` : 'not the leader, and no leader is known')
    }
  }

  private send(m: Outgoing): void {
    this.outbox.push({ ...m, group: this.config.group, from: this.id, term: m.term ?? this.term } as Message)
  }
}

/** About the bytes an entry takes on the wire (its JSON, made once: appends resend it). */
function entryBytes(entry: LogEntry): number {
  return entryJson(entry).length
}
