import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { defineJob } from '@peerqueue/sdk'

/** What a torture job returns for `n`: the harness computes the same to check each result. */
export function expectedDigest(n: number): string {
  return createHash('sha256').update(`torture:${n}`).digest('hex').slice(0, 16)
}

export default defineJob<{ n: number; ms: number }, { n: number; digest: string }>({
  name: 'digest',
  retry: { maxAttempts: 50, backoff: { type: 'fixed', delayMs: 100 } },
  async run(payload, ctx) {
    await sleep(payload.ms, undefined, { signal: ctx.signal })
    return { n: payload.n, digest: expectedDigest(payload.n) }
  },
})
