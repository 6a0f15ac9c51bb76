// npm run bench:hops [-- --json]: one job's path through 3 trusted peers and a worker, leg by
// leg, each leg measured on its own at light load (one operation at a time, 20 a second), so
// the difference between the end-to-end time and the sum of its parts is visible.
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startCluster } from './peerqueue-side.js'
import { percentile, round, sleep } from './lib/stats.js'

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false }, samples: { type: 'string', default: '200' } } })
const samples = Number(values.samples)

/** p50 and p99 in ms of `samples` runs of `op`, one at a time, 50 ms apart. */
async function timed(op: () => Promise<unknown>): Promise<{ p50Ms: number; p99Ms: number }> {
  const times: number[] = []
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now()
    await op()
    times.push(performance.now() - t0)
    await sleep(50)
  }
  times.sort((a, b) => a - b)
  return { p50Ms: round(percentile(times, 0.5), 2), p99Ms: round(percentile(times, 0.99), 2) }
}

const setup = await startCluster(50)
const { client } = setup
const noop = { name: 'noop', payload: '{"json":{}}' }
await sleep(1_000)
for (let i = 0; i < 50; i++) await client.run(noop)

// 1. A request to the leader and its answer, with no log write: client → leader → client.
const request = await timed(() => client.get(['no-such-job']))
// 2. The same plus one replicated commit: the enqueue is on disk at two of three peers.
const enqueue = await timed(() => client.enqueue([noop]))
// 3. Enqueue, lease to the waiting worker (same commit), run, outcome and its commit, result.
const run = await timed(() => client.run(noop))
// 4. The handler itself in a warm thread, measured in this process with the runtime's pool.
const { HandlerPool } = (await import(join(import.meta.dirname, '..', '..', 'runtime', 'dist', 'worker', 'pool.js'))) as typeof import('../runtime/src/worker/pool.js')
const { bundleHandlers } = (await import(join(import.meta.dirname, '..', '..', 'runtime', 'dist', 'worker', 'bundler.js'))) as typeof import('../runtime/src/worker/bundler.js')
const [bundled] = await bundleHandlers(join(import.meta.dirname, '..', '..', 'bench', 'jobs'), join(setup.queue.dir, 'hops-bundles'))
const pool = new HandlerPool(1, () => undefined)
let n = 0
const thread = await timed(() => pool.run({ bundle: bundled!.bundle, jobId: `hop-${n++}`, attempt: 1, payload: '{"json":{}}', timeoutMs: 30_000 }))
await pool.close()
await setup.close()

// A run crosses two request hops' worth of network (client → leader → worker → leader → client)
// and two commits (the enqueue with its lease, the outcome): twice the enqueue leg, plus the
// handler's thread. What is left over is the cost of the handoffs between them.
const legs = {
  request,
  enqueueWithCommit: enqueue,
  commit: { p50Ms: round(enqueue.p50Ms - request.p50Ms, 2) },
  handlerThread: thread,
  run,
  handoffs: { p50Ms: round(run.p50Ms - 2 * enqueue.p50Ms - thread.p50Ms, 2) },
}
if (values.json) console.log(JSON.stringify({ samples, legs }))
else {
  console.log(`one job's path, p50 of ${samples} at 20 a second (3 trusted peers + 1 worker on 127.0.0.1):`)
  console.log(`  request to the leader and back (a job lookup)    ${legs.request.p50Ms} ms (p99 ${legs.request.p99Ms})`)
  console.log(`  enqueue acknowledged (request + 1 commit)         ${legs.enqueueWithCommit.p50Ms} ms (p99 ${legs.enqueueWithCommit.p99Ms})`)
  console.log(`    so one replicated commit                        ${legs.commit.p50Ms} ms`)
  console.log(`  the no-op handler in a warm thread                ${legs.handlerThread.p50Ms} ms (p99 ${legs.handlerThread.p99Ms})`)
  console.log(`  run: enqueue to result                            ${legs.run.p50Ms} ms (p99 ${legs.run.p99Ms})`)
  console.log(`    left over: 2 x enqueue and the thread subtracted   ${legs.handoffs.p50Ms} ms`)
}
process.exit(0)
