// The real RaftNode, RaftStorage and write-ahead log under the simulator (see shell-cluster.ts).
// CI runs a few dozen seeds; `npm run sim:shell -- --seeds 2000` runs many more.
import { describe, expect, it } from 'vitest'
import { simulateShell } from './shell-simulate.js'

describe('the real shell under the simulator', () => {
  it('keeps every acknowledged job and one state on every node over 40 seeds of crashes, full disks and partitions', async () => {
    const failures: string[] = []
    let crashes = 0
    let diskFulls = 0
    let acknowledged = 0
    for (let seed = 1; seed <= 40; seed++) {
      const peers = seed % 2 === 0 ? 5 : 3
      const run = await simulateShell(seed, { peers })
      crashes += run.crashes
      diskFulls += run.diskFulls
      acknowledged += run.acknowledged
      if (run.violations.length > 0) failures.push(`seed ${seed}: ${run.violations[0]} (replay: npm run sim:shell -- --seed ${seed} --peers ${peers})`)
    }
    expect(failures).toEqual([])
    expect(crashes).toBeGreaterThan(80)
    expect(diskFulls).toBeGreaterThan(40)
    expect(acknowledged).toBeGreaterThan(2_000)
  })

  it('replays a seed exactly', async () => {
    const a = await simulateShell(7, { peers: 5 })
    const b = await simulateShell(7, { peers: 5 })
    expect(b).toEqual(a)
  })
})
