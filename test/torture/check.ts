// What a torture run must show at the end, checked from the clients' record alone: every
// acknowledged job finished (completed, or dead after its attempts ran out) with the right
// result, no job completed twice, and nothing completed that no client submitted.
import { expectedDigest } from './jobs/digest.js'
import type { WorkloadRecord } from './workload.js'

export interface FinalState {
  readonly state: string
  readonly result: unknown
}

export interface Verdict {
  readonly acknowledged: number
  readonly completed: number
  readonly dead: number
  /** Acknowledged jobs missing, or not finished by the end. */
  readonly lost: string[]
  /** Jobs with more than one accepted result (two completion events). */
  readonly duplicateResults: string[]
  /** Completed jobs whose result is not the digest of their n. */
  readonly wrongResults: string[]
  /** Completed jobs that no client ever tried to submit. */
  readonly phantoms: string[]
}

/**
 * `finals` holds the state of every acknowledged job and of every job a completion event named,
 * read after the queue settled; a job the queue no longer knows is absent.
 */
export function check(record: WorkloadRecord, finals: ReadonlyMap<string, FinalState>): Verdict {
  const lost: string[] = []
  const wrongResults: string[] = []
  let completed = 0
  let dead = 0
  for (const [id, n] of record.acknowledged) {
    const final = finals.get(id)
    if (!final || (final.state !== 'completed' && final.state !== 'dead')) {
      lost.push(`${id} (n=${n}): ${final ? final.state : 'not found'}`)
      continue
    }
    if (final.state === 'dead') {
      dead += 1
      continue
    }
    completed += 1
    if (!isRightResult(final.result, n)) wrongResults.push(`${id} (n=${n}): ${JSON.stringify(final.result)}`)
  }
  const duplicateResults = [...record.completions].filter(([, positions]) => positions.size > 1).map(([id, positions]) => `${id} completed at ${[...positions].join(', ')}`)
  const phantoms: string[] = []
  for (const id of record.completions.keys()) {
    if (record.acknowledged.has(id)) continue
    // A job whose submission the client never heard back about may still exist: fine if it is one it tried.
    const n = (finals.get(id)?.result as { n?: unknown } | undefined)?.n
    if (typeof n !== 'number' || !record.invoked.has(n)) phantoms.push(`${id}: ${JSON.stringify(finals.get(id)?.result)}`)
  }
  return { acknowledged: record.acknowledged.size, completed, dead, lost, duplicateResults, wrongResults, phantoms }
}

function isRightResult(result: unknown, n: number): boolean {
  const r = result as { n?: unknown; digest?: unknown } | undefined
  return r?.n === n && r.digest === expectedDigest(n)
}

export function passed(verdict: Verdict): boolean {
  return verdict.lost.length === 0 && verdict.duplicateResults.length === 0 && verdict.wrongResults.length === 0 && verdict.phantoms.length === 0
}
