// Delay before the next attempt. Deterministic (no jitter drawn here) because every replica
// must compute the same run time; the leader's clock stamps the entry.
import type { Backoff } from './job.js'

export function backoffDelay(backoff: Backoff, failedAttempt: number): number {
  if (backoff.type === 'fixed') return backoff.delayMs
  const exponent = Math.min(Math.max(failedAttempt - 1, 0), 30)
  return Math.min(backoff.baseMs * 2 ** exponent, backoff.maxMs)
}
