import { PeerqueueError } from '../errors.js'
import { printJson, type CliCommand } from './command.js'
import { clientOptionHelp, clientOptionSpec, withClient } from './client-options.js'

export const redrive: CliCommand = {
  name: 'redrive',
  summary: 'queue dead jobs again with fresh attempts',
  usage: `Usage: queue-runtime redrive (<id>... | --all) [options]

Options:
  --all                every dead job of the queue
${clientOptionHelp}`,
  options: { ...clientOptionSpec, all: { type: 'boolean' } },
  async run(values, positionals) {
    if (values.all === (positionals.length > 0)) throw new PeerqueueError('E_USAGE', `give job ids or --all\n\n${this.usage}`)
    const redriven = await withClient(values, (client) => client.redrive(values.all ? 'all' : positionals))
    if (values.json) printJson({ redriven })
    else process.stdout.write(`queued ${redriven.length} dead job(s) again\n`)
  },
}
