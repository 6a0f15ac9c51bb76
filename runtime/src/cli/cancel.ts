import { PeerqueueError } from '../errors.js'
import { printJson, type CliCommand } from './command.js'
import { clientOptionHelp, clientOptionSpec, withClient } from './client-options.js'

export const cancel: CliCommand = {
  name: 'cancel',
  summary: 'cancel jobs that have not finished',
  usage: `Usage: queue-runtime cancel <id>... [options]

A running job's ctx.signal aborts; its thread is terminated if it does not stop.

Options:
${clientOptionHelp}`,
  options: clientOptionSpec,
  async run(values, positionals) {
    if (positionals.length === 0) throw new PeerqueueError('E_USAGE', `expected job ids\n\n${this.usage}`)
    const cancelled = await withClient(values, (client) => client.cancel(positionals))
    if (values.json) printJson({ cancelled })
    else process.stdout.write(`cancelled ${cancelled.length} of ${positionals.length} job(s)\n`)
  },
}
