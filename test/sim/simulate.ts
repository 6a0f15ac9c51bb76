// One seeded run: a cluster under random faults with clients writing and reading, then a calm
// phase in which it must recover. Safety is checked every step, linearizability at the end.
import { Cluster, TICK } from './cluster.js'
import { checkHistory, kvModel } from './linearizability.js'
import { Random } from './random.js'
import { QueueDriver } from './queue-driver.js'
import { checkQueueEnd } from './queue-checks.js'

export interface SimulationOptions {
  readonly seed: number
  readonly peers: number
  readonly steps: number
  readonly clients?: number
}

export interface SimulationResult {
  readonly seed: number
  readonly peers: number
  readonly steps: number
  readonly violations: readonly string[]
  readonly linearizable: boolean | 'unknown'
  readonly recovered: boolean
  readonly elections: number
  /** Writes cut short by a full disk (the node stopped, restarted later). */
  readonly diskFulls: number
  readonly committed: number
  readonly operations: number
  readonly history: Cluster['history']
}

export function simulate(options: SimulationOptions): SimulationResult {
  try {
    return run(options)
  } catch (err) {
    // A broken assertion inside Raft is a finding, not a crash of the simulator.
    const message = err instanceof Error ? err.message : String(err)
    return { seed: options.seed, peers: options.peers, steps: 0, violations: [`exception: ${message}`], linearizable: 'unknown', recovered: false, elections: 0, diskFulls: 0, committed: 0, operations: 0, history: [] }
  }
}

function run(options: SimulationOptions): SimulationResult {
  const plan = new Random(options.seed ^ 0x5bd1e995)
  const cluster = new Cluster({
    peers: options.peers,
    seed: options.seed,
    faults: { drop: plan.next() * 0.1, duplicate: plan.next() * 0.05, maxDelay: plan.int(0, 3 * TICK) },
    compactEvery: plan.pick([0, 20, 50]),
    leaseReads: false,
    maxEntriesPerMessage: plan.pick([1, 2, 4, 16]),
    slowDisk: plan.pick([0.1, 0.3, 0.6]),
    // Both protections on is the default; runs without them reach schedules (competing
    // candidates in one term) that they otherwise make rare.
    preVote: plan.chance(0.7),
    checkQuorum: plan.chance(0.7),
    diskFull: plan.pick([0, 0.0005, 0.002]),
  })
  const rates = { crash: plan.next() * 0.004, restart: 0.01, partition: plan.next() * 0.006, heal: 0.004, conf: 0.002, leaderFault: plan.next() * 0.004, reboot: plan.next() * 0.01, cutOffLeader: plan.next() * 0.01 }
  const clients = options.clients ?? 3
  const removed: string[] = []
  const youngLeaderCrash = plan.next() * 0.5
  let seenTerm = 0
  let crashAt: { at: number; id: string } | undefined
  const queue = new QueueDriver(cluster)
  const restarts: { at: number; id: string }[] = []
  for (let step = 0; step < options.steps; step++) {
    // A reboot: a process that dies and is started again at once by its supervisor.
    if (cluster.random.chance(rates.reboot)) {
      // Half the time, hit a node between its write and its fsync: the window that matters.
      const syncing = cluster.nodes.filter((n) => n.syncing)
      const victim = syncing.length > 0 && cluster.random.chance(0.5) ? cluster.random.pick(syncing) : cluster.random.pick(cluster.nodes)
      cluster.crash(victim.id)
      restarts.push({ at: cluster.now + cluster.random.int(1, 2 * TICK), id: victim.id })
    }
    for (const due of restarts.filter((r) => r.at <= cluster.now)) cluster.restart(due.id)
    restarts.splice(0, restarts.length, ...restarts.filter((r) => r.at > cluster.now))
    // A leader that dies moments after its election, before its first entry of its term spreads,
    // is the situation of the Raft paper's figure 8.
    const leader = cluster.leader()
    if (leader?.core && leader.core.term > seenTerm) {
      seenTerm = leader.core.term
      if (cluster.random.chance(youngLeaderCrash)) crashAt = { at: cluster.now + cluster.random.int(1, 2 * TICK), id: leader.id }
    }
    // A leader cut off while entries of its term have not reached a majority: two of those in a
    // row leave competing suffixes of different terms on minorities, which the figure 8 rule
    // (commit only entries of one's own term by counting) is there for.
    if (leader?.core && leader.core.log.lastIndex() > leader.core.log.committed && cluster.random.chance(rates.cutOffLeader)) {
      if (cluster.random.chance(0.5)) cluster.isolate(leader.id)
      else {
        cluster.crash(leader.id)
        restarts.push({ at: cluster.now + cluster.random.int(1, 4 * TICK), id: leader.id })
      }
    }
    if (crashAt && cluster.now >= crashAt.at) {
      cluster.crash(crashAt.id)
      crashAt = undefined
    }
    injectFaults(cluster, rates)
    changeMembership(cluster, rates.conf, removed)
    driveClients(cluster, clients, 0.05)
    queue.step(0.08)
    cluster.step()
  }
  cluster.heal()
  cluster.faults = { drop: 0, duplicate: 0, maxDelay: 0 }
  cluster.diskFull = 0
  for (const node of cluster.nodes) cluster.restart(node.id)
  const recovered = cluster.runUntil(() => converged(cluster), 3_000)
  if (!recovered && process.env.SIM_DEBUG) {
    for (const n of cluster.nodes) {
      const c = n.core!
      if (c.isLeader) console.error(JSON.stringify([...(c as unknown as { progress: Map<string, object> }).progress]))
      console.error(n.id, c.role, 'term', c.term, 'leader', c.leader, 'last', c.log.lastIndex(), 'commit', c.log.committed, 'applied', c.log.applied, 'first', c.log.firstIndex(), JSON.stringify(c.membership))
    }
  }
  if (recovered) checkQueueEnd(cluster.nodes.map((n) => ({ id: n.id, queue: n.queue })), cluster.violations)
  const verdict = checkHistory(kvModel, cluster.history)
  return {
    seed: options.seed,
    peers: options.peers,
    steps: cluster.now,
    violations: [...new Set(cluster.violations)],
    linearizable: verdict.ok,
    recovered,
    elections: cluster.elections,
    diskFulls: cluster.diskFulls,
    committed: cluster.committedCount,
    operations: cluster.history.length,
    history: cluster.history,
  }
}

