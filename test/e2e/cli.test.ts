// The queue-runtime command line as an operator meets it: help, keys, and clear errors.
import { spawnSync } from 'node:child_process'
import { chmod, readFile, stat, writeFile } from 'node:fs/promises'
import { nodeVersionProblem } from '../../runtime/src/node-version.js'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI, REPO, makeProject, runCli, startPeer, stopPeer, type Project, type RunningPeer } from '../helpers/project.js'

const COMMANDS = ['start', 'dev', 'keygen', 'enqueue', 'status', 'job', 'cancel', 'redrive', 'pause', 'resume', 'schedule', 'unschedule', 'schedules', 'events', 'registry']

describe('queue-runtime without a running peer', () => {
  it('prints help for the tool and for every command', async () => {
    const overview = await runCli(['--help'])
    expect(overview.code).toBe(0)
    for (const command of COMMANDS) expect(overview.stdout).toContain(`  ${command} `)
    for (const command of COMMANDS) {
      const help = await runCli([command, '--help'])
      expect(help.code, command).toBe(0)
      expect(help.stdout).toContain(`Usage: queue-runtime ${command}`)
    }
  })

  it('says plainly which Node.js it needs, before loading anything that would crash on an old one', async () => {
    const oldNode = "data:text/javascript,Object.defineProperty(process.versions, 'node', { value: '20.20.2' })"
    const result = spawnSync(process.execPath, ['--import', oldNode, CLI, 'status'], { encoding: 'utf8' })
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('error E_NODE_VERSION: peerqueue needs Node.js 22.12.0 or newer; this is Node.js 20.20.2.')
    expect(result.stderr).toContain('npm install --save-dev node@24')
    expect(nodeVersionProblem('22.11.0')).toContain('needs Node.js 22.12.0')
    expect(nodeVersionProblem('22.12.0')).toBeUndefined()
    expect(nodeVersionProblem('24.1.0')).toBeUndefined()
  })

  it('answers an unknown command or flag with exit status 2', async () => {
    expect((await runCli(['frobnicate'])).code).toBe(2)
    const bad = await runCli(['status', '--frob'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("Unknown option '--frob'")
  })

  it('creates a key file readable only by its owner, and never overwrites one', async () => {
    const project = await makeProject()
    const file = join(project.dir, 'new.key')
    const made = await runCli(['keygen', '--out', file, '--json'])
    expect(made.code).toBe(0)
    expect(JSON.parse(made.stdout)).toMatchObject({ peerId: expect.stringMatching(/^12D3KooW/), file })
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const before = await readFile(file, 'utf8')
    const again = await runCli(['keygen', '--out', file])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('E_KEY_EXISTS')
    expect(await readFile(file, 'utf8')).toBe(before)
  })

  it('explains a missing or malformed key file', async () => {
    const project = await makeProject()
    const missing = await runCli(['start', '--registry', project.registry, '--key', join(project.dir, 'nope.key')])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('E_KEY_MISSING')
    expect(missing.stderr).toContain('queue-runtime keygen --out')
    const garbage = join(project.dir, 'garbage.key')
    await writeFile(garbage, 'this is not a key\n', { mode: 0o600 })
    const bad = await runCli(['start', '--registry', project.registry, '--key', garbage])
    expect(bad.stderr).toContain('E_KEY_INVALID')
  })

  it('points at the line and field of a malformed registry', async () => {
    const project = await makeProject()
    const text = await readFile(project.registry, 'utf8')
    await writeFile(project.registry, text.replace('rendezvous: e2e-test', 'rendezvous: e2e-test\n    colour: blue'))
    const result = await runCli(['start', '--registry', project.registry, '--key', project.peerKey])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/E_REGISTRY_INVALID: invalid registry:\n.*registry\.yaml:\d+:\d+ queues\[0\].*colour/)
    const missing = await runCli(['status', '--registry', join(project.dir, 'missing.yaml')])
    expect(missing.stderr).toContain('E_REGISTRY_UNREADABLE')
  })

  it('checks a registry: a summary when valid, every problem with its place when not', async () => {
    const project = await makeProject()
    const good = await runCli(['registry', 'check', project.registry])
    expect(good.code).toBe(0)
    expect(good.stdout).toContain('valid (schema version 1), 1 queue(s)')
    expect(good.stdout).toContain(project.peerId)
    const json = JSON.parse((await runCli(['registry', 'check', project.registry, '--json'])).stdout)
    expect(json.queues[0].limits.maxPayloadBytes).toBe(4096)
    const text = await readFile(project.registry, 'utf8')
    await writeFile(project.registry, text.replace(project.peerId, 'QmNotAPeer').replace('e2e-test', 'has spaces'))
    const bad = await runCli(['registry', 'check', project.registry])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/registry\.yaml:\d+:\d+ queues\[0\]\.rendezvous: /)
    expect(bad.stderr).toMatch(/registry\.yaml:\d+:\d+ queues\[0\]\.trustedPeers\[0\]\.id: not a valid Ed25519 peer id/)
  })

  it("reads PeerPrint's example registry as it is, says which defaults apply, and converts it", async () => {
    const fixture = join(REPO, 'test', 'fixtures', 'peerprint', 'example_registry.yaml')
    const check = await runCli(['registry', 'check', fixture])
    expect(check.code).toBe(0)
    expect(check.stdout).toMatch(/queue test-queue-[0-9a-f]{8} \("Test queue"\) — A testing queue/)
    expect(check.stdout).toContain('(no address: found through the rendezvous)')
    expect(check.stdout).toContain('submitters: trusted (only the trusted peers may submit jobs)')
    const json = JSON.parse((await runCli(['registry', 'check', fixture, '--json'])).stdout)
    expect(Object.values(json.defaultsApplied as Record<string, string[]>)[0]).toContain('workers: any (every peer that finds the queue may run its jobs)')
    const project = await makeProject()
    const out = join(project.dir, 'converted.yaml')
    const converted = await runCli(['registry', 'convert', fixture, out])
    expect(converted.code).toBe(0)
    expect(converted.stdout).toContain('desc is now description')
    expect((await runCli(['registry', 'check', out])).stdout).not.toContain('submitters: trusted (only')
    expect((await runCli(['registry', 'convert', fixture, out])).stderr).toContain('already exists')
    expect((await runCli(['registry', 'convert', fixture])).code).toBe(2)
  })

  it('creates a registry and adds trusted peers to it, validating every write', async () => {
    const project = await makeProject()
    const file = join(project.dir, 'new-registry.yaml')
    const init = await runCli(['registry', 'init', file, '--queue', 'photos', '--key', project.peerKey, '--addr', '/ip4/127.0.0.1/tcp/4101'])
    expect(init.stderr).toBe('')
    expect((await runCli(['registry', 'init', file, '--queue', 'photos', '--key', project.peerKey, '--addr', '/ip4/127.0.0.1/tcp/4101'])).stderr).toContain('already exists')
    const added = await runCli(['registry', 'add-peer', file, '--key', project.clientKey, '--addr', '/ip4/127.0.0.1/tcp/4102', '--addr', '/ip4/127.0.0.1/tcp/4103/ws'])
    expect(added.code).toBe(0)
    const again = await runCli(['registry', 'add-peer', file, '--key', project.clientKey, '--addr', '/ip4/127.0.0.1/tcp/4102'])
    expect(again.stderr).toContain('already a trusted peer')
    const bad = await runCli(['registry', 'add-peer', file, '--id', 'not-a-peer', '--addr', '/ip4/127.0.0.1/tcp/4104'])
    expect(bad.stderr).toContain('not a valid Ed25519 peer id')
    const check = JSON.parse((await runCli(['registry', 'check', file, '--json'])).stdout)
    expect(check.queues[0].trustedPeers.map((p: { id: string }) => p.id)).toEqual([project.peerId, project.clientId])
    expect(await readFile(file, 'utf8')).toContain('# peerqueue registry')
  })

  it('refuses a key file other users can read, unless told to accept it', async () => {
    const project = await makeProject()
    await chmod(project.peerKey, 0o644)
    const refused = await runCli(['start', '--registry', project.registry, '--key', project.peerKey])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('E_KEY_INSECURE')
    expect(refused.stderr).toContain(`chmod 600 ${project.peerKey}`)
    const accepted = await startPeer(project, ['--allow-insecure-key'])
    expect(await stopPeer(accepted)).toBe(0)
  })

  it('explains a data directory it cannot use, and one another peer holds', async () => {
    const project = await makeProject()
    const blocked = join(project.dir, 'not-a-dir')
    await writeFile(blocked, 'a file where a directory should be')
    const bad = await runCli(['start', '--registry', project.registry, '--key', project.peerKey, '--data', blocked])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('E_DATA_DIR')
    const first = await startPeer(project)
    const second = await runCli(['start', '--registry', project.registry, '--key', project.peerKey, '--data', join(project.dir, 'data'), '--listen', '/ip4/127.0.0.1/tcp/0'])
    expect(second.stderr).toContain('E_DATA_LOCKED')
    expect(await stopPeer(first)).toBe(0)
  })

  it('says when no trusted peer can be reached', async () => {
    const project = await makeProject()
    const result = await runCli(['status', '--registry', project.registry, '--key', project.clientKey])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('E_UNREACHABLE')
  })
})

