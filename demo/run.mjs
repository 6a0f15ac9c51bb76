// npm run demo: scaffolds a queue project with create-queue, starts a real trusted peer as a
// child process (libp2p on 127.0.0.1, a durable log, a Piscina pool), submits jobs through the
// typed client, prints their results and the queue's status, then restarts the peer to show
// that finished jobs are still on disk.
import { spawn } from 'node:child_process'
import { rm, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { createServer } from 'node:net'
import { connect } from '@peerqueue/sdk/client'

const repo = join(import.meta.dirname, '..')
const work = join(repo, '.data', 'demo')
const project = join(work, 'my-queue')
const cli = join(repo, 'runtime', 'dist', 'cli', 'main.js')
const say = (line) => console.log(`demo: ${line}`)

await rm(work, { recursive: true, force: true })
await mkdir(work, { recursive: true })
const port = await freePort()
say(`scaffolding ${project} with create-queue`)
await run(process.execPath, [join(repo, 'create-queue', 'dist', 'main.js'), 'my-queue', '--yes', '--base-port', String(port), '--link', repo], work)

let peer = await startPeer()
const queue = await connect({ registry: join(project, 'registry.yaml') })
try {
  const names = ['Ada', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Frances', 'John', 'Leslie', 'Margaret', 'Tony']
  const started = performance.now()
  const jobs = await queue.enqueueMany(names.map((name) => ({ job: 'hello', payload: { name } })))
  say(`enqueued ${jobs.length} jobs (each stored durably before enqueue returned)`)
  for (const job of jobs) {
    const result = await job.result({ timeoutMs: 30_000 })
    say(`  ${job.id.slice(0, 8)}  ${result.greeting}`)
  }
  say(`all ${jobs.length} results in ${(performance.now() - started).toFixed(0)} ms`)
  await queue.enqueue('hello', { name: '' }).catch((err) => say(`a bad payload is refused: ${err.code}: ${err.message}`))
} finally {
  await queue.close()
}
await printStatus()
say('restarting the peer: the log and snapshot on disk bring every job back')
peer.kill('SIGTERM')
await new Promise((resolve) => peer.once('exit', resolve))
peer = await startPeer()
await printStatus()
peer.kill('SIGTERM')
await new Promise((resolve) => peer.once('exit', resolve))
say('done')

async function startPeer() {
  const child = spawn(process.execPath, [cli, 'start', '--key', 'keys/peer-1.key'], { cwd: project, stdio: ['ignore', 'pipe', 'inherit'] })
  let output = ''
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the peer did not start:\n${output}`)), 30_000)
    child.stdout.on('data', (chunk) => {
      output += chunk
      if (output.includes('peerqueue: ready')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => reject(new Error(`the peer exited with ${code}:\n${output}`)))
  })
  for (const line of output.trim().split('\n')) say(`peer> ${line}`)
  return child
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

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}
