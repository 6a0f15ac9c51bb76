// The state of every directed link between the processes of a torture run: cut (its bytes
// dropped with the connection, or held in a black hole) or slowed. Proxies read it for each chunk
// they forward and are told when it changes.

/** `drop` resets connections and refuses new ones; `blackhole` accepts and forwards nothing. */
export type CutMode = 'drop' | 'blackhole'

const key = (from: string, to: string) => `${from}>${to}`

export class Links {
  private readonly cuts = new Map<string, CutMode>()
  private readonly delays = new Map<string, number>()
  private readonly listeners = new Set<() => void>()

  cut(from: string, to: string, mode: CutMode): void {
    this.cuts.set(key(from, to), mode)
    this.changed()
  }

  slow(from: string, to: string, delayMs: number): void {
    this.delays.set(key(from, to), delayMs)
    this.changed()
  }

  /** Every link whole and fast again. */
  healAll(): void {
    this.cuts.clear()
    this.delays.clear()
    this.changed()
  }

  heal(from: string, to: string): void {
    this.cuts.delete(key(from, to))
    this.delays.delete(key(from, to))
    this.changed()
  }

  cutOf(from: string, to: string): CutMode | undefined {
    return this.cuts.get(key(from, to))
  }

  delayOf(from: string, to: string): number {
    return this.delays.get(key(from, to)) ?? 0
  }

  get anyFault(): boolean {
    return this.cuts.size > 0 || this.delays.size > 0
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private changed(): void {
    for (const listener of this.listeners) listener()
  }
}
