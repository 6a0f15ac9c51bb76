// The admission rule under a census of a network that joins and leaves, with one flooding and
// one steady submitter; `npm run saturation-sim` runs a million peers.
import { describe, expect, it } from 'vitest'
import { simulateSaturation } from './saturation-sim.js'

describe('saturation over a simulated network', () => {
  it('keeps unfinished jobs within the bound as capacity swings, admits what the network finishes, and serves the steady submitter in full', () => {
    const report = simulateSaturation({ peers: 20_000, polls: 80, target: 50, churn: 0.02, swing: 0.4, seed: 1, jobsPerFreeSlot: 2 })
    expect(report.withinBound).toBeGreaterThan(0.95)
    expect(report.withinTrueBound).toBeGreaterThan(0.8)
    expect(report.maxOverTrueBound).toBeLessThan(0.25)
    expect(report.boundOverTrue).toBeLessThan(1)
    expect(report.admissionTracking).toBeLessThan(0.1)
    expect(report.steadyAdmittedShare).toBeGreaterThan(0.95)
    expect(report.floodAdmittedShare).toBeLessThan(0.4)
  })
})
