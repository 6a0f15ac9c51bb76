// Deploys on real processes: three trusted peers, worker peers started in empty folders with
// only a registry and a key. Code travels by deploy, each job runs on the version it was
// enqueued on, rollback goes back, a worker restarted while the trusted peers are away runs
// its cached versions when they return, and a worker whose registry does not allow the
// deployer refuses the code.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { connect, type Queue } from '@peerqueue/sdk/client'
import { createKeyFile, readKeyFile } from '@peerqueue/runtime'
import { TestCluster } from '../helpers/cluster.js'
import { tearDown } from '../helpers/cluster-session.js'
import { REPO, runCli, spawnPeer, stopPeer, type RunningPeer } from '../helpers/project.js'

const V1 = join(REPO, 'test', 'fixtures', 'deploy-v1')
const V2 = join(REPO, 'test', 'fixtures', 'deploy-v2')

/** Lists the test client as the queue's deployer; returns the registry as it was. */
async function allowClientToDeploy(cluster: TestCluster): Promise<string> {
  const clientId = (await readKeyFile(cluster.clientKey)).peerId
  const text = await readFile(cluster.registry, 'utf8')
  await writeFile(cluster.registry, text.replace('    workers: any\n', `    workers: any\n    deployers: [${clientId}]\n`))
  return text
}

