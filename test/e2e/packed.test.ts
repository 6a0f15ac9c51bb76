// The path a user gets once peerqueue is published: the workspaces packed with `npm pack`,
// create-queue installed from its tarball, a project scaffolded against the packed runtime and
// SDK (nothing linked into this checkout), installed from npm's cache, a peer and a job.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { REPO, freePort } from '../helpers/project.js'
import { run } from '../helpers/run.js'

describe('peerqueue as published', () => {
  let dev: ChildProcess | undefined
  afterAll(() => {
    if (dev?.pid) process.kill(-dev.pid, 'SIGTERM')
  })

  it('scaffolds, installs and runs a job from the packed tarballs alone', async () => {
    const packs = await mkdtemp(join(tmpdir(), 'pq-packs-'))
    const packed = await run('npm', ['pack', '-w', 'runtime', '-w', 'sdk', '-w', 'create-queue', '--pack-destination', packs], REPO, 180_000)
    expect(packed.code, packed.out).toBe(0)
    const tarballs = (await readdir(packs)).sort()
    expect(tarballs).toEqual(['create-queue-0.1.0.tgz', 'peerqueue-runtime-0.1.0.tgz', 'peerqueue-sdk-0.1.0.tgz'])

    // What `npm create queue` does: install the create-queue package, then run its bin.
    const installer = await mkdtemp(join(tmpdir(), 'pq-installer-'))
    await writeFile(join(installer, 'package.json'), '{ "name": "installer", "private": true }\n')
    const tools = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(packs, 'create-queue-0.1.0.tgz'), join(packs, 'peerqueue-runtime-0.1.0.tgz')], installer, 240_000)
    expect(tools.code, tools.out).toBe(0)
    const parent = await mkdtemp(join(tmpdir(), 'pq-published-'))
    const port = await freePort()
    const created = await run(process.execPath, [join(installer, 'node_modules', 'create-queue', 'dist', 'main.js'), 'shop', '--yes', '--base-port', String(port), '--tarballs', packs], parent)
    expect(created.code, created.out).toBe(0)
    const root = join(parent, 'shop')
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'))
    expect(JSON.stringify(pkg)).not.toContain(REPO)

    const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], root, 240_000)
    expect(install.code, install.out).toBe(0)
    dev = spawn('npm', ['run', 'dev', '--', '--http', `127.0.0.1:${await freePort()}`], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let out = ''
    dev.stdout!.on('data', (c: Buffer) => (out += c.toString()))
    dev.stderr!.on('data', (c: Buffer) => (out += c.toString()))
    await expect.poll(() => out, { timeout: 30_000 }).toContain('peerqueue: ready')
    const client = await run('npm', ['run', '-s', 'client'], root, 60_000)
    expect(client.code, client.out).toBe(0)
    expect(client.out).toContain('Hello, Ada!')
    // The dashboard and metrics load from the packed runtime too (their code is loaded on demand).
    const dashboard = /dashboard (http:\/\/\S+?)\//.exec(out)?.[1]
    expect(dashboard, out).toBeDefined()
    expect(await (await fetch(`${dashboard}/metrics`)).text()).toContain('peerqueue_jobs_completed_total{job="hello"} 3')
    process.kill(-dev.pid!, 'SIGTERM')
    await expect.poll(() => out, { timeout: 10_000 }).toContain('stopping')
    dev = undefined
  })
})
