// What the root leader does next about shards, decided from the map and the loads its shard
// leaders last reported: a pure function, so the rules are tested on their own.
import { ROOT_SHARD, type ShardRecord, type ShardState } from './shard-map.js'

export interface ShardSettings {
  readonly maxJobsPerShard: number
  readonly membersPerShard: number
  readonly maxShards: number
  readonly certificateTtlMs: number
  readonly retireAfterMs: number
}

export interface ShardLoad {
  readonly unfinished: number
  readonly queued: number
  readonly sealed: boolean
  /** The voters of the shard's Raft group as its leader has them (absent: not reported). */
  readonly voters?: readonly string[]
  /** Unfinished jobs by submitter, for saturation's shares. */
  readonly bySubmitter?: Readonly<Record<string, number>>
}

export type ShardAction =
  | { readonly type: 'mint'; readonly members: readonly string[] }
  | { readonly type: 'certify'; readonly id: number }
  | { readonly type: 'drain'; readonly id: number }
  | { readonly type: 'reopen'; readonly id: number }
  | { readonly type: 'seal'; readonly id: number }
  | { readonly type: 'retire'; readonly id: number }
  /** A member is gone for good: a new epoch with another peer in its place. */
  | { readonly type: 'replace'; readonly id: number; readonly members: readonly string[] }
  /** The shard's group still has other voters than its map entry: its leader takes the next step. */
  | { readonly type: 'reconfigure'; readonly id: number; readonly members: readonly string[] }

export interface PlanInput {
  readonly rootState: ShardState
  readonly rootUnfinished: number
  /** Live shards other than the root. */
  readonly shards: readonly ShardRecord[]
  readonly loads: ReadonlyMap<number, ShardLoad>
  /** Since when each sealed shard has reported nothing unfinished. */
  readonly emptySince: ReadonlyMap<number, number>
  /** Peers that may keep a shard, best first. */
  readonly candidates: readonly string[]
  /** The id the next mint will get (members are rotated by it, to spread leaders and disks). */
  readonly nextId: number
  /** Peers not heard from for so long that the shards they keep should move (never a root peer). */
  readonly gone?: ReadonlySet<string>
  readonly settings: ShardSettings
  readonly now: number
}

/**
 * A shard fuller than this share of maxJobsPerShard has no room to speak of: the next one is
 * minted then, so it is certified and known to clients by the time this one fills.
 */
export const MINT_AHEAD_AT = 0.8

export function planShards(input: PlanInput): ShardAction[] {
  const { settings: s, now } = input
  const actions: ShardAction[] = []
  const roomy = (unfinished: number) => unfinished < MINT_AHEAD_AT * s.maxJobsPerShard
  let rootOpen = input.rootState === 'open'
  if (rootOpen && input.rootUnfinished >= s.maxJobsPerShard) {
    actions.push({ type: 'drain', id: ROOT_SHARD })
    rootOpen = false
  } else if (!rootOpen && input.rootUnfinished < s.maxJobsPerShard / 2) {
    // The root never retires: once it has room again it takes jobs again.
    actions.push({ type: 'reopen', id: ROOT_SHARD })
    rootOpen = true
  }
  let openWithRoom = rootOpen && roomy(input.rootUnfinished) ? 1 : 0
  let awaitingCertificate = false
  for (const shard of input.shards) {
    const load = input.loads.get(shard.id)
    if (!shard.certificate || shard.certificate.expiresAt - now < s.certificateTtlMs / 2) actions.push({ type: 'certify', id: shard.id })
    const voters = load?.voters
    if (voters && (voters.length !== shard.members.length || voters.some((v) => !shard.members.includes(v)))) actions.push({ type: 'reconfigure', id: shard.id, members: shard.members })
    else if (shard.certificate) {
      // One member at a time, once the previous change is done and certified.
      const dead = shard.members.find((m) => input.gone?.has(m))
      const replacement = input.candidates.find((c) => !shard.members.includes(c) && !input.gone?.has(c))
      if (dead && replacement) actions.push({ type: 'replace', id: shard.id, members: shard.members.map((m) => (m === dead ? replacement : m)) })
    }
    if (shard.state === 'open') {
      if (load && load.unfinished >= s.maxJobsPerShard) actions.push({ type: 'drain', id: shard.id })
      else if (!shard.certificate) awaitingCertificate = true
      else if (!load || roomy(load.unfinished)) openWithRoom++
    } else if (shard.state === 'draining' && load) {
      if (!load.sealed) actions.push({ type: 'seal', id: shard.id })
      const since = input.emptySince.get(shard.id)
      if (load.sealed && load.unfinished === 0 && since !== undefined && now - since >= s.retireAfterMs) actions.push({ type: 'retire', id: shard.id })
    }
  }
  const live = input.shards.length + 1
  if (openWithRoom === 0 && !awaitingCertificate && live < s.maxShards && input.candidates.length > 0) {
    actions.push({ type: 'mint', members: chooseMembers(input.candidates, s.membersPerShard, input.nextId) })
  }
  return actions
}

/** `count` of the candidates, starting at a place that moves with each shard minted. */
export function chooseMembers(candidates: readonly string[], count: number, seed: number): string[] {
  const n = Math.min(count, candidates.length)
  return Array.from({ length: n }, (_, i) => candidates[(seed + i) % candidates.length]!)
}
