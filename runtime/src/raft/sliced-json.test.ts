import { crc32 } from 'node:zlib'
import { describe, expect, it, vi } from 'vitest'
import { writeJsonInSlices } from './sliced-json.js'

/** The whole text and its CRC, gathered from the pieces. */
async function stringifyInSlices(value: unknown, slice: number): Promise<{ text: string; crc: number }> {
  const parts: string[] = []
  const crc = await writeJsonInSlices(value, (text) => void parts.push(text), slice)
  return { text: parts.join(''), crc }
}

describe('JSON made a slice at a time', () => {
  it('gives JSON.stringify\'s text and its CRC-32, large arrays and all', async () => {
    const values: unknown[] = [
      { index: 3, data: { queue: { jobs: Array.from({ length: 2_345 }, (_, i) => ({ id: `j${i}`, note: i % 7 === 0 ? undefined : 'é"\n', n: i })), paused: [] }, lastTime: 5 } },
      Array.from({ length: 25 }, (_, i) => (i % 4 === 0 ? undefined : { i })),
      { skip: undefined, f: () => 1, nested: { list: Array.from({ length: 12 }, (_, i) => [i, null]) } },
      'text',
      42,
      null,
    ]
    for (const value of values) {
      const { text, crc } = await stringifyInSlices(value, 10)
      expect(text).toBe(JSON.stringify(value))
      expect(crc).toBe(crc32(JSON.stringify(value)))
    }
  })

  it('lets the event loop run between slices', async () => {
    let turns = 0
    let running = true
    const spin = () => {
      turns++
      if (running) setImmediate(spin)
    }
    setImmediate(spin)
    await stringifyInSlices({ jobs: Array.from({ length: 50_000 }, (_, i) => ({ id: i })) }, 1_000)
    running = false
    expect(turns).toBeGreaterThanOrEqual(40)
  })

  it('hands the text on in pieces as it is made, each awaited before the next slice', async () => {
    const value = { index: 9, data: { jobs: Array.from({ length: 20_000 }, (_, i) => ({ id: `job-${i}`, payload: 'x'.repeat(40) })) } }
    const pieces: string[] = []
    let busy = false
    const crc = await writeJsonInSlices(value, async (text) => {
      expect(busy).toBe(false)
      busy = true
      pieces.push(text)
      await new Promise((resolve) => setImmediate(resolve))
      busy = false
    })
    expect(pieces.length).toBeGreaterThan(2)
    expect(pieces.join('')).toBe(JSON.stringify(value))
    expect(crc).toBe(crc32(JSON.stringify(value)))
  })

  it('sleeps between slices (a timer, not only a turn), so the process gives up its core', async () => {
    const timers = vi.spyOn(globalThis, 'setTimeout')
    try {
      await stringifyInSlices({ jobs: Array.from({ length: 10_000 }, (_, i) => ({ id: i })) }, 1_000)
      const rests = timers.mock.calls.filter(([, ms]) => typeof ms === 'number' && ms >= 1)
      expect(rests.length).toBeGreaterThanOrEqual(10)
    } finally {
      timers.mockRestore()
    }
  })
})