function injectFaults(cluster: Cluster, rates: { crash: number; restart: number; partition: number; heal: number; leaderFault: number }): void {
  const r = cluster.random
  const leader = cluster.leader()
  // Faults aimed at the leader make the divergent logs and quick successions of terms where bugs hide.
  if (leader && r.chance(rates.leaderFault)) {
    if (r.chance(0.5)) cluster.isolate(leader.id)
    else {
      cluster.crash(leader.id)
      // Most followers see the dead leader's connection close and campaign early.
      for (const n of cluster.nodes) if (n.up && r.chance(0.7)) n.core?.leaderUnreachable(leader.id)
    }
  }
  // False alarms too: a follower told its leader is unreachable while the leader is fine.
  if (r.chance(rates.leaderFault)) {
    const n = r.pick(cluster.nodes)
    if (n.up && n.core?.leader) n.core.leaderUnreachable(n.core.leader)
  }
  if (r.chance(rates.crash)) {
    const up = cluster.nodes.filter((n) => n.up)
    if (up.length > 0) cluster.crash(r.pick(up).id)
  }
  if (r.chance(rates.restart)) {
    const down = cluster.nodes.filter((n) => !n.up)
    if (down.length > 0) cluster.restart(r.pick(down).id)
  }
  if (r.chance(rates.partition)) {
    const a = r.pick(cluster.nodes).id
    const b = r.pick(cluster.nodes).id
    if (r.chance(0.3)) cluster.isolate(a)
    else if (a !== b) cluster.partition(a, b, r.chance(0.5))
  }
  if (r.chance(rates.heal)) cluster.heal()
}

