#!/usr/bin/env node
// create-queue: npm create queue my-queue
import { relative } from 'node:path'
import { isAtLeast } from '@peerqueue/runtime/node-version'
import { USAGE, UsageError, parseFlags } from './args.js'
import { complete } from './prompts.js'
import { scaffold } from './scaffold.js'

/** The scaffolder itself runs on older Node.js than peerqueue (the project it writes brings Node 24). */
const SCAFFOLDER_MINIMUM_NODE = '18.3.0'

async function main(argv: string[]): Promise<number> {
  if (!isAtLeast(process.versions.node, SCAFFOLDER_MINIMUM_NODE)) {
    process.stderr.write(`create-queue: needs Node.js ${SCAFFOLDER_MINIMUM_NODE} or newer; this is Node.js ${process.versions.node}. Install Node.js 24 LTS from nodejs.org (or \`nvm install 24\`) and run it again.\n`)
    return 1
  }
  try {
    const flags = parseFlags(argv)
    if (flags.help) {
      process.stdout.write(`${USAGE}\n`)
      return 0
    }
    const interactive = !flags.yes && process.stdin.isTTY === true && process.stdout.isTTY === true
    const answers = await complete(flags, interactive)
    const made = await scaffold(answers)
    process.stdout.write(doneText(made.root, made.trustedPeerIds.length, made.bundlesNode))
    return 0
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`create-queue: ${err.message}\n\n${USAGE}\n`)
      return 2
    }
    process.stderr.write(`create-queue: ${err instanceof Error ? err.message : String(err)}\n`)
    return 1
  }
}

function doneText(root: string, trusted: number, bundlesNode: boolean): string {
  const agent = process.env.npm_config_user_agent ?? ''
  const pm = agent.startsWith('pnpm') ? 'pnpm' : agent.startsWith('yarn') ? 'yarn' : 'npm'
  const run = pm === 'npm' ? 'npm run' : pm
  const dir = relative(process.cwd(), root) || '.'
  return [
    '',
    `Created ${dir} with ${trusted} trusted peer key(s) and a client key in keys/.`,
    bundlesNode ? 'Your Node is older than 22.12, so the project brings Node 24 for its npm scripts.' : '',
    '',
    'Done. Now run:',
    '',
    `  cd ${dir}`,
    `  ${pm} install`,
    `  ${run} dev          # the queue, in one process`,
    `  ${run} client       # in another terminal: submit jobs, print results`,
    '',
  ]
    .filter((line, i, all) => line !== '' || all[i - 1] !== '')
    .join('\n')
}

process.exitCode = await main(process.argv.slice(2))
