// Recurring jobs. A schedule lives in the replicated state; when the leader's `advance` entry
// finds it due, it becomes one job whose id is derived from the schedule and the due time, so
// two leaders (or a replay) can never make two jobs of one due time. Times come from the entry's
// stamp. After a stretch with no leader, the next due time is the first one after the entry:
// a missed stretch gives one job, not a burst.
import { createHash } from 'node:crypto'
import { Cron } from 'croner'
import type { NewJob } from './job.js'

/** When a schedule is due: exactly one of `every` (ms) and `cron`, times in ms since 1970. */
export interface ScheduleTiming {
  readonly every?: number
  readonly cron?: string
  readonly timezone?: string
  readonly startAt?: number
  readonly endAt?: number
  /** Jobs in all; the schedule ends after the last. */
  readonly limit?: number
}

export interface ScheduleSpec extends ScheduleTiming {
  readonly id: string
  /** The job each due time produces (its id is made per due time). */
  readonly job: Omit<NewJob, 'id' | 'delayMs' | 'idempotencyKey'>
}

export interface ScheduleRecord {
  readonly spec: ScheduleSpec
  /** The next due time, by the leader's clock; undefined once it has ended. */
  nextAt: number | undefined
  /** Jobs made so far. */
  count: number
  lastJobId: string | undefined
}

/** The first due time at or after `from` (for a new schedule), or strictly after it (once one has fired). */
export function nextDue(spec: ScheduleSpec, from: number, strictlyAfter: boolean): number | undefined {
  const start = spec.startAt ?? from
  let next: number | undefined
  if (spec.every !== undefined) {
    const k = from < start ? 0 : strictlyAfter ? Math.floor((from - start) / spec.every) + 1 : Math.ceil((from - start) / spec.every)
    next = start + k * spec.every
  } else if (spec.cron !== undefined) {
    // croner's nextRun is strictly after the date it is given.
    const after = strictlyAfter ? Math.max(start - 1, from) : Math.max(start, from) - 1
    next = new Cron(spec.cron, { timezone: spec.timezone, paused: true }).nextRun(new Date(after))?.getTime()
  }
  if (next === undefined || (spec.endAt !== undefined && next > spec.endAt)) return undefined
  return next
}

/** The job id for one due time of one schedule: the same on every replica, every time. */
export function scheduledJobId(scheduleId: string, dueAt: number): string {
  return `s${createHash('sha256').update(scheduleId).digest('hex').slice(0, 16)}-${dueAt}`
}

/** Checks a schedule a client asks for; returns what is wrong, or undefined. */
export function scheduleProblem(spec: Pick<ScheduleSpec, 'every' | 'cron' | 'timezone' | 'startAt' | 'endAt'>): string | undefined {
  if ((spec.every === undefined) === (spec.cron === undefined)) return 'give exactly one of every (ms) and cron (a pattern)'
  if (spec.every !== undefined && (!Number.isInteger(spec.every) || spec.every < 100)) return 'every must be a whole number of milliseconds, at least 100'
  if (spec.cron !== undefined) {
    try {
      new Cron(spec.cron, { timezone: spec.timezone, paused: true }).nextRun()
    } catch (err) {
      return `cron "${spec.cron}"${spec.timezone ? ` in ${spec.timezone}` : ''}: ${err instanceof Error ? err.message : String(err)}`
    }
  }
  if (spec.startAt !== undefined && spec.endAt !== undefined && spec.endAt < spec.startAt) return 'endAt is before startAt'
  return undefined
}
