import { describe, expect, it } from 'vitest'
import { QueueStateMachine } from '../queue/state-machine.js'
import type { ShardCertificate } from './certificate.js'
import { chooseMembers, planShards, type PlanInput, type ShardLoad } from './shard-planner.js'

const cert = (shard: number, members: string[], epoch: number, expiresAt: number): ShardCertificate => ({ queue: 'q', shard, members, epoch, expiresAt, signatures: [] })

describe('the shard map in the root log', () => {
  it('mints, certifies, drains and retires, and comes back the same from a snapshot', () => {
    const state = new QueueStateMachine()
    let index = 0
    const apply = (command: Parameters<QueueStateMachine['apply']>[0]['command']) => state.apply({ index: ++index, time: 1_000 + index, command })
    expect(apply({ type: 'shard-mint', members: ['a', 'b', 'c'] })).toEqual({ type: 'shard', id: 1 })
    expect(apply({ type: 'shard-mint', members: ['b', 'c', 'a'] })).toEqual({ type: 'shard', id: 2 })
    // A certificate for other members or another epoch is not kept; a later one replaces an earlier one.
    expect(apply({ type: 'shard-certify', certificate: cert(1, ['a', 'b', 'x'], 1, 9_000) })).toEqual({ type: 'shard', id: undefined })
    expect(apply({ type: 'shard-certify', certificate: cert(1, ['a', 'b', 'c'], 2, 9_000) })).toEqual({ type: 'shard', id: undefined })
    expect(apply({ type: 'shard-certify', certificate: cert(1, ['a', 'b', 'c'], 1, 9_000) })).toEqual({ type: 'shard', id: 1 })
    expect(apply({ type: 'shard-certify', certificate: cert(1, ['a', 'b', 'c'], 1, 8_000) })).toEqual({ type: 'shard', id: undefined })
    // Only a draining shard retires.
    expect(apply({ type: 'shard-retire', id: 2 })).toEqual({ type: 'shard', id: undefined })
    apply({ type: 'shard-drain', id: 2 })
    expect(apply({ type: 'shard-retire', id: 2 })).toEqual({ type: 'shard', id: 2 })
    apply({ type: 'shard-drain', id: 0 })
    // New members: a new epoch, and the old certificate no longer counts.
    apply({ type: 'shard-members', id: 1, members: ['a', 'b', 'd'] })
    expect(state.shards.get(1)).toMatchObject({ epoch: 2, members: ['a', 'b', 'd'], certificate: undefined })
    expect(state.shards.live().map((s) => s.id)).toEqual([1])
    expect(state.shards.rootState).toBe('draining')

    const copy = new QueueStateMachine()
    copy.restore(state.snapshot())
    expect(copy.shards.snapshot()).toEqual(state.shards.snapshot())
    expect(copy.shards.nextId).toBe(3)
  })

  it('refuses new jobs once sealed, but not a repeat of one it holds', () => {
    const state = new QueueStateMachine()
    const job = (id: string) => ({ id, name: 'n', payload: '{}', priority: 0, retry: { maxAttempts: 1, backoff: { type: 'fixed' as const, delayMs: 0 } }, timeoutMs: 1_000, delayMs: 0, idempotencyKey: undefined })
    state.apply({ index: 1, time: 1, command: { type: 'enqueue', jobs: [job('1.aaaaaaaa')], maxQueuedJobs: 10 } })
    state.apply({ index: 2, time: 2, command: { type: 'seal' } })
    const result = state.apply({ index: 3, time: 3, command: { type: 'enqueue', jobs: [job('1.aaaaaaaa'), job('1.bbbbbbbb')], maxQueuedJobs: 10 } })
    expect(result).toMatchObject({ type: 'enqueue', outcomes: [{ ok: true, created: false }, { ok: false, code: 'E_SHARD_SEALED' }] })
    const copy = new QueueStateMachine()
    copy.restore(state.snapshot())
    expect(copy.sealed).toBe(true)
  })
})

