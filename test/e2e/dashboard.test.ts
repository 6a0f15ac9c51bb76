// The dashboard in a real browser (Debian's chromium driven by playwright-core): load the page,
// see jobs appear live, cancel one, check its state. Where chromium is not installed the same
// page is checked without a browser (its HTML, its live stream), and the run says so.
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { chromium, type Browser } from 'playwright-core'
import { REPO, freePort, makeProject, startPeer, stopPeer, type RunningPeer } from '../helpers/project.js'

const CHROMIUM = process.env.PEERQUEUE_CHROMIUM ?? '/usr/bin/chromium'
const TOKEN = 't'.repeat(40)
// As the machine's own browser tests run it: headless, and nothing that reaches past loopback.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

async function api(base: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${base}/v1${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return response.json()
}

describe('the dashboard', () => {
  let peer: RunningPeer | undefined
  let browser: Browser | undefined
  afterEach(async () => {
    await browser?.close()
    if (peer) await stopPeer(peer)
  })

  it('shows jobs as they change and cancels one from the page', async () => {
    const project = await makeProject()
    const tokens = join(project.dir, 'tokens.yaml')
    await writeFile(tokens, `tokens:\n  - { name: ops, token: ${TOKEN}, rights: [read, submit, cancel, redrive] }\n`)
    const port = await freePort()
    peer = await startPeer(project, ['--http', `127.0.0.1:${port}`, '--http-tokens', tokens])
    const base = `http://127.0.0.1:${port}`

    if (!existsSync(CHROMIUM)) {
      process.stderr.write(`dashboard test: no browser at ${CHROMIUM} (apt-get install chromium); checking the page and its live stream without one\n`)
      const page = await (await fetch(`${base}/`)).text()
      expect(page).toContain('<title>peerqueue</title>')
      const stream = await fetch(`${base}/v1/events?token=${TOKEN}`)
      const reader = stream.body!.getReader()
      const first = new TextDecoder().decode((await reader.read()).value)
      await reader.cancel()
      expect(first).toContain('event: tick')
      return
    }

    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS })
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    await page.goto(`${base}/#token=${TOKEN}`)
    await expect.poll(() => page.textContent('#conn'), { timeout: 15_000 }).toBe('live')

    const made = await api(base, '/jobs', { jobs: [...Array.from({ length: 5 }, (_, i) => ({ name: 'echo', payload: { text: `live ${i}` } })), { name: 'echo', payload: { text: 'later' }, delayMs: 600_000 }] })
    const ids = (made.jobs as { id: string }[]).map((j) => j.id)
    const later = ids[5]!
    // The rows arrive over the event stream, not a reload.
    for (const id of ids.slice(0, 5)) await page.locator(`tr.job[data-id="${id}"] >> text=completed`).waitFor({ timeout: 15_000 })
    await page.locator(`tr.job[data-id="${later}"]`).waitFor({ timeout: 15_000 })
    await expect.poll(() => page.textContent('[data-state="completed"]'), { timeout: 10_000 }).toBe('5')

    await page.click(`tr.job[data-id="${later}"]`)
    await page.locator('#detail-actions button[data-act="cancel"]').click()
    await expect.poll(() => page.textContent('[data-detail-state]'), { timeout: 10_000 }).toBe('cancelled')
    expect((await api(base, `/jobs/${later}`)).state).toBe('cancelled')

    if (process.env.PEERQUEUE_SCREENSHOT) {
      await mkdir(join(REPO, 'docs'), { recursive: true })
      await page.screenshot({ path: join(REPO, 'docs', 'dashboard.png') })
    }
  })
})
