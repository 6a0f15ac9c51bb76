// Registry document, version 1 (DESIGN §3). The schema is strict: unknown keys are errors,
// because a misspelt key silently ignored is a trust rule silently dropped.
import { z } from 'zod'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'

const peerId = z.string().refine(isEd25519PeerId, { message: 'not a valid Ed25519 peer id' })

const address = z.string().refine(isMultiaddr, { message: 'not a valid multiaddr' })

const peerList = z.array(peerId).min(1)

export const registrySchema = z.strictObject({
  version: z.literal(1),
  queues: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[a-z0-9-]{1,63}$/, 'must be 1-63 characters of a-z, 0-9 and -'),
        description: z.string().max(1000).optional(),
        rendezvous: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1-128 characters of A-Z, a-z, 0-9, ., _ and -'),
        trustedPeers: z
          .array(z.strictObject({ id: peerId, addrs: z.array(address).min(1) }))
          .min(1),
        submitters: z.union([z.literal('trusted'), z.literal('any'), peerList]).default('trusted'),
        workers: z.union([z.literal('any'), peerList]).default('any'),
        limits: z
          .strictObject({
            maxPayloadBytes: z.int().positive().max(64 * 1024 * 1024).default(1024 * 1024),
            maxResultBytes: z.int().positive().max(64 * 1024 * 1024).default(1024 * 1024),
            maxQueuedJobs: z.int().positive().default(1_000_000),
            /** Requests a second each peer may make of a trusted peer, in bursts of twice that. */
            maxRequestsPerSecond: z.int().positive().max(1_000_000).default(2_000),
          })
          .prefault({}),
        census: z
          .strictObject({
            /** Answers wanted a poll; p is chosen to draw about this many. */
            targetSample: z.int().min(5).max(10_000).default(50),
            intervalMs: z.int().min(100).max(3_600_000).default(10_000),
            /** Polls pooled into the estimate. */
            windowSize: z.int().min(1).max(100).default(10),
          })
          .prefault({}),
      }),
    )
    .min(1),
})

export type Registry = z.infer<typeof registrySchema>
export type QueueConfig = Registry['queues'][number]
export type TrustedPeer = QueueConfig['trustedPeers'][number]

function isEd25519PeerId(text: string): boolean {
  try {
    return peerIdFromString(text).type === 'Ed25519'
  } catch {
    return false
  }
}

function isMultiaddr(text: string): boolean {
  try {
    multiaddr(text)
    return true
  } catch {
    return false
  }
}
