// A worker's leases across the queue's shards: it asks the shard with the most queued jobs first
// (as the root last heard from each shard's leader), then the others, and sends each outcome,
// renewal and progress report to the shard its job id names. Only the last shard asked may hold
// the request while it has nothing, so a worker never waits on an empty shard while another has work.
import { PeerqueueError } from '../errors.js'
import type { GrantedLease, LeaseRef } from '../queue/commands.js'
import type { Outcome, WorkSource } from '../worker/work-source.js'
import { shardOfJob } from './job-routing.js'
import type { ShardDirectory } from './shard-directory.js'
import { ROOT_SHARD } from './shard-map.js'

const MAP_MAX_AGE_MS = 1_000

export interface ShardSources {
  readonly directory: ShardDirectory
  /** A source for one shard that answers at once; `holding` for the last one asked (it may wait). */
  sourceFor(shard: number, holding: boolean): WorkSource | undefined
}

export function shardedWorkSource(root: WorkSource, shards: ShardSources): WorkSource {
  const sourceOf = (shard: number, holding = false) => (shard === ROOT_SHARD ? root : shards.sourceFor(shard, holding))
  // A shard unknown for now (its certificate is being renewed or moved): the call fails and is made
  // again later, rather than taking its leases for lost.
  const need = (shard: number): WorkSource => {
    const source = sourceOf(shard)
    if (!source) throw new PeerqueueError('E_SHARD_UNKNOWN', `shard ${shard} has no valid certificate here right now; trying again shortly`)
    return source
  }
  const split = <T>(items: readonly T[], idOf: (item: T) => string) => {
    const groups = new Map<number, { item: T; at: number }[]>()
    items.forEach((item, at) => {
      const shard = shardOfJob(idOf(item))
      groups.set(shard, [...(groups.get(shard) ?? []), { item, at }])
    })
    return groups
  }
  return {
    hasReady: root.hasReady ? () => root.hasReady!() : undefined,
    async lease(count, exclude, running, outcomes = [], limits) {
      await shards.directory.refresh(MAP_MAX_AGE_MS).catch(() => undefined)
      const known = shards.directory.shards()
      if (known.length === 0) return root.lease(count, exclude, running, outcomes, limits)
      // Busiest first; the root last unless it has outcomes to carry (they must reach it anyway).
      const order = [...known].sort((a, b) => b.queued - a.queued).map((s) => s.id)
      order.push(ROOT_SHARD)
      const byShard = split(outcomes, (o) => o.job.jobId)
      const first = order.find((s) => byShard.has(s)) ?? order[0]!
      const rest = order.filter((s) => s !== first)
      const tries = [first, ...rest]
      // Outcomes for shards other than the first asked go straight to them, before any lease: if
      // one cannot be reported the call fails with nothing leased, and the worker reports them again.
      await Promise.all([...byShard].filter(([s]) => s !== first).map(async ([s, group]) => need(s).report(group.map((g) => g.item))))
      const runningBy = split(running, (id) => id)
      let leases: GrantedLease[] = []
      for (const [i, shard] of tries.entries()) {
        const carried = shard === first ? (byShard.get(first) ?? []).map((g) => g.item) : []
        const source = carried.length > 0 ? need(shard) : sourceOf(shard, i === tries.length - 1)
        if (!source) continue
        try {
          leases = await source.lease(count, exclude, (runningBy.get(shard) ?? []).map((g) => g.item), carried, limits)
        } catch (err) {
          if (carried.length > 0 || i === tries.length - 1) throw err
          continue
        }
        if (leases.length > 0) break
      }
      return leases
    },
    async renew(jobs) {
      const lost = await Promise.all([...split(jobs, (j) => j.jobId)].map(async ([s, group]) => need(s).renew(group.map((g) => g.item))))
      return lost.flat()
    },
    async report(outcomes) {
      const accepted: boolean[] = outcomes.map(() => false)
      await Promise.all(
        [...split(outcomes, (o: Outcome) => o.job.jobId)].map(async ([s, group]) => {
          const answer = await need(s).report(group.map((g) => g.item))
          group.forEach((g, i) => (accepted[g.at] = answer[i] ?? false))
        }),
      )
      return accepted
    },
    async progress(updates) {
      await Promise.all([...split(updates, (u: { job: LeaseRef }) => u.job.jobId)].map(async ([s, group]) => need(s).progress(group.map((g) => g.item))))
    },
    async release() {
      await Promise.all([root, ...shards.directory.shards().map((s) => shards.sourceFor(s.id, false))].map((source) => source?.release().catch(() => undefined)))
    },
  }
}
