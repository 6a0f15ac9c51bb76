import { describe, expect, it } from 'vitest'
import { PeerRateLimiter } from './rate-limit.js'

describe('per-peer rate limit', () => {
  it('allows a burst, then the steady rate, and refuses the rest with E_RATE_LIMITED', () => {
    let now = 0
    const limiter = new PeerRateLimiter({ perSecond: 10, burst: 5 }, () => now)
    for (let i = 0; i < 5; i++) limiter.take('flood')
    expect(() => limiter.take('flood')).toThrow(expect.objectContaining({ code: 'E_RATE_LIMITED' }))
    now += 100
    limiter.take('flood')
    expect(() => limiter.take('flood')).toThrow(/too many requests from flood/)
  })

  it('keeps a separate budget for every peer', () => {
    const limiter = new PeerRateLimiter({ perSecond: 1, burst: 2 }, () => 0)
    limiter.take('a')
    limiter.take('a')
    expect(() => limiter.take('a')).toThrow()
    expect(() => limiter.take('b')).not.toThrow()
  })
})
