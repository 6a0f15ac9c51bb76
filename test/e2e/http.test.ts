// The HTTP listener of a trusted peer: the API with tokens and rights, /metrics, the OpenAPI
// document, and a follower that forwards to the leader. Real processes, real HTTP on 127.0.0.1.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { TestCluster } from '../helpers/cluster.js'
import { freePort, makeProject, startPeer, stopPeer, type RunningPeer } from '../helpers/project.js'

const TOKENS = { admin: 'a'.repeat(32), reader: 'r'.repeat(32), submitter: 's'.repeat(32) }

async function tokensFile(dir: string): Promise<string> {
  const file = join(dir, 'http-tokens.yaml')
  await writeFile(
    file,
    `tokens:\n  - { name: admin, token: ${TOKENS.admin}, rights: [read, submit, cancel, redrive] }\n  - { name: dashboard-viewer, token: ${TOKENS.reader}, rights: [read] }\n  - { name: billing, token: ${TOKENS.submitter}, rights: [submit, read] }\n`,
  )
  return file
}

async function request(url: string, init: { method?: string; token?: string; body?: string } = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), 'content-type': 'application/json' },
    body: init.body,
  })
  const text = await response.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // metrics and the page are text
  }
  return { status: response.status, body }
}

/** Every sample line of a Prometheus text exposition: name, labels, value. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?(?:[0-9.]+(?:e[+-]?\d+)?|NaN|\+Inf|-Inf))$/i.exec(line)
    if (!match) throw new Error(`not Prometheus text: ${line}`)
    samples.set(match[1]!, Number(match[2]))
  }
  return samples
}

function dashboardUrl(peer: RunningPeer): string {
  const url = /dashboard (http:\/\/\S+?)\/\s/.exec(peer.output())?.[1]
  if (!url) throw new Error(`no dashboard line in:\n${peer.output()}`)
  return url
}

describe('the HTTP listener of a trusted peer', () => {
  const running: RunningPeer[] = []
  let cluster: TestCluster | undefined
  afterEach(async () => {
    for (const p of running.splice(0)) await stopPeer(p)
    await cluster?.stopAll()
    cluster = undefined
  })

  it('takes jobs over HTTP with the right token, refuses the rest clearly, and changes nothing when it refuses', async () => {
    const project = await makeProject()
    const port = await freePort()
    const peer = await startPeer(project, ['--http', `127.0.0.1:${port}`, '--http-tokens', await tokensFile(project.dir)])
    running.push(peer)
    const base = dashboardUrl(peer)
    expect(base).toBe(`http://127.0.0.1:${port}`)
    const job = JSON.stringify({ name: 'echo', payload: { text: 'hi' } })

    expect(await request(`${base}/v1/jobs`, { method: 'POST', body: job })).toMatchObject({ status: 401, body: { error: { code: 'E_UNAUTHORIZED' } } })
    expect(await request(`${base}/v1/jobs`, { method: 'POST', body: job, token: 'x'.repeat(32) })).toMatchObject({ status: 401, body: { error: { code: 'E_UNAUTHORIZED' } } })
    expect(await request(`${base}/v1/jobs`, { method: 'POST', body: job, token: TOKENS.reader })).toMatchObject({ status: 403, body: { error: { code: 'E_NOT_ALLOWED' } } })
    expect(await request(`${base}/v1/jobs`, { method: 'POST', body: '{"name": "echo", ', token: TOKENS.submitter })).toMatchObject({ status: 400, body: { error: { code: 'E_USAGE', message: expect.stringContaining('not JSON') } } })
    expect(await request(`${base}/v1/jobs`, { method: 'POST', body: JSON.stringify({ name: 'echo', payload: {}, colour: 'red' }), token: TOKENS.submitter })).toMatchObject({ status: 400, body: { error: { code: 'E_USAGE' } } })
    expect(await request(`${base}/v1/jobs`, { method: 'POST', body: JSON.stringify({ name: 'echo', payload: { text: 'x'.repeat(500_000) } }), token: TOKENS.submitter })).toMatchObject({ status: 413, body: { error: { code: 'E_PAYLOAD_TOO_LARGE' } } })
    expect(await request(`${base}/v1/jobs`, { method: 'POST', body: JSON.stringify({ name: 'echo', payload: { text: 'x'.repeat(5_000) } }), token: TOKENS.submitter })).toMatchObject({ status: 413, body: { error: { code: 'E_PAYLOAD_TOO_LARGE' } } })
    expect(await request(`${base}/v1/jobs`, { method: 'POST', body: JSON.stringify({ name: 'echo', payload: { text: 42 } }), token: TOKENS.submitter })).toMatchObject({ status: 400, body: { error: { code: 'E_PAYLOAD_INVALID' } } })
    const before = await request(`${base}/v1/status`, { token: TOKENS.reader })
    expect(Object.values(before.body.jobs as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(0)

    const one = await request(`${base}/v1/jobs`, { method: 'POST', body: job, token: TOKENS.submitter })
    expect(one.status).toBe(201)
    const id = one.body.jobs[0].id as string
    expect(await request(`${base}/v1/jobs/${id}/result?waitMs=20000`, { token: TOKENS.reader })).toMatchObject({ status: 200, body: { state: 'completed', result: { text: 'hi' } } })
    expect(await request(`${base}/v1/jobs/${id}`, { token: TOKENS.reader })).toMatchObject({ status: 200, body: { id, state: 'completed', result: { text: 'hi' } } })
    expect(await request(`${base}/v1/jobs/nope-nope-nope`, { token: TOKENS.reader })).toMatchObject({ status: 404, body: { error: { code: 'E_JOB_NOT_FOUND' } } })
    expect(await request(`${base}/v1/jobs/${id}/result?waitMs=soon`, { token: TOKENS.reader })).toMatchObject({ status: 400 })

    const many = await request(`${base}/v1/jobs`, { method: 'POST', body: JSON.stringify({ jobs: Array.from({ length: 10 }, (_, i) => ({ name: 'echo', payload: { text: `m${i}` } })) }), token: TOKENS.submitter })
    expect(many.body.jobs).toHaveLength(10)
    const delayed = await request(`${base}/v1/jobs`, { method: 'POST', body: JSON.stringify({ name: 'echo', payload: { text: 'later' }, delayMs: 60_000 }), token: TOKENS.admin })
    const later = delayed.body.jobs[0].id as string
    expect(await request(`${base}/v1/jobs/${later}/cancel`, { method: 'POST', token: TOKENS.submitter })).toMatchObject({ status: 403 })
    expect((await request(`${base}/v1/jobs/${later}/cancel`, { method: 'POST', token: TOKENS.admin })).status).toBe(200)
    expect(await request(`${base}/v1/jobs/${later}`, { token: TOKENS.admin })).toMatchObject({ body: { state: 'cancelled' } })
    const fatal = await request(`${base}/v1/jobs`, { method: 'POST', body: JSON.stringify({ name: 'fatal', payload: {} }), token: TOKENS.admin })
    const dead = fatal.body.jobs[0].id as string
    expect(await request(`${base}/v1/jobs/${dead}/result?waitMs=20000`, { token: TOKENS.admin })).toMatchObject({ status: 200, body: { state: 'dead' } })
    expect(await request(`${base}/v1/redrive`, { method: 'POST', body: '{"all": "yes"}', token: TOKENS.admin })).toMatchObject({ status: 400 })
    expect((await request(`${base}/v1/redrive`, { method: 'POST', body: JSON.stringify({ ids: [dead] }), token: TOKENS.admin })).status).toBe(200)
    const listed = await request(`${base}/v1/jobs?search=${dead}`, { token: TOKENS.reader })
    expect(listed.body.jobs[0]).toMatchObject({ id: dead, name: 'fatal' })

    const openapi = await request(`${base}/v1/openapi.json`)
    expect(openapi.body).toMatchObject({ openapi: '3.1.0' })
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(['/jobs', '/jobs/{id}', '/jobs/{id}/result', '/jobs/{id}/cancel', '/redrive']))

    await expect.poll(async () => parsePrometheus((await request(`${base}/metrics`)).body as string).get('peerqueue_jobs_completed_total{job="echo"}'), { timeout: 10_000 }).toBe(11)
    const metrics = parsePrometheus((await request(`${base}/metrics`)).body as string)
    expect(metrics.get('peerqueue_jobs_enqueued_total{job="echo"}')).toBe(12)
    expect(metrics.get('peerqueue_jobs_dead_total{job="fatal"}')).toBeGreaterThanOrEqual(1)
    expect(metrics.get('peerqueue_enqueue_to_result_seconds_count{job="echo"}')).toBe(11)
    expect(metrics.get('peerqueue_raft_is_leader')).toBe(1)
    expect(metrics.get('peerqueue_fsync_seconds_count')).toBeGreaterThan(0)
    expect([...metrics.keys()].some((k) => k.startsWith('libp2p_'))).toBe(true)

    const page = await request(`${base}/`)
    expect(page.status).toBe(200)
    expect(page.body).toContain('<title>peerqueue</title>')
  })

  it('answers on a follower by forwarding to the leader', async () => {
    cluster = await TestCluster.create(3, 1)
    const ports = [await freePort(), await freePort(), await freePort()]
    const tokens = await tokensFile(cluster.dir)
    await Promise.all([1, 2, 3].map((i) => cluster!.start(`trusted-${i}`, ['--http', `127.0.0.1:${ports[i - 1]}`, '--http-tokens', tokens])))
    await cluster.start('worker-1')
    const urls = [1, 2, 3].map((i) => dashboardUrl(cluster!.peer(`trusted-${i}`).process!))
    let follower: string | undefined
    await expect
      .poll(async () => {
        for (const url of urls) {
          const s = (await request(`${url}/v1/status`, { token: TOKENS.reader })).body as { role: string; leader: string | null }
          if (s.role === 'follower' && s.leader) follower = url
        }
        return follower
      }, { timeout: 10_000 })
      .toBeDefined()
    const made = await request(`${follower}/v1/jobs`, { method: 'POST', body: JSON.stringify({ name: 'echo', payload: { text: 'via a follower' } }), token: TOKENS.submitter })
    expect(made.status).toBe(201)
    expect(await request(`${follower}/v1/jobs/${made.body.jobs[0].id}/result?waitMs=20000`, { token: TOKENS.reader })).toMatchObject({ status: 200, body: { result: { text: 'via a follower' } } })
  })
})