describe('queue-runtime against a running peer', () => {
  let project: Project
  let peer: RunningPeer
  const client = () => ['--registry', project.registry, '--key', project.clientKey]

  beforeAll(async () => {
    project = await makeProject()
    peer = await startPeer(project)
  })
  afterAll(async () => {
    if (peer) await stopPeer(peer)
  })

  it('enqueues a job and prints its result with --wait', async () => {
    const result = await runCli(['enqueue', 'echo', '{"text":"from the cli"}', '--wait', ...client()])
    expect(result.stderr).toBe('')
    expect(JSON.parse(result.stdout)).toMatchObject({ text: 'from the cli', attempt: 1 })
  })

  it('prints JSON for scripts: enqueue, job and status', async () => {
    const queued = JSON.parse((await runCli(['enqueue', 'echo', '{"text":"j"}', '--json', '--priority', '3', ...client()])).stdout) as { id: string }
    expect(queued).toMatchObject({ id: expect.any(String), created: true })
    await expect
      .poll(async () => JSON.parse((await runCli(['job', queued.id, '--json', ...client()])).stdout).state, { timeout: 10_000 })
      .toBe('completed')
    const status = JSON.parse((await runCli(['status', '--json', ...client()])).stdout)
    expect(status).toMatchObject({ queue: 'e2e', role: 'leader', peerId: project.peerId, handlers: expect.arrayContaining(['echo']) })
    expect(status.jobs.completed).toBeGreaterThanOrEqual(1)
  })

  it('refuses a payload that is not JSON, and a payload that fails the schema', async () => {
    const notJson = await runCli(['enqueue', 'echo', '{text:', ...client()])
    expect(notJson.code).toBe(2)
    expect(notJson.stderr).toContain('the payload is not valid JSON')
    const invalid = await runCli(['enqueue', 'echo', '{"text":5}', ...client()])
    expect(invalid.code).toBe(1)
    expect(invalid.stderr).toContain('E_PAYLOAD_INVALID')
  })

  it('cancels and re-drives from the command line', async () => {
    const { id } = JSON.parse((await runCli(['enqueue', 'slow', '{"ms":60000}', '--json', ...client()])).stdout) as { id: string }
    expect((await runCli(['cancel', id, ...client()])).stdout).toContain('cancelled 1 of 1')
    const dead = JSON.parse((await runCli(['enqueue', 'fatal', '{}', '--wait', '--json', ...client()])).stdout) as { id: string; state: string }
    expect(dead.state).toBe('dead')
    expect((await runCli(['redrive', '--all', '--json', ...client()])).stdout).toContain(dead.id)
  })
})
