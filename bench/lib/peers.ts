// peerqueue processes for the benchmark: a throwaway registry with generous limits, and peers
// started as `queue-runtime start` child processes (or, for the embedded case, in this process).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKeyFile } from '@peerqueue/runtime'
import { freePort } from '../../test/helpers/free-port.js'

export const REPO = join(import.meta.dirname, '..', '..')
export const CLI = join(REPO, 'runtime', 'dist', 'queue-runtime.mjs')
export const BENCH_JOBS = join(REPO, 'bench', 'jobs')

export interface BenchQueue {
  readonly dir: string
  readonly registry: string
  readonly clientKey: string
  readonly trustedKeys: readonly string[]
  readonly trustedIds: readonly string[]
}

/** `settings`: YAML added to the queue's entry, indented four spaces (such as a shards section). */
export async function makeQueue(trusted: number, settings = ''): Promise<BenchQueue> {
  const dir = await mkdtemp(join(tmpdir(), 'pq-bench-'))
  const trustedKeys: string[] = []
  const trustedIds: string[] = []
  const lines: string[] = []
  for (let i = 1; i <= trusted; i++) {
    const key = join(dir, `trusted-${i}.key`)
    const { peerId } = await createKeyFile(key)
    trustedKeys.push(key)
    trustedIds.push(peerId)
    lines.push(`      - id: ${peerId}\n        addrs: [/ip4/127.0.0.1/tcp/${await freePort()}]`)
  }
  const clientKey = join(dir, 'client.key')
  const client = await createKeyFile(clientKey)
  const registry = join(dir, 'registry.yaml')
  await writeFile(
    registry,
    `version: 1
queues:
  - name: bench
    rendezvous: bench-${Date.now()}
    trustedPeers:
${lines.join('\n')}
    submitters: [${client.peerId}]
    workers: any
    limits: { maxQueuedJobs: 10000000, maxRequestsPerSecond: 1000000 }
${settings}`,
  )
  return { dir, registry, clientKey, trustedKeys, trustedIds }
}

export interface PeerProcess {
  readonly child: ChildProcess
  readonly pid: number
  /** Everything it printed so far. */
  output(): string
  stop(signal?: NodeJS.Signals): Promise<void>
}

export function startPeerProcess(queue: BenchQueue, key: string, name: string, args: readonly string[]): Promise<PeerProcess> {
  return startUntilReady(queue, name, [CLI, 'start', '--registry', queue.registry, '--key', key, '--data', join(queue.dir, 'data', name), ...args], 'peerqueue: ready')
}

/** Worker peers in one process (test/helpers/swarm.ts): the seed's many small workers. */
export const SWARM_SIZE = 20

export function startSwarmProcess(queue: BenchQueue, name: string, count: number): Promise<PeerProcess> {
  return startUntilReady(queue, name, [join(REPO, 'test', 'helpers', 'swarm.ts'), queue.registry, queue.dir, String(count), BENCH_JOBS], 'swarm ready')
}

async function startUntilReady(queue: BenchQueue, name: string, args: readonly string[], readyText: string): Promise<PeerProcess> {
  const child = spawn(process.execPath, args, {
    cwd: queue.dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    // PEERQUEUE_BENCH_CPU_PROF=<dir> profiles every peer process (--cpu-prof), to see where the time goes.
    env: process.env.PEERQUEUE_BENCH_CPU_PROF ? { ...process.env, NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.PEERQUEUE_BENCH_CPU_PROF}/${name}` } : process.env,
  })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready within 30 s:\n${output}`)), 30_000)
    child.stdout!.on('data', () => {
      if (!output.includes(readyText)) return
      clearTimeout(timer)
      resolve()
    })
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`${name} exited before it was ready:\n${output}`))
    })
  })
  return {
    child,
    pid: child.pid!,
    output: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      // Bounded, like every step of the benchmark: a peer that does not stop in 10 s is killed.
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}
