// `start --permission`: the peer runs under Node's permission model, so that deployed handler
// code (which runs in its threads) cannot start processes or write outside the peer's data
// folder. Node takes the model from flags at start-up, so the command starts itself again with
// them and passes signals and its exit code through. Network access is not limited by it.
import { spawn } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import { PeerqueueError } from '../errors.js'

/** Whether this process already runs under the permission model. */
export function underPermissionModel(): boolean {
  return (process as { permission?: unknown }).permission !== undefined
}

export async function restartUnderPermissionModel(dataDir: string, jobsDir: string | undefined): Promise<number> {
  if (jobsDir !== undefined) {
    throw new PeerqueueError('E_USAGE', '--permission runs deployed code only: bundling a jobs/ folder needs esbuild, a child process the permission model forbids. Deploy the handlers (queue-runtime deploy) and start without --jobs')
  }
  const data = resolve(dataDir)
  await mkdir(data, { recursive: true })
  const flags = ['--permission', '--allow-worker', '--allow-fs-read=*', `--allow-fs-write=${data}`]
  const child = spawn(process.execPath, [...flags, ...process.execArgv, process.argv[1]!, ...process.argv.slice(2)], { stdio: 'inherit' })
  const forward = (signal: NodeJS.Signals) => child.kill(signal)
  process.on('SIGINT', forward)
  process.on('SIGTERM', forward)
  return new Promise((done) => {
    child.once('exit', (code, signal) => {
      process.off('SIGINT', forward)
      process.off('SIGTERM', forward)
      done(code ?? (signal ? 1 : 0))
    })
  })
}
