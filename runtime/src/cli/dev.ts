import type { CliCommand } from './command.js'
import { peerOptionHelp, peerOptionSpec, peerOptions, runUntilSignal } from './peer-options.js'

export const dev: CliCommand = {
  name: 'dev',
  summary: 'run a one-process queue for development, rebuilding when jobs/ changes',
  usage: `Usage: queue-runtime dev [options]

Runs the whole queue in one process: a one-member trusted group and a pool of
handler threads. Handlers are bundled again whenever a file in jobs/ changes.

Options:
  --key <file>         key to run as (default: keys/peer-1.key)
${peerOptionHelp}`,
  options: peerOptionSpec,
  async run(values) {
    return runUntilSignal(peerOptions(values, { key: 'keys/peer-1.key', data: '.peerqueue/dev', dev: true }))
  },
}
