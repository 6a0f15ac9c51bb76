// Admission from capacity: the root leader turns the census into a bound on unfinished jobs and
// refuses enqueues above it (E_QUEUE_SATURATED, with a hint of when to try again), sharing what
// it admits fairly among submitters. The bound follows the lower end of the census' 95% interval
// of free handler slots, not its point estimate, and moves only when the network changed by more
// than a fifth (and falls by at most half a poll), so noise in the estimate does not make it flap.
import type { Interval } from '../census/estimator.js'

export interface SaturationSettings {
  /** Unfinished jobs allowed per free handler slot the census finds (the lower end of its interval). */
  readonly jobsPerFreeSlot: number
  /** The bound never goes below this, even with no census yet or no free slot. */
  readonly minCapacity: number
  /** How long a client waits for room by default before it gives up. */
  readonly maxWaitMs: number
  /** A submitter's share under saturation is proportional to its weight (default 1). */
  readonly weights: Readonly<Record<string, number>>
}

export type AdmissionDecision = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number; readonly message: string }

/** The bound moves only when the capacity found differs from it by more than this factor. */
const HYSTERESIS = 1.2
/** Out of saturation once unfinished jobs fall below this share of the bound. */
const LEAVE_AT = 0.9
/** Finished jobs are counted over this long to estimate how fast room is made. */
const RATE_WINDOW_MS = 10_000
const MIN_RETRY_MS = 100
const MAX_RETRY_MS = 30_000
/** With no finished job to go by (no worker yet), ask again after this long. */
const NO_RATE_RETRY_MS = 2_000

export interface AdmissionView {
  readonly bound: number
  /** The free slots the bound came from (the census interval), or null before the first estimate. */
  readonly capacity: Interval | null
  readonly saturated: boolean
  /** Jobs finished per second, lately. */
  readonly completionRate: number
}

export class Admission {
  private current: number
  private capacity: Interval | null = null
  private saturated = false
  private finishedAt: number[] = []

  constructor(private readonly settings: SaturationSettings) {
    this.current = settings.minCapacity
  }

  get bound(): number {
    return this.current
  }

  /** A new census estimate of free handler slots. */
  census(freeSlots: Interval): void {
    this.capacity = freeSlots
    const low = Number.isFinite(freeSlots.low) ? freeSlots.low : 0
    const wanted = Math.max(this.settings.minCapacity, Math.floor(this.settings.jobsPerFreeSlot * low))
    if (wanted > this.current * HYSTERESIS) this.current = wanted
    else if (wanted * HYSTERESIS < this.current) this.current = Math.max(wanted, Math.floor(this.current / 2), this.settings.minCapacity)
  }

  /** A job finished (completed, dead or cancelled): room was made. */
  finished(now: number): void {
    this.finishedAt.push(now)
    if (this.finishedAt.length > 100_000) this.finishedAt.splice(0, this.finishedAt.length - 100_000)
  }

  completionRate(now: number): number {
    const since = now - RATE_WINDOW_MS
    let first = 0
    while (first < this.finishedAt.length && this.finishedAt[first]! < since) first++
    if (first > 0) this.finishedAt.splice(0, first)
    return this.finishedAt.length / (RATE_WINDOW_MS / 1000)
  }

  /**
   * Whether `count` new jobs of `submitter` may come in, with `unfinished` jobs in the queue of
   * which `bySubmitter` gives each submitter's. Below the bound anyone is admitted; at it, only a
   * submitter under its fair share (the bound split by weight among submitters with unfinished
   * jobs), so one that floods the queue cannot keep the others out.
   */
  decide(submitter: string, count: number, unfinished: number, bySubmitter: ReadonlyMap<string, number>, now: number): AdmissionDecision {
    if (this.saturated && unfinished < LEAVE_AT * this.current) this.saturated = false
    if (!this.saturated && unfinished + count <= this.current) return { ok: true }
    this.saturated = true
    const share = this.shareOf(submitter, bySubmitter)
    const own = bySubmitter.get(submitter) ?? 0
    if (own + count <= share) return { ok: true }
    const retryAfterMs = this.retryHint(Math.max(own + count - share, unfinished + count - LEAVE_AT * this.current, 1), now)
    return {
      ok: false,
      retryAfterMs,
      message: `the queue is saturated: ${unfinished} unfinished jobs against a bound of ${this.current} (${this.settings.jobsPerFreeSlot} per free handler slot the census finds); this submitter has ${own} of its share of ${Math.floor(share)}. Try again in about ${Math.ceil(retryAfterMs / 1000)} s`,
    }
  }

  /** How long until `excess` jobs have made room, at the rate jobs have been finishing. */
  retryHint(excess: number, now: number): number {
    const rate = this.completionRate(now)
    return rate > 0 ? Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, Math.round((1000 * Math.max(1, excess)) / rate))) : NO_RATE_RETRY_MS
  }

  /** Whether the queue counts as saturated with `unfinished` jobs (and enters or leaves saturation accordingly). */
  saturatedAt(unfinished: number): boolean {
    if (this.saturated && unfinished < LEAVE_AT * this.current) this.saturated = false
    else if (!this.saturated && unfinished > this.current) this.saturated = true
    return this.saturated
  }

  /**
   * `submitter`'s share under saturation: by weight, among the submitters with unfinished jobs and
   * it, of the level at which saturation ends (so a lone submitter waits for that level, too).
   */
  shareOf(submitter: string, bySubmitter: ReadonlyMap<string, number>): number {
    const weight = (id: string) => this.settings.weights[id] ?? 1
    let total = weight(submitter)
    for (const [id, n] of bySubmitter) if (n > 0 && id !== submitter) total += weight(id)
    return (LEAVE_AT * this.current * weight(submitter)) / total
  }

  view(now: number): AdmissionView {
    return { bound: this.current, capacity: this.capacity, saturated: this.saturated, completionRate: Math.round(this.completionRate(now) * 10) / 10 }
  }
}
