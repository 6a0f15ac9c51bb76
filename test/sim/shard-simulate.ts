// One seeded run of the sharded queue: faults and submitters for a while, then calm until every
// job has ended and every shard sits on the members its map names; the checks come at the end
// (the Raft and queue checks of each group run at every step inside it).
import { ShardWorld } from './shard-world.js'
import { Random } from './random.js'

export interface ShardSimulationResult {
  readonly seed: number
  readonly violations: readonly string[]
  readonly settled: boolean
  readonly minted: number
  readonly retired: number
  readonly jobs: number
  readonly certificates: number
  readonly renewals: number
  readonly replacements: number
  readonly certificatesRefused: number
}

export function simulateShards(seed: number, steps = 3_000): ShardSimulationResult {
  const plan = new Random(seed ^ 0x2545f491)
  const world = new ShardWorld({
    seed,
    faults: { drop: plan.next() * 0.05, duplicate: plan.next() * 0.03, maxDelay: plan.int(0, 20) },
    rates: { crash: plan.next() * 0.003, restart: 0.01, partition: plan.next() * 0.004, heal: 0.004 },
    loseDelegateAt: plan.chance(0.6) ? plan.int(steps / 4, steps / 2) : undefined,
  })
  try {
    for (let i = 0; i < steps; i++) world.step(false)
    world.calm()
    let settled = false
    for (let i = 0; i < 8_000 && !settled; i++) {
      world.step(true)
      settled = world.settled()
    }
    world.check()
    return {
      seed,
      violations: [...new Set(world.violations)],
      settled,
      minted: world.groups.size,
      retired: world.retired.size,
      jobs: world.sent.size,
      certificates: world.issued.length,
      renewals: world.renewals,
      replacements: world.replacements,
      certificatesRefused: world.certificatesRefused,
    }
  } catch (err) {
    return { seed, violations: [`exception: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`], settled: false, minted: 0, retired: 0, jobs: 0, certificates: 0, renewals: 0, replacements: 0, certificatesRefused: 0 }
  }
}
