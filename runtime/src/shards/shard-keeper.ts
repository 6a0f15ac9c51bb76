// The root leader's care of the shards: every few hundred ms it reads each shard's load from its
// leader, then mints, certifies, renews, drains, seals and retires as planShards decides. A
// certificate is signed by this peer and by as many other root members as answer, and written to
// the root log only once a majority has signed. Everything here is repeated safely by the next
// root leader: each step re-reads the committed map.
import { PeerqueueError, errorMessage } from '../errors.js'
import { LeaderLink } from '../client/leader-link.js'
import type { Identity } from '../net/identity.js'
import type { PeerNode } from '../net/node.js'
import { RpcClient } from '../net/rpc.js'
import type { ConsensusGroup } from '../raft/group.js'
import type { QueueConfig } from '../registry/schema.js'
import { signCertificate, type CertificateBody, type CertificateSignature } from './certificate.js'
import { ROOT_SHARD } from './shard-map.js'
import { planShards, type ShardAction, type ShardLoad } from './shard-planner.js'
import type { ShardHost } from './shard-host.js'
import type { ShardAdmissionState } from '../saturation/shard-admission.js'

const KEEP_EVERY_MS = 250
const SHARD_CALL_MS = 1_500

export interface ShardKeeperOptions {
  readonly node: PeerNode
  readonly identity: Identity
  readonly queue: QueueConfig
  readonly root: ConsensusGroup
  readonly log: (line: string) => void
  /** The shards this peer keeps itself: asked directly when it leads them (a peer cannot dial itself). */
  readonly host: ShardHost
  /** Who may keep a new shard, best first. */
  readonly candidates: (now: number) => readonly string[]
  /** Delegates gone for good, whose shards get another member. */
  readonly gone: (now: number) => ReadonlySet<string>
  /** Where to dial a shard member that is not a root trusted peer. */
  readonly addressesOf: (id: string) => readonly string[]
  /** With saturation on: what each open shard's leader is told to admit, by shard id. */
  readonly admission?: () => ReadonlyMap<number, ShardAdmissionState> | undefined
  readonly now?: () => number
}

export class ShardKeeper {
  private timer: NodeJS.Timeout | undefined
  private running = false
  private stopped = false
  private readonly links = new Map<number, LeaderLink>()
  private readonly signers = new Map<string, RpcClient>()
  private readonly loadsById = new Map<number, ShardLoad>()
  private readonly emptySince = new Map<number, number>()

  constructor(private readonly options: ShardKeeperOptions) {}

  /** The loads last read, by shard id. */
  get loads(): ReadonlyMap<number, ShardLoad> {
    return this.loadsById
  }

  start(): void {
    this.stopped = false
    this.timer ??= setInterval(() => void this.round(), KEEP_EVERY_MS)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    this.timer = undefined
    await Promise.all([...this.links.values()].map((l) => l.close()))
    this.links.clear()
    await Promise.all([...this.signers.values()].map((c) => c.close().catch(() => undefined)))
    this.signers.clear()
  }

  /** One round; rounds never overlap. Exposed for tests. */
  async round(): Promise<void> {
    if (this.running || this.stopped || !this.options.root.isLeader()) return
    this.running = true
    try {
      await this.readLoads()
      const state = this.options.root.state
      const now = this.now()
      const actions = planShards({
        rootState: state.shards.rootState,
        rootUnfinished: state.activeCount(),
        shards: state.shards.live(),
        loads: this.loadsById,
        emptySince: this.emptySince,
        candidates: this.options.candidates(now),
        gone: this.options.gone(now),
        nextId: state.shards.nextId,
        settings: this.options.queue.shards,
        now,
      })
      for (const action of actions) {
        if (this.stopped || !this.options.root.isLeader()) break
        await this.act(action).catch((err: unknown) => this.options.log(`peerqueue: shard ${describe(action)}: ${errorMessage(err)}`))
      }
      // A shard not told this round admits as if unsaturated once the last word is stale: worth a retry next round.
      const admission = this.options.admission?.()
      if (admission) await Promise.all([...admission].map(([id, state]) => this.callShard(id, 'shard.admission', state).catch(() => undefined)))
    } finally {
      this.running = false
    }
  }

  private now(): number {
    return (this.options.now ?? Date.now)()
  }

  private async act(action: ShardAction): Promise<void> {
    const root = this.options.root
    switch (action.type) {
      case 'mint': {
        const [result] = await root.propose([{ type: 'shard-mint', members: action.members }])
        const id = result?.type === 'shard' ? result.id : undefined
        if (id === undefined) return
        this.options.log(`peerqueue: minted shard ${id} (members ${action.members.map(short).join(', ')})`)
        await this.certify(id)
        return
      }
      case 'certify':
        return this.certify(action.id)
      case 'drain':
        await root.propose([{ type: 'shard-drain', id: action.id }])
        this.options.log(`peerqueue: shard ${action.id} is full; it takes no new jobs`)
        if (action.id !== ROOT_SHARD) await this.seal(action.id)
        return
      case 'reopen':
        await root.propose([{ type: 'shard-reopen', id: action.id }])
        return
      case 'seal':
        return this.seal(action.id)
      case 'retire': {
        await root.propose([{ type: 'shard-retire', id: action.id }])
        this.options.log(`peerqueue: retired shard ${action.id}`)
        await this.links.get(action.id)?.close()
        this.links.delete(action.id)
        this.loadsById.delete(action.id)
        this.emptySince.delete(action.id)
        return
      }
      case 'replace':
        await root.propose([{ type: 'shard-members', id: action.id, members: action.members }])
        this.options.log(`peerqueue: shard ${action.id} moves to ${action.members.map(short).join(', ')} (a member is gone)`)
        // The channel followed the old members: find the leader among the new ones.
        await this.links.get(action.id)?.close()
        this.links.delete(action.id)
        return
      case 'reconfigure':
        await this.callShard(action.id, 'shard.reconfigure', { members: action.members })
        return
    }
  }

