// npm run demo: scaffolds a queue project with create-queue, starts three trusted peers (a Raft
// group over libp2p on 127.0.0.1) and one worker peer as child processes, submits jobs through
// the typed client and prints their results, then kills the leader with SIGKILL in the middle of
// a batch and shows that another peer takes over and every job still finishes. Last, it deploys
// the handlers and runs jobs on a worker started in a folder with only the registry and a key.
import { spawn } from 'node:child_process'
import { copyFile, rm, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { createServer } from 'node:net'
import { connect } from '@peerqueue/sdk/client'

const repo = join(import.meta.dirname, '..')
const work = join(repo, '.data', 'demo')
const project = join(work, 'my-queue')
const cli = join(repo, 'runtime', 'dist', 'queue-runtime.mjs')
const say = (line) => console.log(`demo: ${line}`)
const peers = new Map()
const peerIds = new Map()

await rm(work, { recursive: true, force: true })
await mkdir(work, { recursive: true })
const port = await freeRange(3)
say(`scaffolding ${project} with create-queue (3 trusted peers)`)
await run(process.execPath, [join(repo, 'create-queue', 'dist', 'main.js'), 'my-queue', '--yes', '--trusted', '3', '--base-port', String(port), '--link', repo], work)
await run(process.execPath, [cli, 'keygen', '--out', 'keys/worker-1.key'], project)

try {
  await Promise.all(['peer-1', 'peer-2', 'peer-3'].map((name) => startPeer(name)))
  await startPeer('worker-1')
  const queue = await connect({ registry: join(project, 'registry.yaml') })
  try {
    const names = ['Ada', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Frances', 'John', 'Leslie', 'Margaret', 'Tony']
    let started = performance.now()
    const jobs = await queue.enqueueMany(names.map((name) => ({ job: 'hello', payload: { name } })))
    say(`enqueued ${jobs.length} jobs (each on disk at a majority of the trusted peers before enqueue returned)`)
    for (const job of jobs) {
      const result = await job.result({ timeoutMs: 30_000 })
      say(`  ${job.id.slice(0, 8)}  ${result.greeting}`)
    }
    say(`all ${jobs.length} results in ${(performance.now() - started).toFixed(0)} ms`)
    await queue.enqueue('hello', { name: '' }).catch((err) => say(`a bad payload is refused: ${err.code}: ${err.message}`))
    await printStatus()

    const leader = await leaderName()
    say(`enqueueing 200 more jobs and killing the leader (${leader}) with SIGKILL halfway`)
    started = performance.now()
    const more = []
    for (let batch = 0; batch < 8; batch++) {
      if (batch === 4) {
        peers.get(leader).kill('SIGKILL')
        say(`  killed ${leader}`)
      }
      more.push(...(await queue.enqueueMany(Array.from({ length: 25 }, (_, i) => ({ job: 'hello', payload: { name: `n${batch * 25 + i}` } })))))
    }
    const results = await Promise.all(more.map((job) => job.result({ timeoutMs: 60_000 })))
    say(`all ${results.length} finished in ${(performance.now() - started).toFixed(0)} ms; new leader: ${await leaderName()}`)
    await startPeer(leader)
    say(`restarted ${leader}; it catches up from the others`)
    await new Promise((r) => setTimeout(r, 1000))
    await printStatus()

    // Code that travels: deploy the handlers, then a worker with nothing but a registry and a key runs them.
    const { stdout: deployed } = await run(process.execPath, [cli, 'deploy'], project)
    for (const line of deployed.trim().split('\n')) say(`deploy> ${line}`)
    const far = join(work, 'far-away-worker')
    await mkdir(far, { recursive: true })
    await copyFile(join(project, 'registry.yaml'), join(far, 'registry.yaml'))
    await run(process.execPath, [cli, 'keygen', '--out', 'worker.key'], far)
    peers.get('worker-1').kill('SIGTERM')
    peers.delete('worker-1')
    say(`stopped worker-1 (it has jobs/); starting a worker in ${far}, which holds only registry.yaml and worker.key`)
    await startPeer('far-away', far, ['--registry', 'registry.yaml', '--key', 'worker.key'])
    // The trusted peers run handlers too (they have jobs/): the far-away worker gets its share.
    const farJobs = await queue.enqueueMany(Array.from({ length: 60 }, (_, i) => ({ job: 'hello', payload: { name: `far-${i}` } })))
    const ranFar = []
    for (const job of farJobs) {
      const result = await job.result({ timeoutMs: 30_000 })
      const status = await job.status()
      if (status.worker?.startsWith(peerIds.get('far-away'))) ranFar.push(result.greeting)
    }
    say(`the far-away worker, which never saw jobs/, ran ${ranFar.length} of ${farJobs.length} jobs with the deployed code: ${ranFar.slice(0, 3).join(' ')}…`)
    await printStatus()
  } finally {
    await queue.close()
  }
} finally {
  for (const child of peers.values()) child.kill('SIGTERM')
  await Promise.all([...peers.values()].map((child) => (child.exitCode === null && child.signalCode === null ? new Promise((r) => child.once('exit', r)) : undefined)))
}
say('done')
process.exit(0)

async function startPeer(name, cwd = project, args = ['--key', `keys/${name}.key`]) {
  const child = spawn(process.execPath, [cli, 'start', ...args], { cwd, stdio: ['ignore', 'pipe', 'inherit'] })
  peers.set(name, child)
  let output = ''
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${output}`)), 30_000)
    child.stdout.on('data', (chunk) => {
      output += chunk
      if (output.includes('peerqueue: ready')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${output}`)))
  })
  peerIds.set(name, /peerqueue: peer (\S+),/.exec(output)?.[1])
  say(`${name}> ${output.split('\n')[0]}`)
  for (const line of output.split('\n').filter((l) => l.includes('deployed code'))) say(`${name}> ${line}`)
}

async function leaderName() {
  const { stdout } = await run(process.execPath, [cli, 'status', '--json'], project)
  const leader = JSON.parse(stdout).leader
  for (const [name, id] of peerIds) if (id === leader) return name
  return leader
}

async function printStatus() {
  const { stdout } = await run(process.execPath, [cli, 'status'], project)
  for (const line of stdout.trim().split('\n')) say(`status> ${line}`)
}

function run(command, args, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] })
    let stdout = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.once('exit', (code) => (code === 0 ? resolve({ stdout }) : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`))))
  })
}

/** `count` consecutive free ports on 127.0.0.1, for the trusted peers' addresses. */
async function freeRange(count) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000)
    const ok = await Promise.all(Array.from({ length: count }, (_, i) => isFree(base + i)))
    if (ok.every(Boolean)) return base
  }
  throw new Error('no free ports found')
}

function isFree(port) {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}
