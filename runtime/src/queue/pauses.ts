// Which jobs may not be leased now: the whole queue paused, or some job names. Paused jobs stay
// queued; they are set aside from the ready heap as the lease loop meets them (once each), so a
// paused name at the front of a long queue does not make every lease scan past it, and they go
// back when their name resumes.
export interface PauseState {
  readonly all: boolean
  readonly names: readonly string[]
}

export class Pauses<T extends { readonly jobId: string }> {
  private all = false
  private readonly names = new Set<string>()
  private parked: { name: string; entry: T }[] = []

  isPaused(name: string): boolean {
    return this.all || this.names.has(name)
  }

  /** True when a pause changed something. */
  pause(name: string | undefined): boolean {
    if (name === undefined) {
      const changed = !this.all
      this.all = true
      return changed
    }
    const changed = !this.names.has(name)
    this.names.add(name)
    return changed
  }

  /** Resumes and returns the set-aside entries that may be leased again. */
  resume(name: string | undefined): T[] {
    if (name === undefined) this.all = false
    else this.names.delete(name)
    const back = this.parked.filter((p) => !this.isPaused(p.name))
    this.parked = this.parked.filter((p) => this.isPaused(p.name))
    return back.map((p) => p.entry)
  }

  park(name: string, entry: T): void {
    this.parked.push({ name, entry })
  }

  state(): PauseState {
    return { all: this.all, names: [...this.names].sort() }
  }

  /** A snapshot's pauses; set-aside entries are rebuilt by the lease loop as it meets them. */
  restore(state: PauseState | undefined): void {
    this.all = state?.all ?? false
    this.names.clear()
    for (const name of state?.names ?? []) this.names.add(name)
    this.parked = []
  }
}
