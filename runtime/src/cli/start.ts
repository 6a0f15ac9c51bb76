import { PeerqueueError } from '../errors.js'
import type { CliCommand } from './command.js'
import { peerOptionHelp, peerOptionSpec, peerOptions, runUntilSignal } from './peer-options.js'

export const start: CliCommand = {
  name: 'start',
  summary: 'run this machine as a peer of a queue',
  usage: `Usage: queue-runtime start --key <file> [options]

Runs a trusted peer: keeps the queue's durable log, serves clients, and runs the
handlers in --jobs in a thread pool. Stop it with Ctrl-C (SIGINT) or SIGTERM.

Options:
  --key <file>         this peer's key file (create one with: queue-runtime keygen)
${peerOptionHelp}`,
  options: peerOptionSpec,
  async run(values) {
    if (typeof values.key !== 'string') throw new PeerqueueError('E_USAGE', `--key is required\n\n${this.usage}`)
    return runUntilSignal(peerOptions(values, { data: '.peerqueue/data', dev: false }))
  },
}
