// One trusted peer as a child process, driven through the typed client over libp2p.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, JobCancelledError, JobFailedError, type Queue } from '@peerqueue/sdk/client'
import { createKeyFile } from '@peerqueue/runtime'
import type echo from '../fixtures/jobs/echo.js'
import type flaky from '../fixtures/jobs/flaky.js'
import echoJob from '../fixtures/jobs/echo.js'
import { makeProject, startPeer, stopPeer, type Project, type RunningPeer } from '../helpers/project.js'

describe('a trusted peer serving clients', () => {
  let project: Project
  let peer: RunningPeer
  let queue: Queue

  beforeAll(async () => {
    project = await makeProject()
    peer = await startPeer(project)
    queue = await connect({ registry: project.registry, key: project.clientKey })
  })
  afterAll(async () => {
    await queue?.close()
    if (peer) expect(await stopPeer(peer)).toBe(0)
  })

  it('runs with its young generation capped: Node started again in the same process with the flag', async () => {
    const cmdline = (await readFile(`/proc/${peer.child.pid}/cmdline`, 'utf8')).split('\0')
    expect(cmdline).toContain('--max-semi-space-size=4')
    expect(cmdline.filter((arg) => arg.startsWith('--max-semi-space-size'))).toHaveLength(1)
  })

  it('runs a job and returns its typed result with rich values intact', async () => {
    const job = await queue.enqueue<typeof echo>('echo', { text: 'hello' })
    const result = await job.result({ timeoutMs: 10_000 })
    expect(result).toEqual({ text: 'hello', attempt: 1, at: new Date(0), tags: new Set(['a']) })
    expect(await job.status()).toMatchObject({ state: 'completed', attempt: 1, result })
  })

  it('enqueues and waits in one request with run(), rejecting as result() does', async () => {
    expect(await queue.run<typeof echo>('echo', { text: 'at once' }, { timeoutMs: 10_000 })).toMatchObject({ text: 'at once', attempt: 1, tags: new Set(['a']) })
    const err = await queue.run('fatal', {}, { timeoutMs: 10_000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(JobFailedError)
    // A wait shorter than the job ends in E_TIMEOUT; the job itself goes on.
    await expect(queue.run('slow', { ms: 600 }, { timeoutMs: 150 })).rejects.toMatchObject({ code: 'E_TIMEOUT' })
  })

  it('submits many jobs in one request and finishes them all', async () => {
    const jobs = await queue.enqueueMany<typeof echo>(Array.from({ length: 50 }, (_, i) => ({ job: 'echo', payload: { text: `n${i}` } })))
    const results = await Promise.all(jobs.map((j) => j.result({ timeoutMs: 20_000 })))
    expect(results.map((r) => r.text)).toEqual(Array.from({ length: 50 }, (_, i) => `n${i}`))
  })

  it('returns the first job for a repeated idempotency key', async () => {
    const first = await queue.enqueue('echo', { text: 'once' }, { idempotencyKey: 'only-once' })
    const second = await queue.enqueue('echo', { text: 'twice' }, { idempotencyKey: 'only-once' })
    expect(second.id).toBe(first.id)
    expect([first.created, second.created]).toEqual([true, false])
    expect(await second.result({ timeoutMs: 10_000 })).toMatchObject({ text: 'once' })
  })

  it('retries a failing handler with backoff until it succeeds', async () => {
    const job = await queue.enqueue<typeof flaky>('flaky', { succeedOn: 2 })
    expect(await job.result({ timeoutMs: 10_000 })).toBe('ok on attempt 2')
  })

  it('holds a delayed job until its time', async () => {
    const started = Date.now()
    const job = await queue.enqueue('echo', { text: 'later' }, { delayMs: 400 })
    expect((await job.status()).state).toBe('delayed')
    await job.result({ timeoutMs: 10_000 })
    const status = await job.status()
    expect(status.finishedAt! - status.enqueuedAt).toBeGreaterThanOrEqual(400)
    expect(Date.now() - started).toBeGreaterThanOrEqual(400)
  })

  it('moves a job to dead after its last attempt, and re-drives it', async () => {
    const marker = join(project.dir, 'gate-open')
    const job = await queue.enqueue('gate', { path: marker })
    await expect(job.result({ timeoutMs: 10_000 })).rejects.toBeInstanceOf(JobFailedError)
    expect(await job.status()).toMatchObject({ state: 'dead', attempt: 1, error: { message: expect.stringContaining('does not exist yet') } })
    await writeFile(marker, '')
    expect(await queue.redrive(job.id)).toEqual([job.id])
    expect(await job.result({ timeoutMs: 10_000 })).toBe('opened')
  })

  it('sends a NonRetryableError straight to dead', async () => {
    const job = await queue.enqueue('fatal', {})
    const err = await job.result({ timeoutMs: 10_000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(JobFailedError)
    expect((err as JobFailedError).attempts).toBe(1)
    expect((err as JobFailedError).message).toContain('this input can never work')
  })

  it('cancels a running job: its signal aborts and result() rejects', async () => {
    const job = await queue.enqueue('slow', { ms: 30_000, steps: 300 })
    await expect.poll(async () => (await job.status()).progress ?? 0, { timeout: 10_000 }).toBeGreaterThan(0)
    expect(await job.cancel()).toBe(true)
    await expect(job.result({ timeoutMs: 10_000 })).rejects.toBeInstanceOf(JobCancelledError)
    const next = await queue.enqueue('echo', { text: 'after cancel' })
    expect(await next.result({ timeoutMs: 10_000 })).toMatchObject({ text: 'after cancel' })
  })

  it('fails a job whose handler hangs past its timeout, by terminating its thread', async () => {
    const job = await queue.enqueue('stubborn', {})
    const err = (await job.result({ timeoutMs: 15_000 }).catch((e: unknown) => e)) as JobFailedError
    expect(err).toBeInstanceOf(JobFailedError)
    expect(err.cause).toMatchObject({ name: 'TimeoutError', message: expect.stringContaining('thread was terminated') })
  })

  it('survives a handler that calls process.exit', async () => {
    const job = await queue.enqueue('exiter', {})
    const err = (await job.result({ timeoutMs: 10_000 }).catch((e: unknown) => e)) as JobFailedError
    expect(err.cause).toMatchObject({ name: 'ThreadExited' })
    expect(await (await queue.enqueue('echo', { text: 'alive' })).result({ timeoutMs: 10_000 })).toMatchObject({ text: 'alive' })
  })

  it('refuses a payload that fails the schema, at enqueue, with the field named', async () => {
    await expect(queue.enqueue('echo', { txt: 'typo' })).rejects.toMatchObject({
      code: 'E_PAYLOAD_INVALID',
      message: expect.stringContaining('text: Invalid input'),
    })
  })

  it('checks the payload in the client when given the job definition', async () => {
    // @ts-expect-error the payload type comes from the job's schema
    await expect(queue.enqueue(echoJob, { text: 1 })).rejects.toMatchObject({ code: 'E_PAYLOAD_INVALID' })
    expect(await (await queue.enqueue(echoJob, { text: 'typed' })).result({ timeoutMs: 10_000 })).toMatchObject({ text: 'typed' })
  })

  it('refuses an unknown job name and a payload over the limit', async () => {
    await expect(queue.enqueue('no-such-job', {})).rejects.toMatchObject({ code: 'E_JOB_UNKNOWN', message: expect.stringContaining('known: ') })
    await expect(queue.enqueue('echo', { text: 'x'.repeat(5000) })).rejects.toMatchObject({ code: 'E_PAYLOAD_TOO_LARGE' })
  })

  it('refuses a submitter the registry does not list', async () => {
    const strangerKey = join(project.dir, 'stranger.key')
    await createKeyFile(strangerKey)
    const stranger = await connect({ registry: project.registry, key: strangerKey })
    try {
      await expect(stranger.enqueue('echo', { text: 'x' })).rejects.toMatchObject({ code: 'E_NOT_ALLOWED' })
    } finally {
      await stranger.close()
    }
  })
})
