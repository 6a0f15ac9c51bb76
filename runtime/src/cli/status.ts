import type { PeerStatus } from '../peer.js'
import { printJson, type CliCommand } from './command.js'
import { clientOptionHelp, clientOptionSpec, withClient } from './client-options.js'

export const status: CliCommand = {
  name: 'status',
  summary: 'show the queue: leader, members, jobs by state, workers',
  usage: `Usage: queue-runtime status [options]

Asks a trusted peer of the queue for its view of the group and the jobs.

Options:
${clientOptionHelp}`,
  options: clientOptionSpec,
  async run(values) {
    const report = await withClient(values, (client) => client.status())
    if (values.json) printJson(report)
    else process.stdout.write(formatStatus(report))
  },
}

function formatStatus(s: PeerStatus): string {
  const jobs = Object.entries(s.jobs).map(([state, n]) => `${state} ${n}`).join(', ')
  const health = (m: PeerStatus['members'][number]) => (m.healthy === null ? 'health unknown' : m.healthy ? 'healthy' : 'unreachable')
  const lines = [
    `queue       ${s.queue}`,
    `leader      ${s.leader ?? '(none: election under way or no majority)'} (term ${s.term}, commit index ${s.commitIndex})`,
    ...s.members.map((m) => `member      ${m.id}${m.id === s.leader ? ' leader' : ''}${m.self ? ' (answering)' : ''}: ${health(m)}, lag ${m.lag ?? '?'}`),
    `jobs        ${jobs}`,
    ...s.workers.map((w) => `worker      ${w.id} running ${w.running}/${w.capacity}`),
    `handlers    ${s.handlers.join(', ') || '(none)'}`,
  ]
  return lines.join('\n') + '\n'
}
