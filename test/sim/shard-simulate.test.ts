// CI runs a few dozen seeds; `npm run sim:shards -- --seeds 20000` runs many more.
import { describe, expect, it } from 'vitest'
import { simulateShards } from './shard-simulate.js'

describe('the sharded queue in simulation', () => {
  it('keeps every job in one shard, one certified membership per epoch, and loses nothing over 40 seeds of faults', () => {
    const failures: string[] = []
    const totals = { minted: 0, retired: 0, replacements: 0, renewals: 0, certificatesRefused: 0 }
    for (let seed = 1; seed <= 40; seed++) {
      const run = simulateShards(seed)
      for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += run[key]
      if (run.violations.length > 0 || !run.settled) failures.push(`seed ${seed}: ${run.violations[0] ?? 'did not settle'} (replay: npm run sim:shards -- --seed ${seed})`)
    }
    expect(failures).toEqual([])
    // The runs went where the checks matter: shards minted and retired, members replaced, certificates renewed and lapsed.
    expect(totals.minted).toBeGreaterThan(200)
    expect(totals.retired).toBeGreaterThan(150)
    expect(totals.replacements).toBeGreaterThan(10)
    expect(totals.renewals).toBeGreaterThan(1_000)
    expect(totals.certificatesRefused).toBeGreaterThan(0)
  })

  it('replays a seed exactly', () => {
    expect(simulateShards(7, 1_500)).toEqual(simulateShards(7, 1_500))
  })
})
