// Registry document, version 1 (DESIGN §3). The schema is strict: unknown keys are errors,
// because a misspelt key silently ignored is a trust rule silently dropped. It also reads
// PeerPrint's registries as they are (no `version`, `created`, `url`, `desc`, display names,
// trusted peers as bare ids): every key either format has is still checked.
import { z } from 'zod'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { internalQueueName } from './queue-name.js'

const peerId = z.string().refine(isEd25519PeerId, { message: 'not a valid Ed25519 peer id (12D3KooW…)' })

const address = z.string().refine(isMultiaddr, { message: 'not a valid multiaddr (such as /ip4/192.0.2.7/tcp/4101)' })

/** A bootstrap address names the peer it reaches, so a dial can check who answered. */
const bootstrapAddress = z.string().refine(isPeerMultiaddr, { message: 'not a multiaddr ending in /p2p/<peer id> (such as /ip4/192.0.2.7/tcp/4101/p2p/12D3KooW…)' })

const peerList = z.array(peerId).min(1, { message: 'must list at least one peer id (or be "trusted" / "any")' })

/** A trusted peer: `{ id, addrs }`, or a bare id (found through the rendezvous, as PeerPrint lists them). */
const trustedPeer = z.preprocess(
  (entry) => (typeof entry === 'string' ? { id: entry } : entry),
  z.strictObject({ id: peerId, addrs: z.array(address).default([]) }, { error: 'must be a peer id, or { id: <peer id>, addrs: [<multiaddr>, …] }' }),
)

const displayName = z
  .string()
  .min(1, { message: 'must not be empty' })
  .max(100, { message: 'must be at most 100 characters' })
  .refine((name) => !/[\p{Cc}]/u.test(name), { message: 'must not contain control characters' })

const queueSchema = z
  .strictObject({
    name: displayName,
    description: z.string().max(1000).optional(),
    /** PeerPrint's name for `description`. */
    desc: z.string().max(1000).optional(),
    url: z.url({ message: 'must be a URL' }).optional(),
    rendezvous: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1-128 characters of A-Z, a-z, 0-9, ., _ and -'),
    trustedPeers: z.array(trustedPeer).min(1, { message: 'must list at least one trusted peer: they keep the queue' }),
    /** Peers to dial first to find the others (each with its /p2p/<id>). */
    bootstrap: z.array(bootstrapAddress).default([]),
    submitters: z.union([z.literal('trusted'), z.literal('any'), peerList], { error: 'must be "trusted", "any" or a list of peer ids' }).default('trusted'),
    workers: z.union([z.literal('any'), peerList], { error: 'must be "any" or a list of peer ids' }).default('any'),
    /** Who may deploy handler code that workers fetch and run (`queue-runtime deploy`). */
    deployers: z.union([z.literal('trusted'), peerList], { error: 'must be "trusted" or a list of peer ids' }).default('trusted'),
    limits: z
      .strictObject({
        maxPayloadBytes: z.int().positive().max(64 * 1024 * 1024).default(1024 * 1024),
        maxResultBytes: z.int().positive().max(64 * 1024 * 1024).default(1024 * 1024),
        maxQueuedJobs: z.int().positive().default(1_000_000),
        /** Requests a second each peer may make of a trusted peer, in bursts of twice that. */
        maxRequestsPerSecond: z.int().positive().max(1_000_000).default(2_000),
        /** One deployed handler bundle, and all of one deploy's bundles together. */
        maxBundleBytes: z.int().positive().max(8 * 1024 * 1024).default(4 * 1024 * 1024),
        maxDeployBytes: z.int().positive().max(12 * 1024 * 1024).default(8 * 1024 * 1024),
      })
      .prefault({}),
    /** A queue grows into shards, each its own Raft group (docs/shards.md). */
    shards: z
      .strictObject({
        /** Unfinished jobs a shard takes before it stops taking new ones and another is minted. */
        maxJobsPerShard: z.int().min(1).default(100_000),
        /** Members of each new shard's Raft group (an odd number is best: a majority of 3 is 2, of 4 is 3). */
        membersPerShard: z.int().min(1).max(15).default(3),
        /** Who may host a shard: the trusted peers, any long-lived peer the census knows, or these peers. */
        delegates: z.union([z.literal('trusted'), z.literal('any'), peerList], { error: 'must be "trusted", "any" or a list of peer ids' }).default('trusted'),
        /** Shards open or draining at once, the root's own jobs included. */
        maxShards: z.int().min(1).max(1024).default(64),
        /** How long a delegation certificate is valid; it is renewed when half of that is left. */
        certificateTtlMs: z.int().min(10_000).max(7 * 86_400_000).default(600_000),
        /** A drained shard is retired this long after its last job finished (its results are forgotten then). */
        retireAfterMs: z.int().min(0).max(30 * 86_400_000).default(300_000),
        /** A delegate silent this long is replaced in the shards it keeps (a new epoch; root trusted peers are never replaced). */
        replaceAfterMs: z.int().min(1_000).max(30 * 86_400_000).default(60_000),
      })
      .prefault({}),
    /** Admission from capacity (README, "Saturation"); absent: off, the queue takes jobs up to maxQueuedJobs. */
    saturation: z
      .strictObject({
        jobsPerFreeSlot: z.number().positive().max(1_000_000).default(10),
        minCapacity: z.int().min(1).default(100),
        maxWaitMs: z.int().min(0).max(86_400_000).default(60_000),
        /** A submitter's share under saturation, relative to the others' (default 1 each). */
        weights: z.record(peerId, z.number().positive().max(1_000)).default({}),
      })
      .optional(),
    census: z
      .strictObject({
        /** Answers wanted a poll; p is chosen to draw about this many. */
        targetSample: z.int().min(5).max(10_000).default(50),
        intervalMs: z.int().min(100).max(3_600_000).default(10_000),
        /** Polls pooled into the estimate. */
        windowSize: z.int().min(1).max(100).default(10),
      })
      .prefault({}),
  })
  .refine((q) => q.description === undefined || q.desc === undefined, { message: 'give description or desc, not both', path: ['desc'] })
  .transform(({ name, desc, description, trustedPeers, ...rest }) => ({
    /** Safe for paths, topics and protocol ids; equal to the display name when that is already a slug. */
    name: internalQueueName(name),
    displayName: name,
    description: description ?? desc,
    trustedPeers,
    ...rest,
  }))

export const registrySchema = z.strictObject({
  /** Absent in PeerPrint's registries, which are read as version 1. */
  version: z.literal(1, { error: 'must be 1 (the only version there is)' }).default(1),
  /** PeerPrint's: when the document was made (Unix seconds or a date). */
  created: z.union([z.int().nonnegative(), z.string().max(64)]).optional(),
  url: z.url({ message: 'must be a URL' }).optional(),
  queues: z.array(queueSchema).min(1, { message: 'must list at least one queue' }),
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

function isPeerMultiaddr(text: string): boolean {
  try {
    const id = multiaddr(text).getComponents().findLast((c) => c.name === 'p2p')?.value
    return id !== undefined && isEd25519PeerId(id)
  } catch {
    return false
  }
}