  private async seal(id: number): Promise<void> {
    const answer = (await this.callShard(id, 'shard.seal')) as { sealed: boolean; unfinished: number }
    const previous = this.loadsById.get(id)
    this.loadsById.set(id, { queued: previous?.queued ?? 0, unfinished: answer.unfinished, sealed: answer.sealed })
  }

  private async certify(id: number): Promise<void> {
    const { queue, identity, root } = this.options
    const record = root.state.shards.get(id)
    if (!record || record.state === 'retired') return
    const body: CertificateBody = { queue: queue.name, shard: id, members: [...record.members], epoch: record.epoch, expiresAt: this.now() + queue.shards.certificateTtlMs }
    const others = queue.trustedPeers.filter((p) => p.id !== identity.peerId)
    const majority = Math.floor(queue.trustedPeers.length / 2) + 1
    const signatures: CertificateSignature[] = [await signCertificate(body, identity.peerId, identity.privateKey)]
    const asked = await Promise.allSettled(others.map((p) => this.askSignature(p.id, p.addrs, body)))
    for (const answer of asked) if (answer.status === 'fulfilled') signatures.push(answer.value)
    if (signatures.length < majority) {
      const why = asked.flatMap((a) => (a.status === 'rejected' ? [errorMessage(a.reason)] : []))
      throw new PeerqueueError('E_CERTIFICATE', `${signatures.length} of ${majority} signatures needed (${why.join('; ')})`)
    }
    await root.propose([{ type: 'shard-certify', certificate: { ...body, signatures } }])
  }

  private async askSignature(id: string, addrs: readonly string[], body: CertificateBody): Promise<CertificateSignature> {
    let client = this.signers.get(id)
    if (!client || client.closed) {
      client = addrs.length > 0 ? await RpcClient.open(this.options.node, addrs.map((a) => `${a}/p2p/${id}`), SHARD_CALL_MS) : await RpcClient.openPeer(this.options.node, id, SHARD_CALL_MS)
      this.signers.set(id, client)
    }
    // A member learns that an entry committed with the leader's next message: just after a mint
    // its map may not have the shard yet, so it is asked again a few times.
    let answer: CertificateSignature | undefined
    for (let attempt = 0; answer === undefined; attempt++) {
      try {
        answer = (await client.call('shard.sign', body, SHARD_CALL_MS)) as CertificateSignature
      } catch (err) {
        if (attempt >= 10 || !errorMessage(err).includes('(yet)')) throw err
        await new Promise((r) => setTimeout(r, 20))
      }
    }
    if (answer?.signer !== id || typeof answer.signature !== 'string') throw new PeerqueueError('E_PROTOCOL', `${id} answered shard.sign with something else`)
    return answer
  }

  private async readLoads(): Promise<void> {
    const live = this.options.root.state.shards.live()
    const now = this.now()
    await Promise.all(
      live.map(async (shard) => {
        try {
          const load = (await this.callShard(shard.id, 'shard.load')) as ShardLoad & Record<string, unknown>
          this.loadsById.set(shard.id, {
            unfinished: load.unfinished,
            queued: Number(load.queued ?? 0),
            sealed: load.sealed,
            ...(Array.isArray(load.voters) ? { voters: load.voters as string[] } : {}),
            ...(load.bySubmitter && typeof load.bySubmitter === 'object' ? { bySubmitter: load.bySubmitter as Record<string, number> } : {}),
          })
          if (load.sealed && load.unfinished === 0) {
            if (!this.emptySince.has(shard.id)) this.emptySince.set(shard.id, now)
          } else this.emptySince.delete(shard.id)
        } catch {
          // Not answering this round (an election, a member starting): keep the last load.
        }
      }),
    )
    for (const id of this.links.keys()) if (!live.some((s) => s.id === id)) this.links.delete(id)
  }

  private callShard(id: number, method: string, params: unknown = {}): Promise<unknown> {
    const { host, identity } = this.options
    if (host.get(id)?.group.isLeader()) return host.handle(id, method, params, { peerId: identity.peerId })
    return this.linkOf(id).call(method, params, SHARD_CALL_MS)
  }

  private linkOf(id: number): LeaderLink {
    let link = this.links.get(id)
    if (!link) {
      const record = this.options.root.state.shards.get(id)!
      const peers = record.members.map((m) => ({ id: m, addrs: this.options.addressesOf(m).map((a) => a.replace(/\/p2p\/[^/]+$/, '')) }))
      link = new LeaderLink(this.options.node, peers, { hangUpOthers: false, shard: id, findById: true, self: this.options.identity.peerId })
      this.links.set(id, link)
    }
    return link
  }
}

function short(id: string): string {
  return `…${id.slice(-6)}`
}

function describe(action: ShardAction): string {
  return action.type === 'mint' ? 'mint' : `${action.type} ${action.id}`
}
