// The guard keeps a process alive through a write to a just-closed stream thrown where no caller
// can catch it (as Yamux does from a microtask), and still ends it for anything else.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isClosedStreamRace } from './crash-guard.js'

const guard = join(import.meta.dirname, 'crash-guard.ts')

function runWith(thrown: string) {
  const script = `
    import { installCrashGuard } from ${JSON.stringify(guard)}
    installCrashGuard((line) => console.log(line))
    queueMicrotask(() => { ${thrown} })
    setTimeout(() => { console.log('still alive'); process.exit(0) }, 200)
  `
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
}

describe('the crash guard', () => {
  it('recognises a write to a closed stream', () => {
    const race = Object.assign(new Error('Cannot write to a stream that is closed'), { name: 'StreamStateError' })
    expect(isClosedStreamRace(race)).toBe(true)
    expect(isClosedStreamRace(new Error('Cannot write to a stream that is reset'))).toBe(true)
    expect(isClosedStreamRace(new TypeError('x is undefined'))).toBe(false)
    expect(isClosedStreamRace('a string')).toBe(false)
  })

  it('keeps the process alive through that race, and says so', () => {
    const out = runWith(`const e = new Error('Cannot write to a stream that is closed'); e.name = 'StreamStateError'; throw e`)
    expect(out.status).toBe(0)
    expect(out.stdout).toContain('ignored 1 write(s) to a connection that had just closed')
    expect(out.stdout).toContain('still alive')
  })

  it('still ends the process, with the stack, for any other uncaught error', () => {
    const out = runWith(`throw new TypeError('a real bug')`)
    expect(out.status).toBe(1)
    expect(out.stderr).toContain('TypeError: a real bug')
    expect(out.stdout).not.toContain('still alive')
  })
})
