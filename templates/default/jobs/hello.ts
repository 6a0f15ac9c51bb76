import { defineJob } from '@peerqueue/sdk'
import { z } from 'zod'

export default defineJob({
  name: 'hello',
  schema: z.object({ name: z.string().min(1) }),
  retry: { maxAttempts: 3, backoff: { type: 'exponential', baseMs: 500, maxMs: 10_000 } },
  timeoutMs: 10_000,
  async run(payload, ctx) {
    ctx.log.info(`greeting ${payload.name}`)
    ctx.progress(100)
    return { greeting: `Hello, ${payload.name}!`, attempt: ctx.attempt }
  },
})
