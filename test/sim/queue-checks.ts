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

  reset(snapshot?: QueueSnapshot): void {
    this.machine = new QueueStateMachine()
    if (snapshot) this.machine.restore(snapshot)
    this.events = new EventLog(this.machine, 1_000_000)
    // Windows before a snapshot are in the snapshot itself; this replica checks what it grants from here.
    this.rateStarts = new Map()
  }

  apply(index: number, data: QueueEntryData, violations: string[], node: string): ApplyResult {
    const result = this.machine.apply({ index, time: data.time, command: data.queue })
    if (result.type === 'lease') this.checkLeases(result.leases, data, violations, node)
    const leasedG = this.machine.list({ state: 'leased', name: 'g', limit: 10_000 }).length
    if (leasedG > SIM_LIMITS.concurrency.g) violations.push(`global concurrency: ${node} holds ${leasedG} leased "g" jobs at index ${index}`)
    return result
  }

  /** A digest of the whole state: equal on every replica that applied the same entries. */
  digest(): string {
    return createHash('sha256').update(JSON.stringify(this.machine.snapshot())).digest('hex')
  }

  /** The events this replica holds (from its last restore on). */
  heldEvents(): JobEvent[] {
    return this.events.readNow(this.events.oldest, {}, 10_000_000).events
  }

  private checkLeases(leases: readonly GrantedLease[], data: QueueEntryData, violations: string[], node: string): void {
    for (const lease of leases) {
      const job = this.machine.get(lease.jobId)!
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
