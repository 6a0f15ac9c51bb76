// The census over real libp2p: 3 trusted peers and 30 worker peers (10 to a process) on
// 127.0.0.1. The leader polls a sample; the estimates must hold the true number of peers,
// also after a process of workers leaves and a new one joins.
import { spawn, type ChildProcess } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { connect, type Queue } from '@peerqueue/sdk/client'
import type { PeerStatus } from '@peerqueue/runtime/client'
import { estimatePopulation } from '../../runtime/src/census/estimator.js'
import { TestCluster } from '../helpers/cluster.js'
import { REPO } from '../helpers/project.js'

const SWARM = `${REPO}/test/helpers/swarm.ts`
const ONE_JOB = `${REPO}/test/fixtures/one-job`
const PER_SWARM = 10
const SETTLING_POLLS = 3

interface Swarm {
  readonly child: ChildProcess
  readonly ids: string[]
  output(): string
}

function startSwarm(cluster: TestCluster): Promise<Swarm> {
  const child = spawn(process.execPath, [SWARM, cluster.registry, cluster.dir, String(PER_SWARM), ONE_JOB], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`swarm not ready within 60 s:\n${output}`)), 60_000)
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const ready = /swarm ready (\[.*\])/.exec(output)
      if (!ready) return
      clearTimeout(timer)
      resolve({ child, ids: JSON.parse(ready[1]!) as string[], output: () => output })
    })
    child.once('exit', (code) => reject(new Error(`swarm exited with ${code}:\n${output}`)))
  })
}

function stopSwarm(swarm: Swarm): Promise<void> {
  if (swarm.child.exitCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    swarm.child.once('exit', () => resolve())
    swarm.child.kill('SIGTERM')
  })
}

type Census = NonNullable<PeerStatus['census']>

/** Asks the leader for status, finding it again if leadership moved (a follower has no census). */
class LeaderWatch {
  private queue: Queue | undefined

  constructor(private readonly cluster: TestCluster) {}

  async status(): Promise<PeerStatus> {
    for (;;) {
      this.queue ??= await connect({ registry: this.cluster.registry, key: this.cluster.clientKey })
      const status = await (this.queue as unknown as { client: { status(): Promise<PeerStatus> } }).client.status()
      if (status.role === 'leader') return status
      await this.close()
      await new Promise((r) => setTimeout(r, 200))
    }
  }

  async close(): Promise<void> {
    await this.queue?.close().catch(() => undefined)
    this.queue = undefined
  }
}

/**
 * Watches the leader's census until `polls` more polls have closed; returns each once. A poll is
 * known by its leader and round, since a new leader starts counting rounds again. A leader's
 * first polls go out while peers may still send answers to the old leader, so they are skipped
 * (on two busy cores, heartbeats can be late enough for the odd election).
 */
async function watchPolls(watch: LeaderWatch, polls: number): Promise<Census[]> {
  const key = (s: PeerStatus) => `${s.leader}/${s.census?.round}`
  const before = key(await watch.status())
  const seen = new Map<string, Census>()
  const deadline = Date.now() + 90_000
  while (seen.size < polls && Date.now() < deadline) {
    const status = await watch.status()
    if (status.census && status.census.round > SETTLING_POLLS && key(status) !== before) seen.set(key(status), status.census)
    await new Promise((r) => setTimeout(r, 250))
  }
  expect(seen.size).toBe(polls)
  return [...seen.values()]
}

/** Most single-poll 95% intervals hold the truth, and the pooled estimate is close to it. */
function expectHolds(polls: readonly Census[], truth: number): void {
  const held = polls.filter((c) => {
    const single = estimatePopulation([{ p: c.p, count: c.answers }])
    return single.low <= truth && truth <= single.high
  })
  // At 95% each, 9 or more of 12 polls hold the truth but for about 1 run in 300.
  expect(held.length, JSON.stringify(polls.map((c) => [c.round, c.p, c.answers]))).toBeGreaterThanOrEqual(Math.ceil(polls.length * 0.75))
  const last = polls.at(-1)!
  expect(Math.abs(last.population.estimate - truth) / truth).toBeLessThan(0.3)
}

describe('the census on a network of 33 peers', () => {
  let cluster: TestCluster | undefined
  const swarms: Swarm[] = []
  let watch: LeaderWatch | undefined
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail' && cluster) process.stderr.write(`${cluster.dump()}\n${swarms.map((s) => s.output().slice(-2000)).join('\n')}\n`)
    await watch?.close()
    await Promise.all(swarms.splice(0).map(stopSwarm))
    await cluster?.stopAll()
  })

  it('estimates the number of peers from a sample, while peers leave and join', async () => {
    cluster = await TestCluster.create(3, 0, '    census: { targetSample: 12, intervalMs: 1000 }\n')
    await cluster.startAll()
    swarms.push(...(await Promise.all([startSwarm(cluster), startSwarm(cluster), startSwarm(cluster)])))
    watch = new LeaderWatch(cluster)

    // Let p settle from its cautious start before judging.
    await watchPolls(watch, 5)
    const steady = await watchPolls(watch, 12)
    expectHolds(steady, 33)
    // A sample, not everyone: p stays well below 1 and the answers near the target.
    const meanAnswers = steady.reduce((s, c) => s + c.answers, 0) / steady.length
    expect(meanAnswers).toBeGreaterThan(6)
    expect(meanAnswers).toBeLessThan(20)
    expect(steady.at(-1)!.p).toBeLessThan(0.7)
    const last = steady.at(-1)!
    expect(last.idle.estimate + last.busy.estimate).toBeCloseTo(last.population.estimate, 5)

    await stopSwarm(swarms.shift()!)
    await watchPolls(watch, 3)
    const leftSteady = await watchPolls(watch, 12)
    expectHolds(leftSteady, 23)

    swarms.push(await startSwarm(cluster))
    await watchPolls(watch, 3)
    const joinedSteady = await watchPolls(watch, 12)
    expectHolds(joinedSteady, 33)
  }, 300_000)
})
