// The seeded nemesis of a torture run: every few hundred milliseconds it starts one fault on
// peers that have none — a SIGKILL and restart, a SIGSTOP and SIGCONT, a partition (dropped or
// black-holed, both ways or one), a slow link, a full disk — and ends it after a while. It keeps
// most faults to a minority of the trusted peers, so the queue mostly has a majority, and now
// and then ignores that rule, so it sometimes has none.
import { setTimeout as sleep } from 'node:timers/promises'
import { Random } from '../sim/random.js'
import { CLIENT, type TortureCluster } from './torture-cluster.js'

export type FaultKind = 'kills' | 'pauses' | 'partitions' | 'slowLinks' | 'diskFull'

export type FaultCounts = Record<FaultKind, number>

export interface NemesisOptions {
  readonly seed: number
  /** Milliseconds between the starts of two faults (drawn between the two). */
  readonly gapMs?: readonly [number, number]
  /** How long one fault lasts. */
  readonly durationMs?: readonly [number, number]
  readonly log?: (line: string) => void
}

export class Nemesis {
  readonly counts: FaultCounts = { kills: 0, pauses: 0, partitions: 0, slowLinks: 0, diskFull: 0 }
  /** Errors met while injecting or ending a fault (a restart that failed, say). */
  readonly problems: string[] = []
  private readonly random: Random
  private readonly busy = new Set<string>()
  private readonly running = new Set<Promise<void>>()

  constructor(
    private readonly cluster: TortureCluster,
    private readonly options: NemesisOptions,
  ) {
    this.random = new Random(options.seed)
  }

  /** Injects faults until `until` (a performance.now() time), then ends them all and heals every link. */
  async run(until: number): Promise<void> {
    const [gapLo, gapHi] = this.options.gapMs ?? [250, 700]
    while (performance.now() < until) {
      await sleep(this.random.int(gapLo, gapHi))
      if (performance.now() >= until) break
      this.startOne()
    }
    await Promise.all(this.running)
    this.cluster.links.healAll()
  }

  private kinds(): FaultKind[] {
    const kinds: FaultKind[] = ['kills', 'pauses', 'partitions', 'slowLinks']
    if (this.cluster.disksFillable) kinds.push('diskFull')
    return kinds
  }

  private startOne(): void {
    const trustedBusy = this.cluster.trusted.filter((p) => this.busy.has(p.name)).length
    const minority = Math.floor((this.cluster.trusted.length - 1) / 2)
    // Mostly keep a majority of trusted peers whole; one fault in ten ignores that.
    const mayTouchTrusted = trustedBusy < minority || this.random.chance(0.1)
    const candidatesOf = (kind: FaultKind) => (kind === 'diskFull' ? this.cluster.trusted : this.cluster.peers).filter((p) => !this.busy.has(p.name) && (mayTouchTrusted || !p.trusted))
    // The kind injected least so far that can be injected now, so that every kind gets its share.
    const kinds = this.kinds().filter((k) => candidatesOf(k).length > 0)
    if (kinds.length === 0) return
    const fewest = Math.min(...kinds.map((k) => this.counts[k]))
    const kind = this.random.pick(kinds.filter((k) => this.counts[k] === fewest))
    const candidates = candidatesOf(kind)
    const peer = this.random.pick(candidates)
    const [lo, hi] = this.options.durationMs ?? [400, 3000]
    const duration = this.random.int(lo, hi)
    const fault = this.inject(kind, peer.name, duration)
    this.running.add(fault)
    void fault.finally(() => this.running.delete(fault))
  }

  private async inject(kind: FaultKind, name: string, duration: number): Promise<void> {
    this.busy.add(name)
    this.counts[kind] += 1
    this.options.log?.(`${kind} ${name} for ${duration} ms`)
    try {
      if (kind === 'kills') await this.kill(name, duration)
      else if (kind === 'pauses') await this.pause(name, duration)
      else if (kind === 'partitions') await this.partition(name, duration)
      else if (kind === 'slowLinks') await this.slow(name, duration)
      else await this.fillDisk(name, duration)
    } catch (err) {
      this.problems.push(`${kind} of ${name}: ${err instanceof Error ? err.message : String(err)}`)
    } finally {
      this.busy.delete(name)
    }
  }

  private async kill(name: string, duration: number): Promise<void> {
    await this.cluster.kill(name)
    await sleep(duration)
    await this.cluster.start(name)
  }

  private async pause(name: string, duration: number): Promise<void> {
    if (!this.cluster.pause(name)) return
    await sleep(duration)
    this.cluster.resume(name)
  }

  /** Cuts `name` off from some of the others: all of them, or one, both ways or one way. */
  private async partition(name: string, duration: number): Promise<void> {
    const mode = this.random.chance(0.5) ? 'drop' : 'blackhole'
    const others = [...this.cluster.peers.map((p) => p.name).filter((n) => n !== name), CLIENT]
    const cut = this.random.chance(0.5) ? others : [this.random.pick(others)]
    const oneWay = cut.length === 1 && this.random.chance(0.5)
    const links: [string, string][] = cut.flatMap((other) => (oneWay ? [[name, other] as [string, string]] : [[name, other] as [string, string], [other, name] as [string, string]]))
    for (const [from, to] of links) this.cluster.links.cut(from, to, mode)
    await sleep(duration)
    for (const [from, to] of links) this.cluster.links.heal(from, to)
  }

  private async slow(name: string, duration: number): Promise<void> {
    const others = [...this.cluster.peers.map((p) => p.name).filter((n) => n !== name), CLIENT]
    const delay = this.random.int(20, 150)
    for (const other of others) {
      this.cluster.links.slow(name, other, delay)
      this.cluster.links.slow(other, name, delay)
    }
    await sleep(duration)
    for (const other of others) {
      this.cluster.links.heal(name, other)
      this.cluster.links.heal(other, name)
    }
  }

  private async fillDisk(name: string, duration: number): Promise<void> {
    const disk = this.cluster.peer(name).disk
    if (!disk) return
    await disk.fill()
    await sleep(duration)
    await disk.free()
  }
}
