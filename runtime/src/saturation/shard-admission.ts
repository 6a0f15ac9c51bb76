// Saturation in a sharded queue: the root leader decides, and each round its keeper tells every
// shard's leader whether the queue is saturated and how many more jobs each submitter may add
// through that shard (its fair share less what it has unfinished anywhere, split among the open
// shards). A shard's leader admits by that allowance; one that has not heard from the root for a
// while admits as if the queue were not saturated, so a root election does not stop enqueues.
import type { AdmissionDecision } from './admission.js'

export interface ShardAdmissionState {
  readonly saturated: boolean
  readonly retryAfterMs: number
  /** Jobs each submitter may still add through this shard. */
  readonly allowance: Readonly<Record<string, number>>
  /** For a submitter with nothing unfinished yet. */
  readonly newcomer: number
}

/** A word from the root older than this is not acted on. */
export const ADMISSION_FRESH_MS = 3_000

export class ShardAdmission {
  private state: ShardAdmissionState | undefined
  private heardAt = 0
  private used = new Map<string, number>()

  update(state: ShardAdmissionState, now: number): void {
    this.state = state
    this.heardAt = now
    this.used = new Map()
  }

  decide(submitter: string, count: number, now: number): AdmissionDecision {
    const state = this.state
    if (!state || !state.saturated || now - this.heardAt > ADMISSION_FRESH_MS) return { ok: true }
    const allowed = (state.allowance[submitter] ?? state.newcomer) - (this.used.get(submitter) ?? 0)
    if (count <= allowed) {
      this.used.set(submitter, (this.used.get(submitter) ?? 0) + count)
      return { ok: true }
    }
    return { ok: false, retryAfterMs: state.retryAfterMs, message: `the queue is saturated: this submitter may add ${Math.max(0, Math.floor(allowed))} more job(s) through this shard now (its fair share, see status). Try again in about ${Math.ceil(state.retryAfterMs / 1000)} s` }
  }
}
