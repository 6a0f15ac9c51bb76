// Simulated submitters and workers of the queue: they propose through whichever node they
// believe leads, retry proposals (the same job ids), report outcomes for leases they hold and
// for leases they no longer hold, and declare the limits the checks hold the leader to.
import type { Command } from '../../runtime/src/queue/commands.js'
import type { NewJob } from '../../runtime/src/queue/job.js'
import type { NodeId } from '../../runtime/src/raft/types.js'
import type { QueueStateMachine } from '../../runtime/src/queue/state-machine.js'
import type { Random } from './random.js'
import { SIM_LIMITS } from './queue-checks.js'

const LEASE_MS = 120
const WORKERS = ['w1', 'w2', 'w3']

function job(id: string, name: string, extra: Partial<NewJob> = {}): NewJob {
  return { id, name, payload: '{"json":{}}', priority: 0, idempotencyKey: undefined, retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 30 } }, timeoutMs: 100, delayMs: 0, ...extra }
}

/** What the driver needs of a simulated cluster: the pure-core one and the one of real RaftNodes. */
export interface QueueHost {
  readonly random: Random
  readonly now: number
  readonly nodes: readonly { readonly id: NodeId }[]
  leader(): { readonly id: NodeId; readonly queue: { readonly machine: QueueStateMachine } } | undefined
  /** False if `via` refused the proposal at once (it is not the leader). */
  proposeQueue(via: NodeId, command: Command): boolean
}

export class QueueDriver {
  private next = 0
  private sent: Command[] = []

  constructor(private readonly cluster: QueueHost) {}

  step(rate: number): void {
    const r = this.cluster.random
    if (!r.chance(rate)) return
    const leader = this.cluster.leader()
    const via = (r.chance(0.85) ? leader?.id : undefined) ?? r.pick(this.cluster.nodes).id
    const command = this.pick(leader?.queue.machine)
    if (!command) return
    if (this.cluster.proposeQueue(via, command)) this.sent.push(command)
  }

  private pick(state: QueueStateMachine | undefined): Command | undefined {
    const r = this.cluster.random
    // Proposed until the leader holds it (a proposal may be lost with its leader); a repeat is an upsert.
    if (this.cluster.now > 50 && state && !state.scheduleList().some((s) => s.spec.id === 'ticks') && r.chance(0.3)) {
      return { type: 'schedule', schedule: { id: 'ticks', every: 60, limit: 8, job: { name: 'tick', payload: '{"json":{}}', priority: 0, retry: { maxAttempts: 1, backoff: { type: 'fixed', delayMs: 0 } }, timeoutMs: 100 } }, maxQueuedJobs: 10_000 }
    }
    const roll = r.next()
    // A retried proposal: the same command again, as a client does after a timeout.
    if (roll < 0.08 && this.sent.length > 0) return r.pick(this.sent.slice(-20))
    if (roll < 0.4) return { type: 'enqueue', jobs: this.newJobs(), maxQueuedJobs: 10_000, atomic: true }
    // Sometimes as under saturation: leases shared among submitters.
    if (roll < 0.65) return { type: 'lease', worker: r.pick(WORKERS), count: r.int(1, 3), leaseMs: LEASE_MS, exclude: [], limits: SIM_LIMITS.concurrency, rates: SIM_LIMITS.rates, ...(r.chance(0.3) ? { fair: { a: 2 } } : {}) }
    if (roll < 0.85 && state) {
      const held = state.list({ state: 'leased', limit: 50 })
      if (held.length === 0) return { type: 'advance' }
      const j = r.pick(held)
      const worker = r.chance(0.9) ? j.lease!.worker : r.pick(WORKERS)
      const attempt = r.chance(0.9) ? j.attempt : j.attempt - 1
      if (r.chance(0.75)) return { type: 'complete', worker, job: { jobId: j.id, attempt }, result: `{"json":"${j.id}"}`, ...(r.chance(0.2) ? { enqueue: [job(`f${this.next++}`, 'plain')], maxQueuedJobs: 10_000 } : {}) }
      return { type: 'fail', worker, job: { jobId: j.id, attempt }, error: { name: 'E', message: 'simulated', retryable: r.chance(0.7) } }
    }
    if (roll < 0.93) return { type: 'advance' }
    if (roll < 0.96) return r.chance(0.5) ? { type: 'pause', name: 'plain' } : { type: 'resume', name: 'plain' }
    if (roll < 0.98 && state) {
      const dead = state.deadJobIds()
      if (dead.length > 0) return { type: 'redrive', jobIds: [r.pick(dead)] }
    }
    return { type: 'release', worker: r.pick(WORKERS) }
  }

  private newJobs(): NewJob[] {
    const r = this.cluster.random
    const id = () => `j${this.next++}`
    const kind = r.int(0, 3)
    if (kind === 0) return [job(id(), 'plain', { submitter: r.pick(['a', 'b', 'c']) })]
    if (kind === 1) return [job(id(), 'g')]
    if (kind === 2) return [job(id(), 'r', { rateKey: `k${r.int(0, 1)}` })]
    const parent = id()
    const children = [id(), id()]
    const policy = r.pick(['fail-parent', 'ignore', 'wait'] as const)
    return [job(parent, 'p', { childIds: children }), ...children.map((c) => job(c, 'c', { parentId: parent, onChildFailure: policy }))]
  }
}
