// The leader's view of one follower: how much of the log it has (match), what to send next,
// and how hard to push. Probe sends one append per heartbeat until the match point is found;
// replicate streams appends optimistically, bounded by in-flight messages (flow control);
// snapshot waits for an InstallSnapshot to land.

export type ProgressState = 'probe' | 'replicate' | 'snapshot'

export class Progress {
  match = 0
  state: ProgressState = 'probe'
  /** In probe: an append is out and unanswered, so wait for a reply or the next heartbeat. */
  probeSent = false
  pendingSnapshot = 0
  /** Heard from since the last check-quorum round. */
  recentActive = true
  /** The leader's tick count when this member last answered. */
  lastHeard = 0
  /** Last index of each append in flight, oldest first. */
  private inflight: number[] = []

  constructor(
    public next: number,
    readonly learner: boolean,
    private readonly maxInflight: number,
  ) {}

  becomeProbe(): void {
    this.next = this.state === 'snapshot' ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1
    this.state = 'probe'
    this.probeSent = false
    this.inflight = []
  }

  becomeReplicate(): void {
    this.state = 'replicate'
    this.next = this.match + 1
    this.inflight = []
  }

  becomeSnapshot(index: number): void {
    this.state = 'snapshot'
    this.pendingSnapshot = index
    this.inflight = []
  }

  /** A successful reply up to `index`; false when it told us nothing new. */
  maybeUpdate(index: number): boolean {
    this.probeSent = false
    if (index <= this.match) return false
    this.match = index
    this.next = Math.max(this.next, index + 1)
    while (this.inflight.length > 0 && this.inflight[0]! <= index) this.inflight.shift()
    return true
  }

  /** A rejection of the append after `rejected`; false when it is stale and should be ignored. */
  maybeDecrease(rejected: number, hint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false
      this.becomeProbe()
      return true
    }
    if (rejected !== this.next - 1) return false
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1)
    this.probeSent = false
    return true
  }

  /** A heartbeat came back while the window is full: appends were probably lost, so let one more out. */
  onHeartbeatResponse(): void {
    this.probeSent = false
    if (this.state === 'replicate' && this.inflight.length >= this.maxInflight) this.inflight.shift()
  }

  sent(lastIndex: number, entries: number): void {
    if (this.state === 'replicate') {
      if (entries > 0) {
        this.next = lastIndex + 1
        this.inflight.push(lastIndex)
      }
    } else if (this.state === 'probe') {
      this.probeSent = true
    }
  }

  isPaused(): boolean {
    if (this.state === 'snapshot') return true
    if (this.state === 'probe') return this.probeSent
    return this.inflight.length >= this.maxInflight
  }
}
