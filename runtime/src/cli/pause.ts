import { PeerqueueError } from '../errors.js'
import type { PauseState } from '../queue/pauses.js'
import { printJson, type CliCommand } from './command.js'
import { clientOptionHelp, clientOptionSpec, withClient } from './client-options.js'

function pauseCommand(action: 'pause' | 'resume'): CliCommand {
  return {
    name: action,
    summary: action === 'pause' ? 'stop handing out jobs of a name, or of the whole queue' : 'let paused jobs run again',
    usage: `Usage: queue-runtime ${action} [job name] [options]

${
  action === 'pause'
    ? `Stops leasing jobs of the given name, or of the whole queue without one. Paused jobs stay
queued (and can still be enqueued, cancelled and looked up); running ones finish.`
    : `Lets jobs of the given name run again, or the whole queue without one (a name that was
paused on its own stays paused until it is resumed by name).`
}

Options:
${clientOptionHelp}`,
    options: clientOptionSpec,
    async run(values, positionals) {
      if (positionals.length > 1) throw new PeerqueueError('E_USAGE', `expected at most one job name\n\n${this.usage}`)
      const name = positionals[0]
      const state = await withClient(values, (client) => client[action](name))
      if (values.json) printJson(state)
      else process.stdout.write(`${action === 'pause' ? 'paused' : 'resumed'} ${name === undefined ? 'the whole queue' : `"${name}"`}; ${describe(state)}\n`)
    },
  }
}

function describe(state: PauseState): string {
  if (!state.all && state.names.length === 0) return 'nothing is paused now'
  return `paused now: ${[...(state.all ? ['the whole queue'] : []), ...state.names].join(', ')}`
}

export const pause = pauseCommand('pause')
export const resume = pauseCommand('resume')
