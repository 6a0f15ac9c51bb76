import superjson from 'superjson'
import { PeerqueueError } from '../errors.js'
import type { ScheduleView } from '../service/queue-service.js'
import { int, printJson, str, type CliCommand } from './command.js'
import { clientOptionHelp, clientOptionSpec, withClient } from './client-options.js'

export const schedule: CliCommand = {
  name: 'schedule',
  summary: 'create or replace a recurring job',
  usage: `Usage: queue-runtime schedule <id> <job-name> <json-payload> (--every <ms> | --cron <pattern>) [options]

Creates the schedule <id>, or replaces it (its count of jobs made so far is kept). Each due
time makes exactly one job; due times missed while the queue had no leader make one job.

Options:
  --every <ms>            every so many milliseconds (at least 100)
  --cron <pattern>        a cron pattern, e.g. "0 */15 * * * *" (seconds optional)
  --timezone <zone>       IANA time zone of the cron pattern (default UTC), e.g. Europe/Paris
  --start-at <time>       first due time no earlier than this (ISO 8601, or ms since 1970)
  --end-at <time>         no due time after this
  --limit <n>             at most n jobs in all
  --priority <n>          the jobs' priority
  --max-attempts <n>      the jobs' attempts before they are dead
${clientOptionHelp}`,
  options: {
    ...clientOptionSpec,
    every: { type: 'string' },
    cron: { type: 'string' },
    timezone: { type: 'string' },
    'start-at': { type: 'string' },
    'end-at': { type: 'string' },
    limit: { type: 'string' },
    priority: { type: 'string' },
    'max-attempts': { type: 'string' },
  },
  async run(values, positionals) {
    const [id, name, json] = positionals
    if (!id || !name || json === undefined || positionals.length > 3) throw new PeerqueueError('E_USAGE', `expected a schedule id, a job name and a JSON payload\n\n${this.usage}`)
    let payload: unknown
    try {
      payload = JSON.parse(json)
    } catch (err) {
      throw new PeerqueueError('E_USAGE', `the payload is not valid JSON: ${(err as Error).message}`)
    }
    const options = Object.fromEntries(Object.entries({ priority: int(values.priority, 'priority'), maxAttempts: int(values['max-attempts'], 'max-attempts') }).filter(([, v]) => v !== undefined))
    const timing = Object.fromEntries(
      Object.entries({
        every: int(values.every, 'every'),
        cron: str(values.cron),
        timezone: str(values.timezone),
        startAt: time(values['start-at'], 'start-at'),
        endAt: time(values['end-at'], 'end-at'),
        limit: int(values.limit, 'limit'),
      }).filter(([, v]) => v !== undefined),
    )
    const made = await withClient(values, (client) => client.schedule({ id, ...timing, job: { name, payload: superjson.stringify(payload), options } }))
    if (values.json) printJson(made)
    else process.stdout.write(`schedule ${made.id}: ${describe(made)}\n`)
  },
}

export const unschedule: CliCommand = {
  name: 'unschedule',
  summary: 'remove a recurring job',
  usage: `Usage: queue-runtime unschedule <id> [options]

Removes the schedule; the jobs it already made stay.

Options:
${clientOptionHelp}`,
  options: clientOptionSpec,
  async run(values, positionals) {
    if (positionals.length !== 1) throw new PeerqueueError('E_USAGE', `expected one schedule id\n\n${this.usage}`)
    const left = await withClient(values, (client) => client.unschedule(positionals[0]!))
    if (values.json) printJson({ removed: positionals[0], schedules: left })
    else process.stdout.write(`removed schedule ${positionals[0]}; ${left} left\n`)
  },
}

export const schedules: CliCommand = {
  name: 'schedules',
  summary: 'list the recurring jobs',
  usage: `Usage: queue-runtime schedules [options]

Lists every schedule with its timing, its next due time and the jobs it has made.

Options:
${clientOptionHelp}`,
  options: clientOptionSpec,
  async run(values) {
    const list = await withClient(values, (client) => client.schedules())
    if (values.json) printJson(list)
    else process.stdout.write(list.length === 0 ? 'no schedules\n' : `${list.map((s) => `${s.id.padEnd(20)} ${describe(s)}`).join('\n')}\n`)
  },
}

function describe(s: ScheduleView): string {
  const timing = s.every !== null ? `every ${s.every} ms` : `cron "${s.cron}"${s.timezone ? ` (${s.timezone})` : ''}`
  const next = s.nextAt === null ? 'ended' : `next ${new Date(s.nextAt).toISOString()}`
  return `${s.job} ${timing}, ${next}, ${s.count}${s.limit === null ? '' : ` of ${s.limit}`} job(s) made`
}

function time(value: string | boolean | string[] | undefined, flag: string): number | undefined {
  if (typeof value !== 'string') return undefined
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value)
  if (!Number.isFinite(ms)) throw new PeerqueueError('E_USAGE', `--${flag} must be an ISO 8601 time or milliseconds since 1970, got "${value}"`)
  return ms
}
