// One process per data directory: two writers on one log would interleave records.
import { open, readFile, rm, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { PeerqueueError, errorMessage } from './errors.js'

export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  try {
    await mkdir(dir, { recursive: true })
  } catch (err) {
    throw new PeerqueueError('E_DATA_DIR', `cannot use ${dir} for this peer's data: ${errorMessage(err)} (choose another with --data)`)
  }
  const path = join(dir, 'LOCK')
  for (let tries = 0; tries < 2; tries++) {
    try {
      const file = await open(path, 'wx')
      await file.writeFile(String(process.pid))
      await file.close()
      return () => rm(path, { force: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const holder = Number(await readFile(path, 'utf8').catch(() => ''))
      if (holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new PeerqueueError('E_DATA_LOCKED', `${dir} is in use by process ${holder}; give this peer its own --data directory`)
      }
      await rm(path, { force: true })
    }
  }
  throw new PeerqueueError('E_DATA_LOCKED', `cannot lock ${dir}`)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
