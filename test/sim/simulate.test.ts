// CI runs a few hundred seeds on every change; `npm run sim -- --seeds 20000` runs many more.
import { describe, expect, it } from 'vitest'
import { historyLines, simulate } from './simulate.js'

describe('randomised simulation', () => {
  it('keeps every safety property and a linearizable history over 300 seeds of faults', () => {
    const failures: string[] = []
    let elections = 0
    let committed = 0
    for (let seed = 1; seed <= 300; seed++) {
      const peers = seed % 2 === 0 ? 5 : 3
      const result = simulate({ seed, peers, steps: 2000 })
      elections += result.elections
      committed += result.committed
      if (result.violations.length > 0 || result.linearizable === false || !result.recovered) {
        failures.push(`seed ${seed}: ${result.violations[0] ?? (result.recovered ? 'not linearizable' : 'did not recover')} (replay: npm run sim -- --seed ${seed} --peers ${peers} --steps 2000)`)
      }
    }
    expect(failures).toEqual([])
    expect(elections).toBeGreaterThan(300)
    expect(committed).toBeGreaterThan(10_000)
  })

  it('replays a seed exactly', () => {
    const a = simulate({ seed: 42, peers: 5, steps: 1500 })
    const b = simulate({ seed: 42, peers: 5, steps: 1500 })
    expect(historyLines(b.history)).toBe(historyLines(a.history))
    expect([b.elections, b.committed]).toEqual([a.elections, a.committed])
  })

  it('writes the history as invoke/ok/info lines', () => {
    const { history } = simulate({ seed: 2, peers: 3, steps: 1500 })
    const lines = historyLines(history).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines.length).toBe(history.length * 2)
    expect(lines[0]).toMatchObject({ type: 'invoke', process: expect.any(Number), f: expect.stringMatching(/^(read|write)$/), key: expect.any(String) })
    expect(new Set(lines.map((l) => l.type))).toEqual(new Set(['invoke', 'ok', 'info']))
    // In the order things happened; each operation's invoke before its completion.
    const times = lines.map((l) => l.time as number)
    expect([...times].sort((a, b) => a - b)).toEqual(times)
    const invoked = new Set<unknown>()
    for (const l of lines) {
      if (l.type === 'invoke') invoked.add(l.index)
      else expect(invoked.has(l.index)).toBe(true)
    }
    // A process that gave up (info) never invokes again: its client goes on as a new process.
    const gaveUp = new Set(lines.filter((l) => l.type === 'info').map((l) => l.process))
    expect(gaveUp.size).toBeGreaterThan(0)
    for (const process of gaveUp) {
      const last = lines.findLastIndex((l) => l.process === process && l.type === 'invoke')
      const info = lines.findIndex((l) => l.process === process && l.type === 'info')
      expect(last).toBeLessThan(info)
    }
  })
})
