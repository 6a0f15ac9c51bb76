// One shard as `status` shows it: members, leader, jobs by state, and its certificate.
import type { ShardState } from './shard-map.js'

export interface ShardSummary {
  readonly id: number
  readonly state: ShardState
  readonly members: readonly string[]
  /** null when no member answered. */
  readonly leader: string | null
  /** The group's Raft voters as its answering member has them (null when none answered). */
  readonly voters: readonly string[] | null
  readonly learners: readonly string[] | null
  readonly jobs: Record<string, number> | null
  readonly sealed: boolean | null
  readonly certificate: { readonly epoch: number; readonly expiresAt: number; readonly signers: readonly string[] }
}
