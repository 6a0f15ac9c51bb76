import { describe, expect, it } from 'vitest'
import { peerOptions } from './peer-options.js'

const defaults = { data: '.peerqueue/data', dev: false }

describe('peer options', () => {
  it('passes --lease-ahead through, and leaves it out when not given', () => {
    expect(peerOptions({ 'lease-ahead': '0' }, defaults).leaseAhead).toBe(0)
    expect(peerOptions({ 'lease-ahead': '40' }, defaults).leaseAhead).toBe(40)
    expect('leaseAhead' in peerOptions({}, defaults)).toBe(false)
  })

  it('refuses a --lease-ahead that is not a whole number of 0 or more', () => {
    expect(() => peerOptions({ 'lease-ahead': '-1' }, defaults)).toThrow(/--lease-ahead must be 0 or more/)
    expect(() => peerOptions({ 'lease-ahead': 'many' }, defaults)).toThrow(/--lease-ahead must be a whole number/)
  })
})
