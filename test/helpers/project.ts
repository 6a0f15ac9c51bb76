// A throwaway queue project for end-to-end tests: keys, a registry on a free 127.0.0.1 port,
// and peers started as real child processes of the built CLI.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKeyFile } from '@peerqueue/runtime'
import { freePort } from './free-port.js'

export const REPO = join(import.meta.dirname, '..', '..')
export const CLI = join(REPO, 'runtime', 'dist', 'queue-runtime.mjs')
export const FIXTURE_JOBS = join(REPO, 'test', 'fixtures', 'jobs')

export interface Project {
  readonly dir: string
  readonly registry: string
  readonly peerKey: string
  readonly clientKey: string
  readonly peerId: string
  readonly clientId: string
  readonly port: number
}

export { freePort }

/** `edit` may rewrite the registry text before it is written (tighter limits, listed workers). */
export async function makeProject(edit: (registry: string) => string = (r) => r): Promise<Project> {
  const dir = await mkdtemp(join(tmpdir(), 'pq-e2e-'))
  const peerKey = join(dir, 'peer.key')
  const clientKey = join(dir, 'client.key')
  const peer = await createKeyFile(peerKey)
  const client = await createKeyFile(clientKey)
  const port = await freePort()
  const registry = join(dir, 'registry.yaml')
  await writeFile(
    registry,
    edit(`version: 1
queues:
  - name: e2e
    rendezvous: e2e-test
    trustedPeers:
      - id: ${peer.peerId}
        addrs: [/ip4/127.0.0.1/tcp/${port}]
    submitters: [${client.peerId}]
    limits: { maxPayloadBytes: 4096, maxResultBytes: 4096, maxQueuedJobs: 10000 }
`),
  )
  return { dir, registry, peerKey, clientKey, peerId: peer.peerId, clientId: client.peerId, port }
}

export interface RunningPeer {
  readonly child: ChildProcess
  output(): string
  /** Resolves with the exit code once the process has ended. */
  readonly exited: Promise<number | null>
}

export async function startPeer(project: Project, extra: string[] = []): Promise<RunningPeer> {
  return spawnPeer({ registry: project.registry, key: project.peerKey, data: join(project.dir, 'data'), cwd: project.dir, args: ['--jobs', FIXTURE_JOBS, '--concurrency', '4', ...extra] })
}

export interface SpawnOptions {
  readonly registry: string
  readonly key: string
  readonly data: string
  readonly cwd: string
  readonly args: readonly string[]
}

/** Starts `queue-runtime start` as a child process and resolves once it says it is ready. */
export async function spawnPeer(options: SpawnOptions): Promise<RunningPeer> {
  const args = ['start', '--registry', options.registry, '--key', options.key, '--data', options.data, ...options.args]
  const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`peer not ready within 20 s:\n${output}`)), 20_000)
    child.stdout!.on('data', () => {
      if (output.includes('peerqueue: ready')) {
        clearTimeout(timer)
        resolve()
      }
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`peer exited with ${code} before it was ready:\n${output}`))
    })
  })
  await ready
  return { child, output: () => output, exited }
}

export async function stopPeer(peer: RunningPeer, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (peer.child.exitCode === null && peer.child.signalCode === null) peer.child.kill(signal)
  return peer.exited
}

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export function runCli(args: string[], cwd = REPO): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.once('exit', (code) => resolve({ code, stdout, stderr }))
  })
}
