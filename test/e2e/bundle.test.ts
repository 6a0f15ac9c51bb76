// The CLI bundle every peer runs (built by `npm run build`, runtime/scripts/bundle.mjs).
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO } from '../helpers/project.js'

describe('the CLI bundle', () => {
  it('is ASCII only, so V8 keeps its source at one byte a character in every peer', async () => {
    for (const file of ['queue-runtime.mjs', 'discovery-modules.js']) {
      const text = await readFile(join(REPO, 'runtime', 'dist', file), 'utf8')
      expect(text.length).toBeGreaterThan(100_000)
      const found = /[^\x00-\x7f]/.exec(text)
      expect(found ? `${file}: ${JSON.stringify(text.slice(Math.max(0, found.index - 60), found.index + 20))}` : undefined).toBeUndefined()
    }
  })
})
