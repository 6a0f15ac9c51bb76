import { PeerqueueError } from '../errors.js'
import type { CliCommand } from './command.js'
import { clientOptionHelp, clientOptionSpec, withClient } from './client-options.js'
import { printOutcome } from './enqueue.js'

export const job: CliCommand = {
  name: 'job',
  summary: 'show one job: state, attempts, result or error',
  usage: `Usage: queue-runtime job <id> [options]

Options:
${clientOptionHelp}`,
  options: clientOptionSpec,
  async run(values, positionals) {
    const [id] = positionals
    if (!id) throw new PeerqueueError('E_USAGE', `expected a job id\n\n${this.usage}`)
    const [view] = await withClient(values, (client) => client.get([id]))
    if (!view) throw new PeerqueueError('E_JOB_NOT_FOUND', `no job ${id}`)
    printOutcome(view, values.json === true)
  },
}
