// queue-runtime deploy | versions | promote <n> | rollback
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { buildDeploy } from '../deploy/build-deploy.js'
import type { VersionView } from '../deploy/deploy-service.js'
import { PeerqueueError } from '../errors.js'
import { readKeyFile } from '../net/identity.js'
import { loadRegistry, selectQueue } from '../registry/load.js'
import { printJson, str, type CliCommand } from './command.js'
import { clientOptionHelp, clientOptionSpec, withClient } from './client-options.js'

const keyHelp = `The key (--key, default keys/client.key beside the registry) must be one of the
queue's deployers in the registry (deployers: trusted, the default, or a list of ids).`

export const deploy: CliCommand = {
  name: 'deploy',
  summary: 'bundle jobs/ and make it the queue\'s new version, which workers fetch and run',
  usage: `Usage: queue-runtime deploy [--jobs <dir>] [--dry-run] [options]

Bundles every handler in jobs/ with esbuild, describes each, signs a manifest naming each
bundle by its SHA-256, and submits it: the trusted peers check the signature and the bundles,
store them, and make this the current version. Jobs enqueued from now on run on it; jobs
already queued keep the version they were enqueued on. Worker peers started without jobs/
fetch the bundles by hash, check them, and run them.

${keyHelp}

Options:
  --jobs <dir>         the handlers (default: ./jobs)
  --dry-run            build and sign, print the manifest, send nothing
${clientOptionHelp}`,
  options: { ...clientOptionSpec, jobs: { type: 'string' }, 'dry-run': { type: 'boolean' } },
  async run(values) {
    const jobsDir = str(values.jobs) ?? 'jobs'
    if (!existsSync(jobsDir)) throw new PeerqueueError('E_USAGE', `no handler directory ${jobsDir} (give it with --jobs <dir>)`)
    const registrySource = str(values.registry) ?? 'registry.yaml'
    const queue = selectQueue(await loadRegistry(registrySource, { ipfsGateway: str(values['ipfs-gateway']) }), str(values.queue), registrySource)
    const keyFile = str(values.key) ?? join(dirname(registrySource), 'keys', 'client.key')
    const identity = await readKeyFile(keyFile)
    const built = await buildDeploy(jobsDir, queue, identity)
    const { bundles, handlers, ...signed } = built
    if (values['dry-run']) {
      if (values.json) printJson({ manifest: JSON.parse(signed.manifest), deployer: signed.deployer })
      else process.stdout.write(`would deploy, signed by ${signed.deployer}:\n${handlers.map((h) => `  ${h.name.padEnd(20)} ${h.bundle.slice(0, 16)}…  ${kb(h.bytes)}  ${h.source}`).join('\n')}\n`)
      return 0
    }
    const answer = await withClient({ ...values, key: keyFile }, (client) => client.deploy({ ...signed, bundles }))
    if (values.json) printJson({ ...answer, handlers: handlers.map((h) => ({ name: h.name, bundle: h.bundle, bytes: h.bytes })) })
    else {
      process.stdout.write(`deployed version ${answer.version} (current: ${answer.current}):\n${handlers.map((h) => `  ${h.name.padEnd(20)} ${h.bundle.slice(0, 16)}…  ${kb(h.bytes)}`).join('\n')}\n`)
      if (answer.collected.length > 0) process.stdout.write(`collected version(s) no job needs any more: ${answer.collected.join(', ')}\n`)
    }
    return 0
  },
}

export const versions: CliCommand = {
  name: 'versions',
  summary: 'list the deployed versions and which one is current',
  usage: `Usage: queue-runtime versions [options]

Lists the deployed versions the queue keeps: the current one, the last few made current (for
rollback), and any that unfinished jobs are still pinned to.

Options:
${clientOptionHelp}`,
  options: clientOptionSpec,
  async run(values) {
    const answer = await withClient(values, (client) => client.versions())
    if (values.json) {
      printJson({ current: answer.current, versions: answer.versions.map(({ manifest: _m, signature: _s, ...v }) => v) })
      return 0
    }
    if (answer.versions.length === 0) {
      process.stdout.write('nothing deployed yet (queue-runtime deploy)\n')
      return 0
    }
    for (const v of [...answer.versions].reverse()) process.stdout.write(`${formatVersion(v)}\n`)
    return 0
  },
}

function formatVersion(v: VersionView): string {
  const handlers = Object.entries(v.handlers).map(([name, hash]) => `${name} ${hash.slice(0, 12)}…`).join(', ')
  return `${v.current ? '*' : ' '} v${v.version}  ${new Date(v.deployedAt).toISOString()}  by ${v.deployer.slice(0, 16)}…  ${v.pinned} unfinished job(s)  ${handlers}`
}

function versionChange(action: 'promote' | 'rollback'): CliCommand {
  return {
    name: action,
    summary: action === 'promote' ? 'make a deployed version the current one' : 'go back to the version that was current before',
    usage: `Usage: queue-runtime ${action === 'promote' ? 'promote <version>' : 'rollback'} [options]

${action === 'promote' ? 'Makes the given version current: jobs enqueued from now on run on it.' : 'Makes the version that was current before this one current again: jobs enqueued from now on\nrun on it (jobs already queued keep their version).'}

${keyHelp}

Options:
${clientOptionHelp}`,
    options: clientOptionSpec,
    async run(values, positionals) {
      let answer
      if (action === 'promote') {
        const version = Number((positionals[0] ?? '').replace(/^v/, ''))
        if (positionals.length !== 1 || !Number.isInteger(version) || version < 1) throw new PeerqueueError('E_USAGE', `expected one version number\n\n${this.usage}`)
        answer = await withClient(values, (client) => client.promote(version))
      } else {
        if (positionals.length > 0) throw new PeerqueueError('E_USAGE', `rollback takes no arguments\n\n${this.usage}`)
        answer = await withClient(values, (client) => client.rollback())
      }
      if (values.json) printJson(answer)
      else process.stdout.write(`current version: ${answer.current}${answer.collected.length > 0 ? ` (collected: ${answer.collected.join(', ')})` : ''}\n`)
      return 0
    },
  }
}

export const promote = versionChange('promote')
export const rollback = versionChange('rollback')

function kb(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`
}
