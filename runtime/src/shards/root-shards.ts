// The root group's answers about shards: the map as clients and workers read it (with the
// certificates they check for themselves), and a member's signature on a certificate its leader
// asks for, given only when the certificate says what this member's own copy of the map says.
import { z } from 'zod'
import { PeerqueueError } from '../errors.js'
import type { Identity } from '../net/identity.js'
import type { Caller } from '../net/rpc.js'
import type { QueueStateMachine } from '../queue/state-machine.js'
import type { QueueConfig } from '../registry/schema.js'
import { parseRequest } from '../service/requests.js'
import { CLOCK_SKEW_MS, signCertificate, type CertificateBody, type CertificateSignature, type ShardCertificate } from './certificate.js'
import { ROOT_SHARD, type ShardState } from './shard-map.js'
import type { ShardLoad } from './shard-planner.js'

export interface ShardView {
  readonly id: number
  readonly state: ShardState
  readonly epoch: number
  readonly members: readonly { readonly id: string; readonly addrs: readonly string[] }[]
  /** The members it was minted with: the first configuration of its Raft group. */
  readonly founders: readonly string[]
  readonly certificate: ShardCertificate | null
  /** As its leader last reported to the root leader; null when not known here. */
  readonly load: ShardLoad | null
}

export interface ShardMapView {
  readonly root: { readonly state: ShardState; readonly unfinished: number }
  readonly shards: readonly ShardView[]
  /** Shards minted so far, retired ones included. */
  readonly minted: number
  /** Shards retired: whoever still keeps a log of one may drop it. */
  readonly retired: readonly number[]
}

const bodyShape = z.strictObject({
  queue: z.string().min(1).max(200),
  shard: z.int().min(1),
  members: z.array(z.string().min(1).max(128)).min(1).max(15),
  epoch: z.int().min(1),
  expiresAt: z.int().min(0),
})

export const SHARD_METHODS = new Set(['shards', 'shard.sign'])

export interface RootShardsOptions {
  readonly queue: QueueConfig
  readonly state: QueueStateMachine
  readonly identity: Identity
  readonly addressesOf: (id: string) => readonly string[]
  readonly loads: () => ReadonlyMap<number, ShardLoad>
  readonly now?: () => number
}

export class RootShards {
  constructor(private readonly options: RootShardsOptions) {}

  async handle(method: string, params: unknown, caller: Caller): Promise<unknown> {
    if (method === 'shards') return this.view()
    if (method === 'shard.sign') return this.sign(parseRequest(bodyShape, params, method), caller)
    throw new PeerqueueError('E_PROTOCOL', `unknown method "${method}"`)
  }

  view(): ShardMapView {
    const { state, addressesOf } = this.options
    const loads = this.options.loads()
    return {
      root: { state: state.shards.rootState, unfinished: state.activeCount() },
      shards: state.shards.live().map((s) => ({
        id: s.id,
        state: s.state,
        epoch: s.epoch,
        members: s.members.map((id) => ({ id, addrs: addressesOf(id) })),
        founders: s.founders,
        certificate: s.certificate ?? null,
        load: loads.get(s.id) ?? null,
      })),
      minted: state.shards.nextId - 1,
      retired: state.shards.all().filter((s) => s.state === 'retired').map((s) => s.id),
    }
  }

  private async sign(body: CertificateBody, caller: Caller): Promise<CertificateSignature> {
    const { queue, state, identity } = this.options
    const refuse = (why: string) => new PeerqueueError('E_CERTIFICATE', `${identity.peerId} will not sign shard ${body.shard}'s certificate: ${why}`)
    if (!queue.trustedPeers.some((p) => p.id === caller.peerId)) throw refuse(`${caller.peerId} is not a root trusted peer`)
    if (body.queue !== queue.name) throw refuse(`it is for queue "${body.queue}"`)
    const record = body.shard === ROOT_SHARD ? undefined : state.shards.get(body.shard)
    if (!record || record.state === 'retired') throw refuse('this peer\'s map has no such live shard (yet)')
    if (record.epoch !== body.epoch || record.members.length !== body.members.length || record.members.some((m, i) => m !== body.members[i])) {
      throw refuse(`this peer's map has epoch ${record.epoch} with members ${record.members.join(', ')}`)
    }
    const longest = queue.shards.certificateTtlMs + CLOCK_SKEW_MS
    const now = (this.options.now ?? Date.now)()
    if (body.expiresAt > now + longest) throw refuse(`it would be valid for more than the queue's certificateTtlMs (${queue.shards.certificateTtlMs} ms)`)
    return signCertificate(body, identity.peerId, identity.privateKey)
  }
}
