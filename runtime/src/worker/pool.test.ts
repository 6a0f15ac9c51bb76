import { mkdtemp, readFile } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import superjson from 'superjson'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildCatalog, type Catalog } from './catalog.js'
import type { ProgressMessage } from './messages.js'
import { HandlerPool } from './pool.js'

const fixtures = join(import.meta.dirname, '../../../test/fixtures')

describe('handler pool (esbuild bundles in Piscina threads)', () => {
  let pool: HandlerPool
  let catalog: Catalog
  const progress: ProgressMessage[] = []

  beforeAll(async () => {
    pool = new HandlerPool(2, (m) => progress.push(m))
    catalog = await buildCatalog(join(fixtures, 'jobs'), await mkdtemp(join(tmpdir(), 'pq-bundles-')), pool)
  })
  afterAll(() => pool.close())

  const run = (name: string, payload: unknown, extra: { jobId?: string; attempt?: number; timeoutMs?: number } = {}) =>
    pool.run({
      bundle: catalog.get(name)!.bundle,
      jobId: extra.jobId ?? `${name}-1`,
      attempt: extra.attempt ?? 1,
      payload: superjson.stringify(payload),
      timeoutMs: extra.timeoutMs ?? 5000,
    })

  it('reads every handler with its options', () => {
    expect([...catalog.keys()].sort()).toEqual(['big', 'echo', 'exiter', 'fatal', 'flaky', 'gate', 'limited', 'merge', 'part', 'per-customer', 'polite', 'rated', 'slow', 'stubborn'])
    expect(catalog.get('echo')).toMatchObject({ hasSchema: true, source: expect.stringContaining('echo.ts') })
    expect(catalog.get('flaky')).toMatchObject({ retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 50 } } })
    expect(catalog.get('stubborn')).toMatchObject({ timeoutMs: 200 })
    expect(catalog.get('limited')).toMatchObject({ globalConcurrency: 2, rateLimit: undefined })
    expect(catalog.get('per-customer')).toMatchObject({ rateLimit: { max: 3, perMs: 1000, keyed: true } })
  })

  it('reads the handlers in a thread that ends with the reading: an idle pool holds none', async () => {
    const fresh = new HandlerPool(2, () => undefined)
    try {
      const read = await buildCatalog(join(fixtures, 'jobs'), await mkdtemp(join(tmpdir(), 'pq-bundles-')), fresh)
      expect(read.size).toBe(catalog.size)
      expect(fresh.liveThreads).toBe(0)
      expect((await fresh.run({ bundle: read.get('echo')!.bundle, jobId: 'fresh-1', attempt: 1, payload: superjson.stringify({ text: 'hi' }), timeoutMs: 5000 })).ok).toBe(true)
      expect(fresh.liveThreads).toBe(1)
    } finally {
      await fresh.close()
    }
  })

  it('bundles a handler without the networking half of the SDK', async () => {
    const bundle = await readFile(catalog.get('echo')!.bundle, 'utf8')
    expect(bundle).toContain('defineJob')
    expect(bundle).not.toMatch(/libp2p|piscina/)
  })

  it('returns a result that keeps Dates and Sets through superjson', async () => {
    const outcome = await run('echo', { text: 'hi' }, { attempt: 2 })
    expect(outcome.ok).toBe(true)
    if (!outcome.ok) return
    expect(superjson.parse(outcome.result)).toEqual({ text: 'hi', attempt: 2, at: new Date(0), tags: new Set(['a']) })
  })

  it('refuses a payload that fails the schema, for good', async () => {
    expect(await run('echo', { text: 42 })).toEqual({
      ok: false,
      error: { name: 'PayloadInvalid', message: expect.stringContaining('text: Invalid input'), retryable: false },
    })
    expect(await pool.validate(catalog.get('echo')!.bundle, [superjson.stringify({ text: 'ok' }), superjson.stringify({})])).toEqual([
      { ok: true },
      { ok: false, message: expect.stringContaining('payload does not match the schema of "echo"') },
    ])
  })

  it('reports a thrown error as retryable and NonRetryableError as not', async () => {
    expect(await run('flaky', { succeedOn: 2 })).toEqual({ ok: false, error: { name: 'Error', message: 'attempt 1 failed', retryable: true } })
    expect(await run('fatal', {})).toEqual({ ok: false, error: { name: 'NonRetryableError', message: 'this input can never work', retryable: false } })
  })

  it('aborts ctx.signal at the timeout, and a handler that honours it ends with TimeoutError', async () => {
    const started = Date.now()
    expect(await run('polite', {}, { timeoutMs: 200 })).toEqual({ ok: false, error: { name: 'TimeoutError', message: 'timed out after 200 ms', retryable: true } })
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('terminates the thread of a handler that ignores the signal, and keeps serving', async () => {
    const outcome = await run('stubborn', {}, { timeoutMs: 200 })
    expect(outcome).toEqual({ ok: false, error: { name: 'TimeoutError', message: expect.stringContaining('its thread was terminated'), retryable: true } })
    expect((await run('echo', { text: 'still here' })).ok).toBe(true)
  })

  it('fails only the run whose handler calls process.exit', async () => {
    const outcome = await run('exiter', {})
    expect(outcome).toMatchObject({ ok: false, error: { name: 'ThreadExited', retryable: true } })
    expect((await run('echo', { text: 'after exit' })).ok).toBe(true)
  })

  it('runs more handlers at once than it has threads, several on each thread', async () => {
    const seen = new Set<string>()
    const wide = new HandlerPool(availableParallelism() * 3, (m) => seen.add(m.jobId))
    try {
      expect(wide.slots).toBe(availableParallelism() * 3)
      const ids = Array.from({ length: wide.slots }, (_, i) => `wide-${i}`)
      const runs = ids.map((jobId) => wide.run({ bundle: catalog.get('slow')!.bundle, jobId, attempt: 1, payload: superjson.stringify({ ms: 20_000, steps: 400 }), timeoutMs: 30_000 }))
      // Every run reports progress while every other is still running: all of them at once.
      await expect.poll(() => ids.every((id) => seen.has(id)), { timeout: 10_000 }).toBe(true)
      expect(wide.liveThreads).toBeLessThanOrEqual(availableParallelism())
      for (const id of ids) wide.abort(id, 'done looking')
      expect((await Promise.all(runs)).every((r) => !r.ok && r.error.message === 'done looking')).toBe(true)
    } finally {
      await wide.close()
    }
  })

  it('forwards progress and stops a run when it is aborted from outside', async () => {
    const running = run('slow', { ms: 5000, steps: 50 }, { jobId: 'slow-cancel' })
    await expect.poll(() => progress.filter((p) => p.jobId === 'slow-cancel').length).toBeGreaterThan(0)
    pool.abort('slow-cancel', 'the job was cancelled')
    expect(await running).toEqual({ ok: false, error: { name: 'Error', message: 'the job was cancelled', retryable: true } })
  })

  it('explains a handler module that does not bundle or does not export a job', async () => {
    const cache = await mkdtemp(join(tmpdir(), 'pq-bundles-'))
    await expect(buildCatalog(join(fixtures, 'broken-syntax'), cache, pool)).rejects.toMatchObject({
      code: 'E_HANDLERS_INVALID',
      message: expect.stringMatching(/cannot bundle .*bad\.ts:\n.*bad\.ts:1:/),
    })
    await expect(buildCatalog(join(fixtures, 'broken-export'), cache, pool)).rejects.toMatchObject({
      code: 'E_HANDLERS_INVALID',
      message: expect.stringContaining('the default export is not a job'),
    })
  })
})
