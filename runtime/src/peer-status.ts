// What `queue-runtime status` shows: the group as this peer sees it, jobs by state, workers.
import type { CensusView } from './census/census.js'
import type { ConsensusGroup } from './raft/group.js'
import { RaftGroup } from './raft/raft-group.js'
import type { QueueConfig } from './registry/schema.js'
import type { PauseState } from './queue/pauses.js'
import type { ShardSummary } from './shards/shard-summary.js'
import type { AdmissionView } from './saturation/admission.js'

export interface MemberStatus {
  readonly id: string
  readonly self: boolean
  /** Answered the leader lately; null when this peer is not the leader and cannot tell. */
  readonly healthy: boolean | null
  /** Entries behind the leader's log; null when unknown. */
  readonly lag: number | null
  /** How this peer is connected to the member right now: directly, only through a relay, or not (null; also for itself). */
  readonly connection: 'direct' | 'relay' | null
  /** Addresses the answering peer knows for the member when peers find each other by rendezvous (else empty). */
  readonly addrs: readonly string[]
}

/** How this peer finds others (docs/discovery.md); all off when the registry gives every address. */
export interface DiscoveryStatus {
  readonly dht: 'server' | 'client' | 'off'
  readonly mdns: boolean
  readonly bootstrap: number
  readonly relay: boolean
  /** Whether this peer has provided the rendezvous key in the DHT. */
  readonly providing: boolean
}

export interface PeerStatus {
  readonly queue: string
  readonly peerId: string
  readonly role: 'leader' | 'follower' | 'candidate' | 'worker'
  readonly leader: string | null
  readonly term: number
  readonly commitIndex: number
  readonly members: readonly MemberStatus[]
  readonly jobs: Record<string, number>
  /** `versions`: the deployed versions a worker running deployed code holds. */
  readonly workers: readonly { id: string; running: number; capacity: number; versions?: readonly number[] }[]
  readonly handlers: readonly string[]
  readonly listen: readonly string[]
  /** The leader's census of the queue's peers; null on other peers and before the first poll closes. */
  readonly census: CensusView | null
  /** Why this peer stopped keeping the queue (a disk that failed or filled); null while it works. */
  readonly stopped: string | null
  readonly discovery: DiscoveryStatus
  /** Whether the queue, or which job names, are paused (null on a worker peer). */
  readonly paused: PauseState | null
  /** Added by the client when the queue has shards besides the root (`jobs` then counts all of them). */
  readonly shards?: readonly ShardSummary[]
  /** Shards minted so far, retired ones included. */
  readonly shardsMinted?: number
  /** Shard certificates the client refused (forged, expired, signed by too few). */
  readonly certificatesRefused?: number
  /** Admission from capacity on the root leader: null when saturation is off, or on other peers. */
  readonly saturation?: SaturationStatus | null
}

export interface SaturationStatus extends AdmissionView {
  readonly unfinished: number
  readonly jobsPerFreeSlot: number
  /** Each submitter with unfinished jobs, and its share of admissions under saturation. */
  readonly submitters: readonly { readonly id: string; readonly unfinished: number; readonly share: number }[]
}

export interface StatusInputs {
  readonly queue: QueueConfig
  readonly peerId: string
  readonly mode: 'solo' | 'raft' | 'worker'
  readonly group: ConsensusGroup | undefined
  readonly listen: readonly string[]
  readonly handlers: readonly string[]
  readonly workers: PeerStatus['workers']
  readonly census: CensusView | null
  readonly discovery: DiscoveryStatus
  readonly connections: ReadonlyMap<string, 'direct' | 'relay'>
  readonly addressesOf: (id: string) => string[]
}

export function describeStatus(s: StatusInputs): PeerStatus {
  const base = { queue: s.queue.name, peerId: s.peerId, listen: s.listen, handlers: s.handlers, workers: s.workers, census: s.census, stopped: s.group?.stoppedBy()?.message ?? null, discovery: s.discovery, paused: s.group?.state.paused() ?? null }
  if (!s.group) {
    return { ...base, role: 'worker', leader: null, term: 0, commitIndex: 0, members: [], jobs: {} }
  }
  const jobs = s.group.state.countByState()
  if (!(s.group instanceof RaftGroup)) {
    return { ...base, role: 'leader', leader: s.peerId, term: 1, commitIndex: s.group.state.appliedIndex, members: [{ id: s.peerId, self: true, healthy: true, lag: 0, connection: null, addrs: s.addressesOf(s.peerId) }], jobs }
  }
  const core = s.group.raft.core
  const progress = new Map(core.followers().map((f) => [f.id, f]))
  const last = core.log.lastIndex()
  const members = s.queue.trustedPeers.map((p) => {
    const pr = progress.get(p.id)
    return { id: p.id, self: p.id === s.peerId, healthy: pr ? pr.active : null, lag: pr ? last - pr.match : null, connection: s.connections.get(p.id) ?? null, addrs: s.addressesOf(p.id) }
  })
  // A member whose disk failed leads nothing and follows nobody, whatever its core last believed.
  if (base.stopped) return { ...base, role: 'follower', leader: null, term: core.term, commitIndex: core.log.committed, members, jobs }
  const role = core.role === 'leader' ? 'leader' : core.role === 'follower' ? 'follower' : 'candidate'
  return { ...base, role, leader: core.leader ?? null, term: core.term, commitIndex: core.log.committed, members, jobs }
}
