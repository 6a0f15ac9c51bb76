// How many leases a worker holds beyond its slots. A slot that frees up would wait a whole lease
// round trip (a replicated commit) for its next job; with leases in hand it starts one at once.
// The hand grows by the slots that found it empty while a request travelled and shrinks by a
// share of what was still unused when the answer came, so a worker of quick jobs holds many and
// one of slow jobs about none: jobs are not parked on a busy worker while another has room.

export class LeaseAhead {
  private count = 0

  /** `most`: the cap, for quick jobs whose hand would otherwise grow with the rate it allows. */
  constructor(private readonly most: number) {}

  /** Leases to ask for beyond the slots. */
  get wanted(): number {
    return this.count
  }

  /**
   * A lease request came back. `starved`: runs that ended while nothing was held to start next;
   * `unused`: leases still held now, which the hand did not need this time.
   */
  answered(starved: number, unused: number): void {
    if (starved > 0) this.count = Math.min(this.most, this.count + starved)
    else if (unused > 0) this.count = Math.max(0, this.count - Math.ceil(unused / 4))
  }
}
