// The clients of a torture run, all in the harness process: submitters that enqueue `digest`
// jobs with idempotency keys (a retry after an unknown outcome sends the same key, so it can
// only find the job it may have made), and a watcher that follows every completion event.
import { setTimeout as sleep } from 'node:timers/promises'
import { isPeerqueueError, type Queue } from '@peerqueue/sdk/client'
import { Random } from '../sim/random.js'

export interface WorkloadRecord {
  /** Every n a client tried to submit. */
  readonly invoked: Set<number>
  /** Acknowledged jobs: id → n. */
  readonly acknowledged: Map<string, number>
  /** Attempts whose outcome the client never learned (it timed out or was told to retry). */
  unknownOutcomes: number
  /** Completion events seen, by job id: the positions they came at. */
  readonly completions: Map<string, Set<number>>
  /** Times the watcher could not follow on from where it was (events no longer kept). */
  eventGaps: number
}

export function newRecord(): WorkloadRecord {
  return { invoked: new Set(), acknowledged: new Map(), unknownOutcomes: 0, completions: new Map(), eventGaps: 0 }
}

const ATTEMPT_MS = 8_000

/** Rejects after `ms`; the call it races may still complete later, which is why keys are used. */
async function within<T>(ms: number, call: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))
  try {
    return await Promise.race([call, timeout])
  } finally {
    clearTimeout(timer)
  }
}

export class Submitters {
  private next = 0
  private stopAt = Infinity

  constructor(
    private readonly queue: Queue,
    private readonly record: WorkloadRecord,
    private readonly seed: number,
  ) {}

  /**
   * `clients` loops, each submitting one job at a time about every `gapMs`, until `stop()`. A job
   * in flight at stop is retried until acknowledged or `settleBy` (a performance.now() time).
   */
  async run(clients: number, gapMs: number, settleBy: () => number): Promise<void> {
    await Promise.all(Array.from({ length: clients }, (_, i) => this.client(new Random(this.seed * 31 + i), gapMs, settleBy)))
  }

  stop(): void {
    this.stopAt = performance.now()
  }

  private async client(random: Random, gapMs: number, settleBy: () => number): Promise<void> {
    while (performance.now() < this.stopAt) {
      const n = this.next++
      this.record.invoked.add(n)
      const payload = { n, ms: random.int(0, 20) }
      for (;;) {
        try {
          const job = await within(ATTEMPT_MS, this.queue.enqueue('digest', payload, { idempotencyKey: `n${n}`, maxAttempts: 50, backoff: { type: 'fixed', delayMs: 100 } }))
          this.record.acknowledged.set(job.id, n)
          break
        } catch (err) {
          this.record.unknownOutcomes += 1
          if (isPeerqueueError(err) && err.code === 'E_PAYLOAD_INVALID') throw err
          if (performance.now() > settleBy()) return
          await sleep(random.int(50, 300))
        }
      }
      await sleep(random.int(0, 2 * gapMs))
    }
  }
}

/** Follows completion events from the start of the run until stopped. */
export class CompletionWatcher {
  private stopped = false
  private done: Promise<void> | undefined

  constructor(
    private readonly queue: Queue,
    private readonly record: WorkloadRecord,
  ) {}

  start(): void {
    this.done = this.follow()
  }

  async stop(): Promise<void> {
    this.stopped = true
    await this.done
  }

  private async follow(): Promise<void> {
    let from: number | undefined = 0
    while (!this.stopped) {
      try {
        const events = this.queue.events({ states: ['completed'], from })
        for (;;) {
          const next = await within(15_000, events.next())
          if (next.done || this.stopped) break
          const event = next.value
          from = event.position + 1
          const seen = this.record.completions.get(event.jobId) ?? new Set<number>()
          seen.add(event.position)
          this.record.completions.set(event.jobId, seen)
        }
        void events.return(undefined)
      } catch (err) {
        if (isPeerqueueError(err) && err.code === 'E_EVENTS_LOST') {
          this.record.eventGaps += 1
          from = undefined
        }
        await sleep(200)
      }
    }
  }
}
