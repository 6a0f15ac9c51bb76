import { describe, expect, it } from 'vitest'
import { PEER_SEMI_SPACE_MB, restartArgs } from './young-generation.js'

describe('a peer command starts again with a small young generation', () => {
  it('adds the flag after Node options and before the script and its arguments', () => {
    expect(restartArgs('/bin/node', ['--enable-source-maps'], ['/bin/node', '/app/queue-runtime.mjs', 'start', '--no-work'])).toEqual([
      '/bin/node',
      '--enable-source-maps',
      `--max-semi-space-size=${PEER_SEMI_SPACE_MB}`,
      '/app/queue-runtime.mjs',
      'start',
      '--no-work',
    ])
  })

  it('leaves a size the user chose, on the command line or in NODE_OPTIONS, and never restarts twice', () => {
    expect(restartArgs('/bin/node', ['--max-semi-space-size=32'], ['/bin/node', 'q.mjs', 'start'])).toBeUndefined()
    expect(restartArgs('/bin/node', [], ['/bin/node', 'q.mjs', 'start'], '--max-old-space-size=512 --max-semi-space-size=16')).toBeUndefined()
    const once = restartArgs('/bin/node', [], ['/bin/node', 'q.mjs', 'start'])!
    expect(restartArgs('/bin/node', once.slice(1, 2), ['/bin/node', 'q.mjs', 'start'])).toBeUndefined()
  })
})
