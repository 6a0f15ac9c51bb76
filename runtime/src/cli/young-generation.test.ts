import { describe, expect, it } from 'vitest'
import { PEER_SEMI_SPACE_MB, WORKER_MALLOC_ARENAS, WORKER_SEMI_SPACE_MB, restartFor, takeRegistryDigest } from './young-generation.js'

describe('a peer command starts again with a small young generation', () => {
  it('adds the flag after Node options and before the script and its arguments', () => {
    expect(restartFor('raft', '/bin/node', ['--enable-source-maps'], ['/bin/node', '/app/queue-runtime.mjs', 'start', '--no-work'], {})?.args).toEqual([
      '/bin/node',
      '--enable-source-maps',
      `--max-semi-space-size=${PEER_SEMI_SPACE_MB}`,
      '/app/queue-runtime.mjs',
      'start',
      '--no-work',
    ])
  })

  it('sizes it by role: a worker, whose handlers run in threads of their own, gets less and two malloc arenas', () => {
    const argv = ['/bin/node', 'q.mjs', 'start']
    expect(restartFor('solo', '/bin/node', [], argv, { HOME: '/h' })).toEqual({ args: ['/bin/node', `--max-semi-space-size=${PEER_SEMI_SPACE_MB}`, 'q.mjs', 'start'], env: { HOME: '/h' } })
    expect(restartFor('worker', '/bin/node', [], argv, { HOME: '/h' })).toEqual({
      args: ['/bin/node', `--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`, 'q.mjs', 'start'],
      env: { HOME: '/h', MALLOC_ARENA_MAX: String(WORKER_MALLOC_ARENAS) },
    })
    expect(WORKER_SEMI_SPACE_MB).toBeLessThan(PEER_SEMI_SPACE_MB)
    // The user's own arena count stays.
    expect(restartFor('worker', '/bin/node', [], argv, { MALLOC_ARENA_MAX: '8' })?.env).toEqual({ MALLOC_ARENA_MAX: '8' })
  })

  it('leaves a size the user chose, on the command line or in NODE_OPTIONS, and never restarts twice', () => {
    const argv = ['/bin/node', 'q.mjs', 'start']
    expect(restartFor('worker', '/bin/node', ['--max-semi-space-size=32'], argv, {})).toBeUndefined()
    expect(restartFor('raft', '/bin/node', [], argv, { NODE_OPTIONS: '--max-old-space-size=512 --max-semi-space-size=16' })).toBeUndefined()
    const handedOn = restartFor('raft', '/bin/node', [], argv, { HOME: '/h' }, 'ab12')!
    expect(handedOn.env).toEqual({ HOME: '/h', PEERQUEUE_REGISTRY_KEPT_SHA256: 'ab12' })
    const env: NodeJS.ProcessEnv = { ...handedOn.env }
    expect(takeRegistryDigest(env)).toBe('ab12')
    expect(env).toEqual({ HOME: '/h' })
    expect(takeRegistryDigest(env)).toBeUndefined()
    const once = restartFor('worker', '/bin/node', [], argv, {})!
    expect(restartFor('worker', '/bin/node', once.args.slice(1, 2), argv, once.env)).toBeUndefined()
  })
})
