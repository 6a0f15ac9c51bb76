// Writes the project: copies the template, names the package, generates keys and the registry.
import { cp, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { stringify } from 'yaml'
import { createKeyFile } from '@peerqueue/runtime/identity'
import { MINIMUM_NODE, isAtLeast } from '@peerqueue/runtime/node-version'
import { UsageError, type Answers } from './args.js'
import { templatesRoot } from './templates.js'

/** npm drops some files from packages, so templates store them under other names. */
const RENAMED: Record<string, string> = { _gitignore: '.gitignore' }
const NODE_PACKAGE_VERSION = '^24.21.0'

export interface Scaffolded {
  readonly root: string
  readonly trustedPeerIds: readonly string[]
  readonly clientPeerId: string
  /** True when the project brings its own Node 24 because the current one is too old. */
  readonly bundlesNode: boolean
}

export async function scaffold(answers: Answers, nodeVersion = process.versions.node): Promise<Scaffolded> {
  const root = resolve(answers.dir)
  await refuseNonEmpty(root)
  await mkdir(root, { recursive: true })
  await cp(join(templatesRoot(), answers.template), root, { recursive: true })
  for (const [from, to] of Object.entries(RENAMED)) await rename(join(root, from), join(root, to)).catch(() => undefined)
  const bundlesNode = !isAtLeast(nodeVersion, MINIMUM_NODE)
  await editPackageJson(root, answers, bundlesNode)
  await mkdir(join(root, 'keys'), { recursive: true, mode: 0o700 })
  const trustedPeerIds: string[] = []
  for (let i = 1; i <= answers.trusted; i++) trustedPeerIds.push((await createKeyFile(join(root, 'keys', `peer-${i}.key`))).peerId)
  const clientPeerId = (await createKeyFile(join(root, 'keys', 'client.key'))).peerId
  await writeFile(join(root, 'registry.yaml'), registryText(basename(root), trustedPeerIds, clientPeerId, answers.basePort))
  return { root, trustedPeerIds, clientPeerId, bundlesNode }
}

async function refuseNonEmpty(root: string): Promise<void> {
  const entries = await readdir(root).catch(() => [])
  if (entries.length > 0) throw new UsageError(`${root} is not empty; choose a new directory`)
}

async function editPackageJson(root: string, answers: Answers, bundlesNode: boolean): Promise<void> {
  const path = join(root, 'package.json')
  const pkg = JSON.parse(await readFile(path, 'utf8')) as {
    name: string
    dependencies: Record<string, string>
    devDependencies?: Record<string, string>
    allowScripts?: Record<string, boolean>
  }
  pkg.name = packageName(basename(root))
  if (answers.link !== undefined) {
    const repo = resolve(answers.link)
    pkg.dependencies['@peerqueue/sdk'] = `file:${join(repo, 'sdk')}`
    pkg.dependencies['@peerqueue/runtime'] = `file:${join(repo, 'runtime')}`
  }
  if (answers.tarballs !== undefined) {
    const dir = resolve(answers.tarballs)
    const files = await readdir(dir)
    for (const [name, prefix] of [['@peerqueue/sdk', 'peerqueue-sdk-'], ['@peerqueue/runtime', 'peerqueue-runtime-']] as const) {
      const tarball = files.filter((f) => f.startsWith(prefix) && f.endsWith('.tgz')).sort().at(-1)
      if (!tarball) throw new UsageError(`${dir} has no ${prefix}<version>.tgz (make it with: npm pack -w ${name})`)
      pkg.dependencies[name] = `file:${join(dir, tarball)}`
    }
    // The SDK's own dependency on the runtime must come from the same folder, not the registry.
    ;(pkg as { overrides?: Record<string, string> }).overrides = { '@peerqueue/runtime': pkg.dependencies['@peerqueue/runtime']! }
  }
  if (bundlesNode) {
    // peerqueue needs Node >= 22.12; this brings Node 24 for every npm script of the project.
    pkg.devDependencies = { ...pkg.devDependencies, node: NODE_PACKAGE_VERSION }
    pkg.allowScripts = { ...pkg.allowScripts, node: true }
  }
  await writeFile(path, JSON.stringify(pkg, null, 2) + '\n')
}

export function packageName(dir: string): string {
  const name = dir.trim().toLowerCase().replace(/\s+/g, '-').replace(/^[._]/, '').replace(/[^a-z0-9~.-]+/g, '-')
  return name || 'my-queue'
}

function registryText(project: string, trusted: readonly string[], client: string, basePort: number): string {
  const name = packageName(project).replace(/[^a-z0-9-]/g, '-').slice(0, 63) || 'my-queue'
  const registry = {
    version: 1,
    queues: [
      {
        name,
        description: `Jobs of ${project}`,
        rendezvous: `${name}-${client.slice(-6).toLowerCase()}`,
        trustedPeers: trusted.map((id, i) => ({ id, addrs: [`/ip4/127.0.0.1/tcp/${basePort + i}`] })),
        submitters: [client],
        workers: 'any',
        // The developer's client key deploys the handlers that worker machines fetch (npm run deploy).
        deployers: [client],
        limits: { maxPayloadBytes: 1_048_576, maxResultBytes: 1_048_576, maxQueuedJobs: 1_000_000 },
      },
    ],
  }
  return `# peerqueue registry (schema version 1): who keeps this queue and who may use it.\n${stringify(registry)}`
}
