import { JOB_STATES, type JobState } from '../queue/job.js'
import { PeerqueueError } from '../errors.js'
import type { JobEvent } from '../service/event-log.js'
import { int, type CliCommand } from './command.js'
import { clientOptionHelp, clientOptionSpec, withClient } from './client-options.js'

export const events: CliCommand = {
  name: 'events',
  summary: 'follow job state changes as they happen',
  usage: `Usage: queue-runtime events [options]

Prints every job state change from now on (or from --from), following the queue across leader
changes without missing or repeating one, until Ctrl-C. With --json, one JSON object a line.

Options:
  --job <name>         only jobs of this name (repeatable)
  --state <state>      only changes into this state (repeatable): ${JOB_STATES.join(', ')}
  --from <position>    start at this position (an event's position + 1) instead of now
  --count <n>          stop after n events
${clientOptionHelp}`,
  options: {
    ...clientOptionSpec,
    job: { type: 'string', multiple: true },
    state: { type: 'string', multiple: true },
    from: { type: 'string' },
    count: { type: 'string' },
  },
  async run(values) {
    const jobs = Array.isArray(values.job) ? values.job : undefined
    const states = Array.isArray(values.state) ? values.state : undefined
    for (const state of states ?? []) {
      if (!(JOB_STATES as readonly string[]).includes(state)) throw new PeerqueueError('E_USAGE', `--state must be one of ${JOB_STATES.join(', ')}, got "${state}"`)
    }
    const count = int(values.count, 'count')
    let after = int(values.from, 'from')
    let printed = 0
    let stop = false
    process.once('SIGINT', () => (stop = true))
    await withClient(values, async (client) => {
      while (!stop && (count === undefined || printed < count)) {
        const answer = await client.events({ after, jobs, states: states as JobState[] | undefined, waitMs: 1_000 })
        after = answer.next
        for (const event of answer.events) {
          if (count !== undefined && printed >= count) break
          process.stdout.write(values.json ? `${JSON.stringify(event)}\n` : `${line(event)}\n`)
          printed++
        }
      }
    })
  },
}

function line(e: JobEvent): string {
  return `${new Date(e.at).toISOString()}  ${e.jobId}  ${e.name}  ${e.state}  attempt ${e.attempt}${e.error ? `  ${e.error}` : ''}  (position ${e.position})`
}