describe('planShards', () => {
  const settings = { maxJobsPerShard: 100, membersPerShard: 3, maxShards: 4, certificateTtlMs: 60_000, retireAfterMs: 5_000 }
  const base: PlanInput = { rootState: 'open', rootUnfinished: 0, shards: [], loads: new Map(), emptySince: new Map(), candidates: ['a', 'b', 'c', 'd'], nextId: 1, settings, now: 100_000 }
  const shard = (id: number, state: 'open' | 'draining', expiresAt = 200_000) => ({ id, members: ['a', 'b', 'c'], founders: ['a', 'b', 'c'], epoch: 1, state, mintedAt: 0, certificate: cert(id, ['a', 'b', 'c'], 1, expiresAt) })
  const loads = (entries: [number, ShardLoad][]) => new Map(entries)

  it('does nothing while the root has room, and mints the next shard ahead once it is 80% full', () => {
    expect(planShards({ ...base, rootUnfinished: 79 })).toEqual([])
    expect(planShards({ ...base, rootUnfinished: 80, nextId: 1 })).toEqual([{ type: 'mint', members: ['b', 'c', 'd'] }])
    // A shard with room takes the jobs meanwhile: no second mint.
    expect(planShards({ ...base, rootUnfinished: 80, shards: [shard(1, 'open')], loads: loads([[1, { unfinished: 79, queued: 79, sealed: false }]]) })).toEqual([])
  })

  it('drains a full root and mints a shard, members rotated by the new id', () => {
    expect(planShards({ ...base, rootUnfinished: 100, nextId: 2 })).toEqual([{ type: 'drain', id: 0 }, { type: 'mint', members: ['c', 'd', 'a'] }])
  })

  it('mints no second shard while one waits for its certificate, nor past maxShards', () => {
    const waiting = { ...shard(1, 'open'), certificate: undefined }
    expect(planShards({ ...base, rootState: 'draining', rootUnfinished: 100, shards: [waiting] })).toEqual([{ type: 'certify', id: 1 }])
    const full = [shard(1, 'draining'), shard(2, 'draining'), shard(3, 'draining')]
    expect(planShards({ ...base, rootState: 'draining', rootUnfinished: 100, shards: full }).filter((a) => a.type === 'mint')).toEqual([])
  })

  it('renews a certificate with less than half its lifetime left', () => {
    expect(planShards({ ...base, shards: [shard(1, 'open', 100_000 + 29_000)] })).toEqual([{ type: 'certify', id: 1 }])
    expect(planShards({ ...base, shards: [shard(1, 'open', 100_000 + 31_000)] })).toEqual([])
  })

  it('drains a full shard, seals it until it says it is sealed, and retires it once empty long enough', () => {
    expect(planShards({ ...base, rootState: 'draining', rootUnfinished: 100, shards: [shard(1, 'open')], loads: loads([[1, { unfinished: 100, queued: 90, sealed: false }]]) })).toEqual([
      { type: 'drain', id: 1 },
      { type: 'mint', members: ['b', 'c', 'd'] },
    ])
    expect(planShards({ ...base, shards: [shard(1, 'draining')], loads: loads([[1, { unfinished: 5, queued: 5, sealed: false }]]) })).toEqual([{ type: 'seal', id: 1 }])
    const empty = loads([[1, { unfinished: 0, queued: 0, sealed: true }]])
    expect(planShards({ ...base, shards: [shard(1, 'draining')], loads: empty, emptySince: new Map([[1, 96_000]]) })).toEqual([])
    expect(planShards({ ...base, shards: [shard(1, 'draining')], loads: empty, emptySince: new Map([[1, 95_000]]) })).toEqual([{ type: 'retire', id: 1 }])
  })

  it('reopens the root once it is below half full', () => {
    expect(planShards({ ...base, rootState: 'draining', rootUnfinished: 49, shards: [shard(1, 'open')] })).toEqual([{ type: 'reopen', id: 0 }])
  })

  it('chooses distinct members, at most as many as there are candidates', () => {
    expect(chooseMembers(['a', 'b'], 3, 5)).toEqual(['b', 'a'])
  })
})