describe('deploys', () => {
  let cluster: TestCluster | undefined
  const queues: Queue[] = []
  const workers: RunningPeer[] = []
  afterEach(async (context) => {
    await Promise.all(workers.splice(0).map((w) => stopPeer(w)))
    await tearDown(context.task.result?.state === 'fail', cluster, queues)
    cluster = undefined
  })

  /** A worker peer in an empty folder: a registry, a key, no jobs/. */
  async function startWorker(registry: string, name: string, keyFile?: string): Promise<{ peer: RunningPeer; key: string; dir: string }> {
    const dir = await mkdtemp(join(tmpdir(), `pq-empty-${name}-`))
    const key = keyFile ?? join(dir, 'worker.key')
    if (!keyFile) await createKeyFile(key)
    const peer = await spawnPeer({ registry, key, data: join(dir, 'data'), cwd: dir, args: ['--concurrency', '2'] })
    workers.push(peer)
    return { peer, key, dir }
  }

  async function deployCli(jobs: string, registry: string, key: string) {
    return runCli(['deploy', '--jobs', jobs, '--registry', registry, '--key', key, '--json'])
  }

  it('runs deployed code on workers that never saw jobs/, pinned per job, with rollback and an offline cache', async () => {
    cluster = await TestCluster.create(3, 0)
    await allowClientToDeploy(cluster)
    await cluster.startAll()

    const v1 = await deployCli(V1, cluster.registry, cluster.clientKey)
    expect(v1.code, v1.stderr).toBe(0)
    const deployed = JSON.parse(v1.stdout) as { version: number; handlers: { bundle: string }[] }
    expect(deployed).toMatchObject({ version: 1, current: 1, handlers: [{ name: 'greet', bundle: expect.stringMatching(/^[0-9a-f]{64}$/) }] })
    // Every trusted peer keeps the bundle, named by its hash.
    const hash = deployed.handlers[0]!.bundle
    for (const p of cluster.peers.filter((x) => x.trusted)) {
      await expect.poll(() => readFile(join(cluster!.dir, 'data', p.name, 'cluster', p.id, 'deployed', `${hash}.mjs`)).then(() => true, () => false), { timeout: 10_000 }).toBe(true)
    }

    const first = await startWorker(cluster.registry, 'one')
    const second = await startWorker(cluster.registry, 'two')
    const queue = await connect({ registry: cluster.registry, key: cluster.clientKey })
    queues.push(queue)
    expect(await queue.run('greet', { name: 'Ada' }, { timeoutMs: 20_000 })).toEqual({ text: 'v1: hello Ada' })
    const pinned = await queue.enqueue('greet', { name: 'Bo' }, { delayMs: 4_000 })
    expect((await queue.job(pinned.id).status()).state).toBe('delayed')

    const v2 = await deployCli(V2, cluster.registry, cluster.clientKey)
    expect(v2.code, v2.stderr).toBe(0)
    expect(JSON.parse(v2.stdout)).toMatchObject({ version: 2, current: 2 })
    expect(await queue.run('greet', { name: 'Cy' }, { timeoutMs: 20_000 })).toEqual({ text: 'v2: good day Cy' })
    expect(await queue.run('shout', { text: 'new' }, { timeoutMs: 20_000 })).toEqual({ text: 'NEW' })
    // Enqueued under version 1, it runs version 1's code though version 2 is current now.
    expect(await pinned.result({ timeoutMs: 20_000 })).toEqual({ text: 'v1: hello Bo' })
    // A job may name its version.
    expect(await queue.run('greet', { name: 'Di' }, { version: 1, timeoutMs: 20_000 })).toEqual({ text: 'v1: hello Di' })
    await expect(queue.enqueue('greet', { name: 'X' }, { version: 9 })).rejects.toMatchObject({ code: 'E_VERSION_UNKNOWN' })

    const versions = await runCli(['versions', '--registry', cluster.registry, '--key', cluster.clientKey, '--json'])
    expect(JSON.parse(versions.stdout)).toMatchObject({ current: 2, versions: [{ version: 1, current: false }, { version: 2, current: true }] })
    const back = await runCli(['rollback', '--registry', cluster.registry, '--key', cluster.clientKey])
    expect(back.stdout).toContain('current version: 1')
    expect(await queue.run('greet', { name: 'Ed' }, { timeoutMs: 20_000 })).toEqual({ text: 'v1: hello Ed' })
    await expect(queue.enqueue('shout', { text: 'gone' })).rejects.toMatchObject({ code: 'E_JOB_UNKNOWN' })
    const again = await runCli(['promote', '2', '--registry', cluster.registry, '--key', cluster.clientKey])
    expect(again.stdout).toContain('current version: 2')

    // Both workers fetched code, each checked against its hash, and say so.
    for (const w of [first, second]) expect(w.peer.output()).toMatch(/running deployed code/)
    expect(first.peer.output() + second.peer.output()).toMatch(/fetched greet of version 1/)

    // Offline: every trusted peer stops; the first worker restarts with only its cache; they return.
    await Promise.all(workers.splice(0).map((w) => stopPeer(w)))
    await queue.close()
    queues.splice(0)
    await cluster.stopAll()
    const restarted = await spawnPeer({ registry: cluster.registry, key: first.key, data: join(first.dir, 'data'), cwd: first.dir, args: ['--concurrency', '2'] })
    workers.push(restarted)
    expect(restarted.output()).toMatch(/versions held: 1, 2/)
    await cluster.startAll()
    const later = await connect({ registry: cluster.registry, key: cluster.clientKey })
    queues.push(later)
    expect(await later.run('greet', { name: 'Flo' }, { timeoutMs: 30_000 })).toEqual({ text: 'v2: good day Flo' })
    expect(await later.run('greet', { name: 'Gus' }, { version: 1, timeoutMs: 30_000 })).toEqual({ text: 'v1: hello Gus' })
    expect(restarted.output()).not.toMatch(/fetched/)
  })

  it('runs deployed code under the permission model with --permission: no processes, no writes outside its data', async () => {
    cluster = await TestCluster.create(1, 0)
    await allowClientToDeploy(cluster)
    await cluster.startAll()
    expect((await deployCli(join(REPO, 'test', 'fixtures', 'deploy-sandbox'), cluster.registry, cluster.clientKey)).code).toBe(0)
    const queue = await connect({ registry: cluster.registry, key: cluster.clientKey })
    queues.push(queue)
    const outside = join(cluster.dir, 'outside.txt')

    const dir = await mkdtemp(join(tmpdir(), 'pq-empty-sandboxed-'))
    const key = join(dir, 'worker.key')
    await createKeyFile(key)
    const sandboxed = await spawnPeer({ registry: cluster.registry, key, data: join(dir, 'data'), cwd: dir, args: ['--concurrency', '1', '--permission'] })
    workers.push(sandboxed)
    expect(await queue.run('probe', { path: outside }, { timeoutMs: 20_000 })).toEqual({ exec: 'ERR_ACCESS_DENIED', write: 'ERR_ACCESS_DENIED' })
    await stopPeer(workers.pop()!)

    const open = await startWorker(cluster.registry, 'open')
    expect(open.peer.output()).toContain('ready')
    expect(await queue.run('probe', { path: outside }, { timeoutMs: 20_000 })).toEqual({ exec: 'allowed', write: 'allowed' })
    expect(await readFile(outside, 'utf8')).toBe('written')

    const refused = await runCli(['start', '--registry', cluster.registry, '--key', key, '--data', join(dir, 'data'), '--permission', '--jobs', join(REPO, 'test', 'fixtures', 'jobs')])
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain('--permission runs deployed code only')
  })

  it('refuses code on a worker whose registry does not allow its deployer, and loads none of it', async () => {
    cluster = await TestCluster.create(3, 0)
    const text = await allowClientToDeploy(cluster)
    // The worker's own copy of the registry trusts only the trusted peers to deploy.
    const strict = join(cluster.dir, 'strict-registry.yaml')
    await writeFile(strict, text)
    await cluster.startAll()
    // The manifest names each bundle by hash, with the handler's settings and its schema as JSON Schema.
    const dry = await runCli(['deploy', '--dry-run', '--json', '--jobs', V1, '--registry', cluster.registry, '--key', cluster.clientKey])
    expect(JSON.parse(dry.stdout)).toMatchObject({ manifest: { handlers: [{ name: 'greet', retry: { maxAttempts: 5 }, hasSchema: true, jsonSchema: { type: 'object', properties: { name: { type: 'string' } } } }] } })
    expect((await deployCli(V1, cluster.registry, cluster.clientKey)).code).toBe(0)
    const { peer } = await startWorker(strict, 'strict')
    const queue = await connect({ registry: cluster.registry, key: cluster.clientKey })
    queues.push(queue)
    const job = await queue.enqueue('greet', { name: 'Ada' }, { maxAttempts: 1 })
    await expect(job.result({ timeoutMs: 20_000 })).rejects.toMatchObject({ cause: { name: 'CodeUnavailable', message: expect.stringContaining('version 1') } })
    expect(peer.output()).toMatch(/refusing version 1: deploy by \S+ refused: it is not among the deployers/)
    expect(peer.output()).not.toMatch(/fetched/)
  })
})
