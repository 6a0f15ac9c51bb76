import { describe, expect, it } from 'vitest'
import { checkHistory, kvModel, type KvInput, type KvOutput, type Operation } from './linearizability.js'

const put = (client: number, value: string, call: number, ret: number): Operation<KvInput, KvOutput> => ({
  client,
  input: { kind: 'put', key: 'x', value },
  output: { value: null },
  call,
  ret,
})
const get = (client: number, value: string | null, call: number, ret: number): Operation<KvInput, KvOutput> => ({
  client,
  input: { kind: 'get', key: 'x' },
  output: { value },
  call,
  ret,
})

describe('linearizability checker', () => {
  it('accepts sequential reads of the last write', () => {
    expect(checkHistory(kvModel, [put(0, 'a', 0, 1), get(1, 'a', 2, 3), put(0, 'b', 4, 5), get(1, 'b', 6, 7)])).toEqual({ ok: true })
  })

  it('accepts a read concurrent with a write seeing either value', () => {
    expect(checkHistory(kvModel, [put(0, 'a', 0, 1), put(0, 'b', 2, 10), get(1, 'a', 3, 4), get(2, 'b', 5, 6)])).toEqual({ ok: true })
  })

  it('refuses a stale read after a write finished', () => {
    expect(checkHistory(kvModel, [put(0, 'a', 0, 1), put(0, 'b', 2, 3), get(1, 'a', 4, 5)])).toEqual({ ok: false, partition: 0 })
  })

  it('refuses reads that see values go back and forth', () => {
    const ops = [put(0, 'a', 0, 1), put(1, 'b', 2, 20), get(2, 'b', 3, 4), get(3, 'a', 5, 6)]
    expect(checkHistory(kvModel, ops).ok).toBe(false)
  })

  it('lets an operation with unknown outcome take effect late or never', () => {
    const lost = { ...put(0, 'b', 2, Infinity), output: undefined }
    expect(checkHistory(kvModel, [put(0, 'a', 0, 1), lost, get(1, 'a', 3, 4), get(1, 'b', 5, 6)])).toEqual({ ok: true })
    expect(checkHistory(kvModel, [put(0, 'a', 0, 1), lost, get(1, 'a', 3, 4)])).toEqual({ ok: true })
    expect(checkHistory(kvModel, [put(0, 'a', 0, 1), lost, get(1, 'b', 3, 4), get(1, 'a', 5, 6)]).ok).toBe(false)
  })

  it('checks each key on its own', () => {
    const y = (op: Operation<KvInput, KvOutput>) => ({ ...op, input: { ...op.input, key: 'y' } })
    const ops = [put(0, 'a', 0, 1), y(put(0, 'z', 0, 1)), get(1, 'a', 2, 3), y(get(1, null, 2, 3))]
    expect(checkHistory(kvModel, ops)).toEqual({ ok: false, partition: 1 })
  })

  it('handles a hundred concurrent operations without blowing up', () => {
    const ops: Operation<KvInput, KvOutput>[] = []
    for (let i = 0; i < 100; i++) ops.push(i % 2 === 0 ? put(i % 5, `v${i}`, i, i + 3) : get(i % 5, `v${i - 1}`, i, i + 3))
    expect(checkHistory(kvModel, ops).ok).toBe(true)
  })
})
