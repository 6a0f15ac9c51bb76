// The queue state machine inside the simulation: every node applies the queue commands of the
// log with the leader's stamp, and after each entry the checks below hold on every node, under
// every fault the simulator makes (crashes losing unsynced writes, partitions, snapshots,
// duplicated and retried proposals, leader changes).
import { createHash } from 'node:crypto'
import type { ApplyResult, Command, GrantedLease } from '../../runtime/src/queue/commands.js'
import { QueueStateMachine, type QueueSnapshot } from '../../runtime/src/queue/state-machine.js'
import { EventLog, type JobEvent } from '../../runtime/src/service/event-log.js'

/** A queue command in a log entry, stamped with the proposing leader's clock. */
export interface QueueEntryData {
  readonly queue: Command
  readonly time: number
}

export function isQueueEntry(data: unknown): data is QueueEntryData {
  return typeof data === 'object' && data !== null && 'queue' in data
}

/** The limits the simulated workers declare, checked at every instant. */
export const SIM_LIMITS = { concurrency: { g: 2 }, rates: { r: { max: 3, perMs: 200 } } } as const

export class QueueReplica {
  machine = new QueueStateMachine()
  events = new EventLog(this.machine, 1_000_000)
  /** Lease start times of rate-limited jobs, per rate key, as this replica granted them. */
  private rateStarts = new Map<string, number[]>()
  /** When each schedule last made a job, as this replica applied it. */
  private madeAt = new Map<string, number>()

  reset(snapshot?: QueueSnapshot): void {
    this.machine = new QueueStateMachine()
    if (snapshot) this.machine.restore(snapshot)
    this.events = new EventLog(this.machine, 1_000_000)
    // Windows before a snapshot are in the snapshot itself; this replica checks what it grants from here.
    this.rateStarts = new Map()
    this.madeAt = new Map()
  }

  apply(index: number, data: QueueEntryData, violations: string[], node: string): ApplyResult {
    const command = data.queue
    const before = command.type === 'complete' || command.type === 'fail' ? this.machine.get(command.job.jobId) : undefined
    const heldAttempt = before?.state === 'leased' ? before.lease?.attempt : undefined
    const ticksBefore = this.machine.scheduleList().map((s) => s.count)
    // A retried proposal may name follow-ups an earlier, accepted copy already stored.
    const storedBefore = new Set(command.type === 'complete' ? (command.enqueue ?? []).filter((j) => this.machine.get(j.id)).map((j) => j.id) : [])
    const result = this.machine.apply({ index, time: data.time, command })
    if (result.type === 'lease') this.checkLeases(result.leases, data, violations, node)
    if (result.type === 'fenced' && (command.type === 'complete' || command.type === 'fail')) {
      // Exactly one accepted outcome per attempt: only the attempt that holds the lease may report.
      if (result.accepted && heldAttempt !== command.job.attempt) violations.push(`fencing: ${node} accepted an outcome of attempt ${command.job.attempt} of ${command.job.jobId} while attempt ${heldAttempt} held it`)
      if (!result.accepted && command.type === 'complete') {
        for (const next of command.enqueue ?? []) if (!storedBefore.has(next.id) && this.machine.get(next.id)) violations.push(`follow-up: ${node} stored ${next.id} with a refused result`)
      }
    }
    this.machine.scheduleList().forEach((s, i) => {
      const made = s.count - (ticksBefore[i] ?? s.count)
      if (made > 1) violations.push(`schedule: ${node} made ${made} jobs of "${s.spec.id}" in one entry (a burst)`)
      if (made !== 1 || s.lastJobId === undefined) return
      // A missed stretch makes one job: the next due time is after the last job was made, never a stale one caught up.
      const due = Number(s.lastJobId.slice(s.lastJobId.lastIndexOf('-') + 1))
      const previous = this.madeAt.get(s.spec.id)
      if (previous !== undefined && due <= previous) violations.push(`schedule: ${node} made a job of "${s.spec.id}" for due time ${due}, not after its previous job at ${previous} (a catch-up burst)`)
      this.madeAt.set(s.spec.id, data.time)
    })
    const leasedG = this.machine.list({ state: 'leased', name: 'g', limit: 10_000 }).length
    if (leasedG > SIM_LIMITS.concurrency.g) violations.push(`global concurrency: ${node} holds ${leasedG} leased "g" jobs at index ${index}`)
    return result
  }

  /**
   * A digest of the whole state: equal on every replica that applied the same entries. Keys are
   * sorted: a state read back from JSON (a snapshot from disk or the network) lists an object's
   * keys in another order than one built entry by entry, and that is no difference.
   */
  digest(): string {
    return createHash('sha256').update(JSON.stringify(this.machine.snapshot(), sortedKeys)).digest('hex')
  }

  /** The events this replica holds (from its last restore on). */
  heldEvents(): JobEvent[] {
    return this.events.readNow(this.events.oldest, {}, 10_000_000).events
  }

  private checkLeases(leases: readonly GrantedLease[], data: QueueEntryData, violations: string[], node: string): void {
    const paused = this.machine.paused()
    for (const lease of leases) {
      const job = this.machine.get(lease.jobId)!
      if (paused.all || paused.names.includes(lease.name)) violations.push(`pause: ${node} leased ${lease.jobId} of paused "${lease.name}"`)
      if (job.childIds) {
        const unfinished = (lease.children ?? []).filter((c) => c.state !== 'completed' && this.machine.get(c.id)?.onChildFailure !== 'ignore')
        if (unfinished.length > 0) violations.push(`flow: ${node} leased parent ${lease.jobId} with children ${unfinished.map((c) => `${c.id}=${c.state}`).join(', ')}`)
      }
      if (lease.name === 'r') {
        const key = job.rateKey ?? ''
        const rate = SIM_LIMITS.rates.r
        const starts = [...(this.rateStarts.get(key) ?? []), data.time].filter((t) => t > data.time - rate.perMs)
        this.rateStarts.set(key, starts)
        if (starts.length > rate.max) violations.push(`rate limit: ${node} started ${starts.length} "r" jobs of key "${key}" within ${rate.perMs} ms at ${data.time}`)
      }
    }
  }
}

function sortedKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/** Checks at the end of a run: replicas agree on every event they both hold, and the schedule made at most one job per due time. */
export function checkQueueEnd(replicas: readonly { id: string; queue: QueueReplica }[], violations: string[]): void {
  const byPosition = new Map<number, string>()
  for (const { id, queue } of replicas) {
    let last = -1
    for (const event of queue.heldEvents()) {
      if (event.position <= last) violations.push(`events: ${id} holds position ${event.position} after ${last}`)
      last = event.position
      const text = JSON.stringify(event)
      const other = byPosition.get(event.position)
      if (other !== undefined && other !== text) violations.push(`events: ${id} has another event at position ${event.position}`)
      byPosition.set(event.position, text)
    }
    const schedule = queue.machine.scheduleList().find((s) => s.spec.id === 'ticks')
    if (schedule) {
      const made = queue.machine.list({ name: 'tick', limit: 10_000 })
      const dueTimes = new Set(made.map((j) => j.id))
      if (made.length !== schedule.count || dueTimes.size !== made.length) violations.push(`schedule: ${id} holds ${made.length} tick jobs for a count of ${schedule.count}`)
      if (schedule.count > (schedule.spec.limit ?? Infinity)) violations.push(`schedule: ${id} made ${schedule.count} jobs, over its limit`)
    }
  }
}
