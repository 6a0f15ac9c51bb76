// The shard map as the root group's log keeps it: which shards exist, who keeps each, in which
// epoch, whether each still takes new jobs, and the latest certificate of its authority. Shard 0
// is the root group itself (its members are the registry's trusted peers, its authority the
// registry): a queue that never grows has only it, and behaves as before shards existed.
import { bodyOf, type ShardCertificate } from './certificate.js'

export type ShardState = 'open' | 'draining' | 'retired'

export interface ShardRecord {
  readonly id: number
  readonly members: readonly string[]
  /**
   * The members it was minted with: every member opens the shard's Raft group with this first
   * configuration, and later ones come only from the group's own log (a newcomer of a later
   * epoch, not among them, waits to be added).
   */
  readonly founders: readonly string[]
  readonly epoch: number
  readonly state: ShardState
  /** The leader's stamp on the entry that minted it. */
  readonly mintedAt: number
  readonly certificate?: ShardCertificate
}

export type ShardCommand =
  | { readonly type: 'shard-mint'; readonly members: readonly string[] }
  /** Kept only if it names the shard's current members and epoch and outlives the one held. */
  | { readonly type: 'shard-certify'; readonly certificate: ShardCertificate }
  /** The shard takes no new jobs; for shard 0 (the root, which never retires) clients only prefer others. */
  | { readonly type: 'shard-drain'; readonly id: number }
  | { readonly type: 'shard-reopen'; readonly id: number }
  /** A drained shard with nothing unfinished is gone: its members drop its group. */
  | { readonly type: 'shard-retire'; readonly id: number }
  /** New members, a new epoch: every certificate of the old one stops counting. */
  | { readonly type: 'shard-members'; readonly id: number; readonly members: readonly string[] }

export interface ShardMapSnapshot {
  readonly shards: readonly ShardRecord[]
  readonly next: number
  readonly rootState: ShardState
}

export const ROOT_SHARD = 0

export class ShardMap {
  private shards = new Map<number, ShardRecord>()
  private next = 1
  private root: ShardState = 'open'

  /** Applies a command; returns the shard it touched (the new one, for a mint), or undefined if it changed nothing. */
  apply(command: ShardCommand, time: number): number | undefined {
    switch (command.type) {
      case 'shard-mint': {
        const id = this.next++
        this.shards.set(id, { id, members: [...command.members], founders: [...command.members], epoch: 1, state: 'open', mintedAt: time })
        return id
      }
      case 'shard-certify': {
        const c = command.certificate
        const shard = this.shards.get(c.shard)
        if (!shard || shard.state === 'retired' || shard.epoch !== c.epoch || !sameMembers(shard.members, c.members)) return undefined
        if (shard.certificate && shard.certificate.expiresAt >= c.expiresAt) return undefined
        this.shards.set(shard.id, { ...shard, certificate: { ...bodyOf(c), signatures: c.signatures.map((s) => ({ ...s })) } })
        return shard.id
      }
      case 'shard-drain':
      case 'shard-reopen': {
        const state = command.type === 'shard-drain' ? 'draining' : 'open'
        if (command.id === ROOT_SHARD) {
          this.root = state
          return ROOT_SHARD
        }
        const shard = this.shards.get(command.id)
        if (!shard || shard.state === 'retired') return undefined
        this.shards.set(shard.id, { ...shard, state })
        return shard.id
      }
      case 'shard-retire': {
        const shard = this.shards.get(command.id)
        if (!shard || shard.state !== 'draining') return undefined
        this.shards.set(shard.id, { ...shard, state: 'retired', certificate: undefined })
        return shard.id
      }
      case 'shard-members': {
        const shard = this.shards.get(command.id)
        if (!shard || shard.state === 'retired' || command.members.length === 0) return undefined
        this.shards.set(shard.id, { ...shard, members: [...command.members], epoch: shard.epoch + 1, certificate: undefined })
        return shard.id
      }
    }
  }

  /** The id the next mint gets. */
  get nextId(): number {
    return this.next
  }

  get rootState(): ShardState {
    return this.root
  }

  get(id: number): ShardRecord | undefined {
    return this.shards.get(id)
  }

  /** Shards other than the root that are not retired, by id. */
  live(): ShardRecord[] {
    return [...this.shards.values()].filter((s) => s.state !== 'retired').sort((a, b) => a.id - b.id)
  }

  /** Every shard ever minted, retired ones included, by id. */
  all(): ShardRecord[] {
    return [...this.shards.values()].sort((a, b) => a.id - b.id)
  }

  snapshot(): ShardMapSnapshot {
    return { shards: this.all().map((s) => ({ ...s })), next: this.next, rootState: this.root }
  }

  restore(snapshot: ShardMapSnapshot | undefined): void {
    this.shards = new Map((snapshot?.shards ?? []).map((s) => [s.id, { ...s, founders: s.founders ?? s.members }]))
    this.next = snapshot?.next ?? 1
    this.root = snapshot?.rootState ?? 'open'
  }
}

export function isShardCommand(command: { readonly type: string }): command is ShardCommand {
  return command.type.startsWith('shard-')
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((m, i) => m === b[i])
}
