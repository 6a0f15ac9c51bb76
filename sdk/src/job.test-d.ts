import { describe, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { defineJob, type JobContext, type NameOf, type PayloadOf, type ResultOf } from './index.js'
import type { Job, Queue } from './client.js'

const resize = defineJob({
  name: 'resize-image',
  schema: z.object({ url: z.string(), width: z.number().int().default(300) }),
  async run(payload, ctx) {
    expectTypeOf(payload).toEqualTypeOf<{ url: string; width: number }>()
    expectTypeOf(ctx).toEqualTypeOf<JobContext>()
    return { bytes: 123 }
  },
})

const plain = defineJob<{ n: number }, string>({
  name: 'plain',
  run(payload) {
    expectTypeOf(payload).toEqualTypeOf<{ n: number }>()
    return String(payload.n)
  },
})

describe('defineJob types', () => {
  it('infers the payload from the schema: input for submitters, output for the handler', () => {
    expectTypeOf<PayloadOf<typeof resize>>().toEqualTypeOf<{ url: string; width?: number | undefined }>()
    expectTypeOf<ResultOf<typeof resize>>().toEqualTypeOf<{ bytes: number }>()
    expectTypeOf<NameOf<typeof resize>>().toEqualTypeOf<'resize-image'>()
  })

  it('takes the payload from a type argument when there is no schema', () => {
    expectTypeOf<PayloadOf<typeof plain>>().toEqualTypeOf<{ n: number }>()
    expectTypeOf<ResultOf<typeof plain>>().toEqualTypeOf<string>()
  })

  it('types enqueue from the handler module and result() from its return value', () => {
    type Enqueue = Queue['enqueue']
    const enqueue = null as unknown as Enqueue
    expectTypeOf(enqueue<typeof resize>).parameter(0).toEqualTypeOf<'resize-image' | typeof resize>()
    expectTypeOf(enqueue<typeof resize>).parameter(1).toEqualTypeOf<{ url: string; width?: number | undefined }>()
    expectTypeOf(enqueue<typeof resize>).returns.resolves.toEqualTypeOf<Job<{ bytes: number }>>()
    expectTypeOf<Job<{ bytes: number }>['result']>().returns.resolves.toEqualTypeOf<{ bytes: number }>()
    // @ts-expect-error width must be a number
    void enqueue<typeof resize>('resize-image', { url: 'u', width: 'wide' })
    // @ts-expect-error the name must match the job
    void enqueue<typeof resize>('resize', { url: 'u' })
  })

  it('accepts any payload and yields unknown without a type argument', () => {
    const enqueue = null as unknown as Queue['enqueue']
    expectTypeOf(enqueue).parameter(1).toEqualTypeOf<unknown>()
    expectTypeOf(enqueue).returns.resolves.toEqualTypeOf<Job<unknown>>()
  })
})
