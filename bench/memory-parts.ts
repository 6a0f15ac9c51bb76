// npm run bench:memory [-- --json]: what each part of an idle worker peer costs in resident memory.
// Each stage runs in a fresh process that loads the parts of every stage before it plus its own,
// waits for the heap to settle, and reports VmRSS; the difference between stages is that part.
import { execFileSync, spawn } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { restartFor } from '../runtime/src/cli/young-generation.js'

// Not from ./lib/peers.js: that loads the runtime, and the first stage must be bare Node.
const REPO = join(import.meta.dirname, '..', '..')
const BENCH_JOBS = join(REPO, 'bench', 'jobs')

export const STAGES = ['node', 'libp2p', 'gossipsub', 'piscina', 'esbuild'] as const
/** Measured beside the stages, each as the gossipsub stage plus what a peer runs when it must find others. */
export const DISCOVERY_VARIANTS = ['discovery-worker', 'discovery-trusted'] as const
type Stage = (typeof STAGES)[number] | (typeof DISCOVERY_VARIANTS)[number]

const SETTLE_MS = 1_500

async function settledRss(): Promise<number> {
  await new Promise((r) => setTimeout(r, SETTLE_MS))
  ;(globalThis as { gc?: () => void }).gc?.()
  await new Promise((r) => setTimeout(r, 200))
  return Math.round(process.memoryUsage.rss() / 1024 / 102.4) / 10
}

/** Loads every part up to and including `stage` in this process, then prints its RSS. */
async function child(stage: Stage, bundle: string): Promise<void> {
  if (stage === 'discovery-worker' || stage === 'discovery-trusted') return discoveryChild(stage)
  const upTo = STAGES.indexOf(stage)
  const keep: unknown[] = []
  // The built runtime, as a peer process loads it (a bundled copy would count twice).
  const dist = (file: string) => import(join(REPO, 'runtime', 'dist', file))
  if (upTo === 1) keep.push(await libp2pWithoutGossipsub())
  if (upTo >= 2) {
    const { generateKeyPair } = await import('@libp2p/crypto/keys')
    const { createPeerNode } = (await dist('net/node.js')) as typeof import('../runtime/src/net/node.js')
    keep.push(await createPeerNode({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], pubsub: true }))
  }
  if (upTo >= 3) {
    const { HandlerPool } = (await dist('worker/pool.js')) as typeof import('../runtime/src/worker/pool.js')
    const pool = new HandlerPool(2, () => undefined)
    // A run, so that one handler thread is alive (describing a bundle leaves none).
    const outcome = await pool.run({ bundle, jobId: 'memory', attempt: 1, payload: '{"json":{}}', timeoutMs: 5_000 })
    if (!outcome.ok) throw new Error(`the noop handler failed: ${outcome.error.message}`)
    keep.push(pool)
  }
  let serviceRssMb: number | undefined
  if (upTo >= 4) {
    // One build, as a peer bundles its handlers; esbuild's service is a process of its own.
    const { build } = await import('esbuild')
    await build({ entryPoints: [join(BENCH_JOBS, 'noop.ts')], bundle: true, platform: 'node', format: 'esm', write: false, logLevel: 'silent' })
    serviceRssMb = childRssMb()
  }
  process.stdout.write(`${JSON.stringify({ stage, rssMb: await settledRss(), serviceRssMb })}\n`)
  process.exit(0)
}

/** A gossipsub node with the discovery modules a worker (DHT client) or a trusted peer (DHT server, relay) runs. */
async function discoveryChild(stage: 'discovery-worker' | 'discovery-trusted'): Promise<void> {
  const { generateKeyPair } = await import('@libp2p/crypto/keys')
  const { createPeerNode } = (await import(join(REPO, 'runtime', 'dist', 'net', 'node.js'))) as typeof import('../runtime/src/net/node.js')
  const trusted = stage === 'discovery-trusted'
  const node = await createPeerNode({
    privateKey: await generateKeyPair('Ed25519'),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    pubsub: true,
    discovery: { dht: trusted ? 'server' : 'client', bootstrap: [], mdns: false, relayServer: trusted, relayTransport: true, rendezvous: 'bench' },
  })
  process.stdout.write(`${JSON.stringify({ stage, rssMb: await settledRss(), keep: node.status })}\n`)
  process.exit(0)
}

