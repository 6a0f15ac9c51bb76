#!/usr/bin/env node
// queue-runtime: one binary, one file per command.
import './check-node.js'
import { cancel } from './cancel.js'
import { parse, reportError, type CliCommand } from './command.js'
import { dev } from './dev.js'
import { enqueue } from './enqueue.js'
import { job } from './job.js'
import { keygen } from './keygen.js'
import { pause, resume } from './pause.js'
import { events } from './events.js'
import { deploy, promote, rollback, versions } from './deploy.js'
import { schedule, schedules, unschedule } from './schedule.js'
import { redrive } from './redrive.js'
import { registry } from './registry.js'
import { start } from './start.js'
import { status } from './status.js'
import { RUNTIME_VERSION } from '../version.js'

const commands: readonly CliCommand[] = [start, dev, keygen, enqueue, status, job, cancel, redrive, pause, resume, schedule, unschedule, schedules, events, deploy, versions, promote, rollback, registry]

const overview = `Usage: queue-runtime <command> [options]

peerqueue peer and operator tool.

Commands:
${commands.map((c) => `  ${c.name.padEnd(11)} ${c.summary}`).join('\n')}

Run queue-runtime <command> --help for a command's options, queue-runtime --version for the version.`

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${overview}\n`)
    return name ? 0 : 2
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${RUNTIME_VERSION}\n`)
    return 0
  }
  const command = commands.find((c) => c.name === name)
  if (!command) {
    process.stderr.write(`error E_USAGE: unknown command "${name}"\n\n${overview}\n`)
    return 2
  }
  try {
    const { values, positionals } = parse(command, rest)
    if (values.help) {
      process.stdout.write(`${command.usage}\n`)
      return 0
    }
    return (await command.run(values, positionals)) ?? 0
  } catch (err) {
    return reportError(err)
  }
}

// Exit explicitly: a stopped libp2p node can leave sockets closing in the background.
process.exit(await main(process.argv.slice(2)))
