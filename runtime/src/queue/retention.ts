// How long a finished job is kept, as BullMQ users set it per job: `removeOnComplete` (when it
// completed) and `removeOnFail` (when it ended dead): true (at once), a count (keep the newest
// n of that job name), or { age (seconds), count }. Without them the queue keeps the newest
// finished jobs up to its overall retention.
export type Retention = boolean | number | { readonly age?: number; readonly count?: number }

export interface RetentionRule {
  /** Removed at once. */
  readonly immediately: boolean
  /** Removed this many ms after it finished. */
  readonly ageMs: number | undefined
  /** The newest this many of the job name are kept. */
  readonly count: number | undefined
}

export function retentionRule(retention: Retention | undefined): RetentionRule | undefined {
  if (retention === undefined || retention === false) return undefined
  if (retention === true) return { immediately: true, ageMs: undefined, count: undefined }
  if (typeof retention === 'number') return { immediately: retention <= 0, ageMs: undefined, count: retention > 0 ? retention : undefined }
  return { immediately: false, ageMs: retention.age === undefined ? undefined : retention.age * 1000, count: retention.count }
}