/** The libp2p node of net/node.ts without its gossipsub service (or module), to tell the two apart. */
async function libp2pWithoutGossipsub(): Promise<unknown> {
  const [{ createLibp2p }, { tcp }, { webSockets }, { noise }, { yamux }, { identify }, { generateKeyPair }] = await Promise.all([
    import('libp2p'),
    import('@libp2p/tcp'),
    import('@libp2p/websockets'),
    import('@chainsafe/libp2p-noise'),
    import('@chainsafe/libp2p-yamux'),
    import('@libp2p/identify'),
    import('@libp2p/crypto/keys'),
  ])
  return createLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() },
  })
}

/** RSS of this process's children (esbuild's service), from ps. */
function childRssMb(): number {
  const out = execFileSync('ps', ['--ppid', String(process.pid), '-o', 'rss='], { encoding: 'utf8' })
  return Math.round(out.split('\n').reduce((sum, line) => sum + (Number(line.trim()) || 0), 0) / 102.4) / 10
}

/** The handler bundle the pool loads, made once by the parent so esbuild is loaded only where measured. */
async function bundleNoop(): Promise<string> {
  const { build } = await import('esbuild')
  const file = join(await mkdtemp(join(tmpdir(), 'pq-mem-')), 'noop.mjs')
  await build({ entryPoints: [join(BENCH_JOBS, 'noop.ts')], bundle: true, platform: 'node', format: 'esm', outfile: file, logLevel: 'silent' })
  return file
}

function measure(stage: Stage, bundle: string): Promise<{ rssMb: number; serviceRssMb?: number }> {
  return new Promise((resolve, reject) => {
    // With the young generation and malloc arenas a peer command runs with for that role (runtime/src/cli/young-generation.ts).
    const role = stage === 'discovery-trusted' ? 'raft' : 'worker'
    const sized = restartFor(role, process.execPath, ['--expose-gc'], [process.execPath, process.argv[1]!, '--stage', stage, '--bundle', bundle], process.env)
    if (!sized) throw new Error('run bench:memory without --max-semi-space-size in NODE_OPTIONS: each stage sets the size a peer would')
    const proc = spawn(process.execPath, sized.args.slice(1), { stdio: ['ignore', 'pipe', 'inherit'], env: sized.env })
    let out = ''
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()))
    const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000)
    proc.once('exit', () => {
      clearTimeout(timer)
      const line = out.trim().split('\n').at(-1) ?? ''
      try {
        resolve(JSON.parse(line) as { rssMb: number; serviceRssMb?: number })
      } catch {
        reject(new Error(`stage ${stage} printed no figure: ${out}`))
      }
    })
  })
}

const { values } = parseArgs({ options: { stage: { type: 'string' }, bundle: { type: 'string' }, json: { type: 'boolean', default: false } } })
if (values.stage) await child(values.stage as Stage, values.bundle ?? '')
else {
  const bundle = await bundleNoop()
  const rows: { stage: Stage; rssMb: number; addsMb: number; serviceRssMb?: number }[] = []
  for (const stage of STAGES) {
    const { rssMb, serviceRssMb } = await measure(stage, bundle)
    const previous = rows.at(-1)?.rssMb ?? 0
    rows.push({ stage, rssMb, addsMb: Math.round((rssMb - previous) * 10) / 10, serviceRssMb })
  }
  const gossipsub = rows.find((r) => r.stage === 'gossipsub')!.rssMb
  const variants: { stage: Stage; rssMb: number; overGossipsubMb: number }[] = []
  for (const stage of DISCOVERY_VARIANTS) {
    const { rssMb } = await measure(stage, bundle)
    variants.push({ stage, rssMb, overGossipsubMb: Math.round((rssMb - gossipsub) * 10) / 10 })
  }
  if (values.json) console.log(JSON.stringify({ stages: rows, discovery: variants }))
  else for (const r of variants) console.log(`${r.stage.padEnd(18)} ${String(r.rssMb).padStart(6)} MB  (${r.overGossipsubMb >= 0 ? '+' : ''}${r.overGossipsubMb} over the gossipsub stage)`)
  if (!values.json) for (const r of rows) console.log(`${r.stage.padEnd(10)} ${String(r.rssMb).padStart(6)} MB  (${r.addsMb >= 0 ? '+' : ''}${r.addsMb})${r.serviceRssMb === undefined ? '' : `, and esbuild's service process ${r.serviceRssMb} MB`}`)
}