/** Removes a voter, later adds it back as a learner and then as a voter, one change at a time. */
function changeMembership(cluster: Cluster, rate: number, removed: string[]): void {
  const r = cluster.random
  const leader = cluster.leader()
  if (!leader?.core || !r.chance(rate)) return
  const { voters, learners } = leader.core.membership
  try {
    if (learners.length > 0) leader.core.proposeConfChange({ type: 'addVoter', node: learners[0]! })
    else if (removed.length > 0) leader.core.proposeConfChange({ type: 'addLearner', node: removed.shift()! })
    else if (voters.length > 2) {
      const victim = r.pick(voters.filter((v) => v !== leader.id))
      leader.core.proposeConfChange({ type: 'remove', node: victim })
      removed.push(victim)
    }
  } catch {
    // A change already in flight: try again later.
  }
}

function driveClients(cluster: Cluster, clients: number, rate: number): void {
  const r = cluster.random
  for (let client = 1; client <= clients; client++) {
    if (cluster.hasPendingRead(client) || !r.chance(rate)) continue
    // Mostly the newest leader, sometimes any node that still believes it leads, sometimes anyone.
    const leaders = cluster.nodes.filter((n) => n.core?.isLeader)
    const roll = r.next()
    const via = (roll < 0.6 ? cluster.leader()?.id : roll < 0.9 && leaders.length > 0 ? r.pick(leaders).id : undefined) ?? r.pick(cluster.nodes).id
    if (cluster.hasPendingWrite(client)) {
      if (r.chance(0.2)) cluster.retryWrite(client, via)
      continue
    }
    const key = `k${r.int(0, 2)}`
    if (r.chance(0.65)) cluster.write(client, key, `c${client}-${cluster.now}`, via)
    else cluster.read(client, key, via)
  }
}

function converged(cluster: Cluster): boolean {
  const leader = cluster.leader()
  if (!leader?.core) return false
  const { voters, learners } = leader.core.membership
  const members = [...voters, ...learners].map((id) => cluster.node(id))
  if (leader.core.log.term(leader.core.log.committed) !== leader.core.term) return false
  return members.every((n) => n.core !== undefined && n.core.log.applied === leader.core!.log.committed)
}

/** The client history as JSON lines in the shape Jepsen-style checkers read: an invoke and a completion per operation. */
/** Process ids per client generation: a client that gave up on an operation goes on as a new process, as in Jepsen. */
const PROCESSES_PER_CLIENT = 1000

/**
 * The history as Jepsen writes it: events in the order they happened, an operation whose
 * outcome the client never learned as `info` at the moment it gave up, and a client that gave
 * up continuing under a new process id.
 */
export function historyLines(history: Cluster['history'], endTime = Math.max(0, ...history.map((op) => (op.ret === Infinity ? op.call : op.ret)))): string {
  const generation = new Map<number, number>()
  const events: { time: number; order: number; line: Record<string, unknown> }[] = []
  const byCall = history.map((op, index) => ({ op, index })).sort((a, b) => a.op.call - b.op.call || a.index - b.index)
  for (const { op, index } of byCall) {
    const process = op.client + PROCESSES_PER_CLIENT * (generation.get(op.client) ?? 0)
    const f = op.input.kind === 'put' ? 'write' : 'read'
    const written = op.input.kind === 'put' ? op.input.value : null
    const invoke = { process, type: 'invoke', f, key: op.input.key, value: written, time: op.call, index }
    events.push({ time: op.call, order: events.length, line: invoke })
    if (op.ret === Infinity) {
      const at = op.gaveUpAt ?? endTime
      events.push({ time: at, order: events.length, line: { ...invoke, type: 'info', time: at } })
      generation.set(op.client, (generation.get(op.client) ?? 0) + 1)
    } else {
      events.push({ time: op.ret, order: events.length, line: { ...invoke, type: 'ok', value: op.input.kind === 'put' ? written : (op.output?.value ?? null), time: op.ret } })
    }
  }
  events.sort((a, b) => a.time - b.time || a.order - b.order)
  return events.map((e) => JSON.stringify(e.line)).join('\n') + '\n'
}
