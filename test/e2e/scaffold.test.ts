// npm create queue, as a newcomer runs it: scaffold against this checkout, install with no
// network, run the queue in dev mode, submit jobs from the generated client, edit a handler.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseRegistry } from '@peerqueue/runtime'
import { REPO, freePort } from '../helpers/project.js'
import { run } from '../helpers/run.js'

const CREATE = join(REPO, 'create-queue', 'dist', 'main.js')

describe('create-queue', () => {
  let dev: ChildProcess | undefined
  afterAll(() => {
    dev?.kill('SIGTERM')
  })

  it('refuses a non-empty directory and bad flags with a usage message', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'pq-create-'))
    await mkdir(join(parent, 'taken'))
    await writeFile(join(parent, 'taken', 'file.txt'), 'mine')
    const taken = await run(process.execPath, [CREATE, 'taken', '--yes'], parent)
    expect(taken.code).toBe(2)
    expect(taken.out).toContain('is not empty')
    const badCount = await run(process.execPath, [CREATE, 'x', '--yes', '--trusted', 'three'], parent)
    expect(badCount.code).toBe(2)
    expect(badCount.out).toContain('--trusted must be a whole number')
    const badTemplate = await run(process.execPath, [CREATE, 'y', '--template', 'nope'], parent)
    expect(badTemplate.out).toContain('unknown template "nope"')
  })

  it('asks for what the flags leave open when run in a terminal', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'pq-create-'))
    // `script` gives the scaffolder a pseudo-terminal, so it prompts as it would for a person.
    const child = spawn('script', ['-qfec', `stty cols 120 rows 40; ${process.execPath} ${CREATE} --link ${REPO}`, '/dev/null'], { cwd: parent, stdio: ['pipe', 'pipe', 'pipe'] })
    let screen = ''
    child.stdout.on('data', (c: Buffer) => (screen += c.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    const answer = async (prompt: string, keys: string) => {
      await expect.poll(() => screen, { timeout: 10_000 }).toContain(prompt)
      screen = ''
      child.stdin.write(keys)
    }
    await answer('Project directory', 'asked-queue\r')
    await answer('Template', '\r')
    await answer('How many trusted peers', '3\r')
    expect(await exited).toBe(0)
    const registry = parseRegistry(await readFile(join(parent, 'asked-queue', 'registry.yaml'), 'utf8'), 'registry.yaml')
    expect(registry.queues[0]!.trustedPeers).toHaveLength(3)
  })

  it('writes a valid registry, private keys and a project that installs and runs against this checkout', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'pq-create-'))
    const port = await freePort()
    const created = await run(process.execPath, [CREATE, 'my-queue', '--yes', '--trusted', '1', '--base-port', String(port), '--link', REPO], parent)
    expect(created.code, created.out).toBe(0)
    expect(created.out).toContain('Done. Now run:')
    const root = join(parent, 'my-queue')

    const registry = parseRegistry(await readFile(join(root, 'registry.yaml'), 'utf8'), 'registry.yaml')
    expect(registry.queues[0]!.trustedPeers).toHaveLength(1)
    expect(registry.queues[0]!.trustedPeers[0]!.addrs).toEqual([`/ip4/127.0.0.1/tcp/${port}`])
    for (const key of ['peer-1.key', 'client.key']) expect((await stat(join(root, 'keys', key))).mode & 0o777).toBe(0o600)
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'))
    expect(pkg.name).toBe('my-queue')
    expect(pkg.dependencies['@peerqueue/sdk']).toBe(`file:${join(REPO, 'sdk')}`)
    expect(await readFile(join(root, '.gitignore'), 'utf8')).toContain('keys/')

    // peerqueue's own packages come from the checkout; zod comes from npm's cache, or the registry
    // on a machine whose cache never held its metadata (`npm ci` caches tarballs only).
    const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], root, 180_000)
    expect(install.code, install.out).toBe(0)

    dev = spawn('npm', ['run', 'dev'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let devOut = ''
    dev.stdout!.on('data', (c: Buffer) => (devOut += c.toString()))
    dev.stderr!.on('data', (c: Buffer) => (devOut += c.toString()))
    await expect.poll(() => devOut, { timeout: 30_000 }).toContain('peerqueue: ready')

    const client = await run('npm', ['run', '-s', 'client'], root, 60_000)
    expect(client.code, client.out).toBe(0)
    expect(client.out).toContain('Hello, Ada!')
    expect(client.out).toContain('Hello, Edsger!')

    const handler = join(root, 'jobs', 'hello.ts')
    await writeFile(handler, (await readFile(handler, 'utf8')).replace('`Hello, ${payload.name}!`', '`Welcome, ${payload.name}!`'))
    await expect.poll(() => devOut, { timeout: 15_000 }).toContain('rebuilt handlers: hello')
    const again = await run('npm', ['run', '-s', 'enqueue', '--', 'hello', '{"name":"Grace"}', '--wait'], root, 60_000)
    expect(again.out).toContain('Welcome, Grace!')

    const status = await run('npm', ['run', '-s', 'status'], root, 60_000)
    expect(status.code, status.out).toBe(0)
    expect(status.out).toMatch(/leader\s+12D3KooW/)

    process.kill(-dev.pid!, 'SIGTERM')
    await expect.poll(() => devOut, { timeout: 10_000 }).toContain('stopping')
    dev = undefined

    // Every other script of the project: the typecheck passes, and catches a misspelt payload
    // key and a wrong result type; `start` runs the trusted peer.
    const typecheck = await run('npm', ['run', '-s', 'typecheck'], root, 120_000)
    expect(typecheck.code, typecheck.out).toBe(0)
    const clientFile = join(root, 'client.ts')
    const clientText = await readFile(clientFile, 'utf8')
    await writeFile(clientFile, clientText.replace("('hello', { name })", "('hello', { nmae: name })").replace('result.greeting', 'result.greeting.toFixed(2)'))
    const wrong = await run('npm', ['run', '-s', 'typecheck'], root, 120_000)
    expect(wrong.code).not.toBe(0)
    expect(wrong.out).toContain("'nmae' does not exist")
    expect(wrong.out).toContain("'toFixed' does not exist on type 'string'")
    await writeFile(clientFile, clientText)
    dev = spawn('npm', ['run', 'start'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let startOut = ''
    dev.stdout!.on('data', (c: Buffer) => (startOut += c.toString()))
    await expect.poll(() => startOut, { timeout: 30_000 }).toContain('peerqueue: ready')
    expect(startOut).toContain('trusted peer')
    process.kill(-dev.pid!, 'SIGTERM')
    await expect.poll(() => startOut, { timeout: 10_000 }).toContain('stopping')
    dev = undefined
  })
})
