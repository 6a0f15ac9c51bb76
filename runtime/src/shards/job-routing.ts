// A job id names its shard: `<shard>.<uuid>` for a shard's jobs, no prefix for the root's (every
// job before shards, and every job whose id or idempotency key its client chose: those stay in
// the root so that one id means one job whatever shards come and go).
import { randomUUID } from 'node:crypto'
import { ROOT_SHARD } from './shard-map.js'

export function shardOfJob(id: string): number {
  const dot = id.indexOf('.')
  if (dot < 0) return ROOT_SHARD
  const shard = Number(id.slice(0, dot))
  return Number.isSafeInteger(shard) && shard > 0 ? shard : ROOT_SHARD
}

export function newJobId(shard: number): string {
  return shard === ROOT_SHARD ? randomUUID() : `${shard}.${randomUUID()}`
}

/** Groups ids by shard, keeping each id's place in the list. */
export function byShard(ids: readonly string[]): Map<number, { id: string; at: number }[]> {
  const groups = new Map<number, { id: string; at: number }[]>()
  ids.forEach((id, at) => {
    const shard = shardOfJob(id)
    groups.set(shard, [...(groups.get(shard) ?? []), { id, at }])
  })
  return groups
}
