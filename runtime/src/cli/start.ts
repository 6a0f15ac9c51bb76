import { PeerqueueError } from '../errors.js'
import { str, type CliCommand } from './command.js'
import { restartUnderPermissionModel, underPermissionModel } from './permission.js'
import { peerOptionHelp, peerOptionSpec, peerOptions, runUntilSignal } from './peer-options.js'

export const start: CliCommand = {
  name: 'start',
  summary: 'run this machine as a peer of a queue',
  usage: `Usage: queue-runtime start --key <file> [options]

Runs this machine as a peer of the queue. If the key's peer id is listed under
trustedPeers, the peer keeps the queue's durable log (alone, or in a Raft group with
the other trusted peers) and serves clients; any other key makes a worker peer that
takes leases from the leader. Either runs the handlers in --jobs in a thread pool.
Stop it with Ctrl-C (SIGINT) or SIGTERM: running jobs are handed back at once.

Options:
  --key <file>         this peer's key file (create one with: queue-runtime keygen)
${peerOptionHelp}
  --permission         run under Node's permission model: handler code cannot start processes
                       or write outside --data (deployed code only; see SECURITY.md)`,
  options: { ...peerOptionSpec, permission: { type: 'boolean' } },
  async run(values) {
    if (typeof values.key !== 'string') throw new PeerqueueError('E_USAGE', `--key is required\n\n${this.usage}`)
    const options = peerOptions(values, { data: '.peerqueue/data', dev: false })
    if (values.permission === true && !underPermissionModel()) return restartUnderPermissionModel(options.dataDir, str(values.jobs) ?? options.jobsDir)
    return runUntilSignal(options)
  },
}
