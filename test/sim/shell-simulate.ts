// One seeded run of the real shell (see shell-cluster.ts): a busy queue under crashes that lose
// unsynced writes, full disks, partitions, dropped and reordered messages and slow syncs, then a
// calm phase in which every node must come back, catch up and agree.
import { QueueDriver } from './queue-driver.js'
import { ShellCluster } from './shell-cluster.js'

export interface ShellRun {
  readonly seed: number
  readonly violations: readonly string[]
  readonly steps: number
  readonly crashes: number
  readonly diskFulls: number
  readonly acknowledged: number
  readonly applied: number
}

export interface ShellRunOptions {
  readonly steps?: number
  readonly peers?: number
}

export async function simulateShell(seed: number, options: ShellRunOptions = {}): Promise<ShellRun> {
  const steps = options.steps ?? 2_000
  const cluster = ShellCluster.create({ peers: options.peers ?? 3, seed, drop: 0.02, maxDelay: 3, slowSyncs: 0.3, snapshotEvery: 40 })
  const driver = new QueueDriver(cluster)
  const r = cluster.random
  const later: { at: number; run: () => void }[] = []
  const stormEnds = Math.floor(steps * 0.7)
  const proposalsEnd = Math.floor(steps * 0.8)
  let step = 0
  for (; step < steps && cluster.violations.length === 0; step++) {
    for (const due of later.filter((l) => l.at <= step)) due.run()
    later.splice(0, later.length, ...later.filter((l) => l.at > step))
    const ids = cluster.nodes.map((n) => n.id)
    if (step < stormEnds) {
      const target = r.pick(ids)
      if (r.chance(0.004) && cluster.node(target).raft) {
        cluster.crash(target)
        later.push({ at: step + r.int(20, 200), run: () => cluster.restart(target) })
      } else if (r.chance(0.002) && cluster.node(target).up) {
        cluster.fillDisk(target, r.int(0, 4_000))
        later.push({ at: step + r.int(30, 300), run: () => cluster.freeDiskAndRestart(target) })
      } else if (r.chance(0.004)) cluster.partition(target, r.pick(ids.filter((id) => id !== target)), r.chance(0.3))
      else if (r.chance(0.006)) cluster.heal()
    } else if (step === stormEnds) {
      cluster.heal()
      for (const pending of later.splice(0)) pending.run()
      for (const id of ids) cluster.restart(id)
    }
    if (step < proposalsEnd) driver.step(0.3)
    await cluster.step()
  }
  if (cluster.violations.length === 0) {
    cluster.checkEnd()
    const leader = cluster.leader()
    if (!leader) cluster.violations.push('liveness: no leader after the calm phase')
    else {
      const commit = leader.raft!.core.log.committed
      for (const node of cluster.nodes) {
        if (!node.up) cluster.violations.push(`liveness: ${node.id} is not running after the calm phase`)
        else if (node.raft!.core.log.applied < commit) cluster.violations.push(`liveness: ${node.id} applied ${node.raft!.core.log.applied} of ${commit} after the calm phase`)
      }
    }
  }
  const leader = cluster.leader()
  return {
    seed,
    violations: cluster.violations,
    steps: step,
    crashes: cluster.crashes,
    diskFulls: cluster.diskFulls,
    acknowledged: cluster.acknowledged.size,
    applied: leader?.raft?.core.log.applied ?? 0,
  }
}
