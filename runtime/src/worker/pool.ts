// The Piscina pool of handler threads. A run ends in one of three ways: the handler returns or
// throws; it honours ctx.signal after a timeout or cancel; or it ignores the signal and, after a
// grace period, its thread is terminated. A thread that dies (process.exit) fails only its run.
import type { ChildOutcome } from '../queue/job.js'
import { BroadcastChannel } from 'node:worker_threads'
import { dirname, join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Piscina } from 'piscina'
import { errorMessage } from '../errors.js'
import {
  ABORT_CHANNEL,
  PROGRESS_CHANNEL,
  type AbortMessage,
  type HandlerInfo,
  type ProgressMessage,
  type RunOutcome,
  type ThreadTask,
  type ValidateOutcome,
} from './messages.js'

export const ABORT_GRACE_MS = 1_000

export interface RunRequest {
  readonly bundle: string
  readonly jobId: string
  readonly attempt: number
  readonly payload: string
  readonly timeoutMs: number
  readonly children?: readonly ChildOutcome[]
}

interface ActiveRun {
  readonly kill: AbortController
  killTimer: NodeJS.Timeout | undefined
  killReason: string | undefined
}

export class HandlerPool {
  private readonly piscina: Piscina<ThreadTask, HandlerInfo | ValidateOutcome[] | RunOutcome>
  private readonly abortChannel = new BroadcastChannel(ABORT_CHANNEL)
  private readonly progressChannel = new BroadcastChannel(PROGRESS_CHANNEL)
  private readonly active = new Map<string, ActiveRun>()

  constructor(threads: number, onProgress: (message: ProgressMessage) => void) {
    this.piscina = new Piscina({
      filename: threadFile(),
      // No thread while there is nothing to run: an idle peer (a trusted peer with --no-work, a
      // worker waiting for jobs) holds none of the ~14 MB each costs once idleTimeout passes.
      minThreads: 0,
      maxThreads: Math.max(1, threads),
      idleTimeout: 30_000,
      // A thread is terminated to stop a runaway handler, so it must hold one run only.
      concurrentTasksPerWorker: 1,
    })
    this.progressChannel.onmessage = (event) => onProgress((event as { data: ProgressMessage }).data)
    this.progressChannel.unref()
    this.abortChannel.unref()
  }

  get threads(): number {
    return this.piscina.maxThreads
  }

  describe(bundle: string, source: string): Promise<HandlerInfo> {
    return this.piscina.run({ kind: 'describe', bundle, source }) as Promise<HandlerInfo>
  }

  validate(bundle: string, payloads: readonly string[]): Promise<ValidateOutcome[]> {
    return this.piscina.run({ kind: 'validate', bundle, payloads }) as Promise<ValidateOutcome[]>
  }

  async run(request: RunRequest): Promise<RunOutcome> {
    const run: ActiveRun = { kill: new AbortController(), killTimer: undefined, killReason: undefined }
    this.active.set(request.jobId, run)
    run.killTimer = setTimeout(
      () => this.kill(run, `timed out after ${request.timeoutMs} ms and did not stop when ctx.signal aborted, so its thread was terminated`),
      request.timeoutMs + ABORT_GRACE_MS,
    )
    try {
      return (await this.piscina.run({ kind: 'run', ...request }, { signal: run.kill.signal })) as RunOutcome
    } catch (err) {
      if (run.killReason !== undefined) return { ok: false, error: { name: 'TimeoutError', message: run.killReason, retryable: true } }
      return { ok: false, error: { name: 'ThreadExited', message: `the handler's thread ended abruptly: ${errorMessage(err)}`, retryable: true } }
    } finally {
      clearTimeout(run.killTimer)
      this.active.delete(request.jobId)
    }
  }

  /** Aborts ctx.signal of a running job now, and terminates its thread if it is still running after the grace period. */
  abort(jobId: string, reason: string): void {
    const run = this.active.get(jobId)
    if (!run) return
    const message: AbortMessage = { jobId, reason }
    this.abortChannel.postMessage(message)
    clearTimeout(run.killTimer)
    run.killTimer = setTimeout(() => this.kill(run, `${reason}; the handler did not stop, so its thread was terminated`), ABORT_GRACE_MS)
  }

  async close(): Promise<void> {
    for (const [jobId] of this.active) this.abort(jobId, 'the peer is shutting down')
    this.abortChannel.close()
    this.progressChannel.close()
    await this.piscina.close({ force: true })
  }

  private kill(run: ActiveRun, reason: string): void {
    run.killReason = reason
    run.kill.abort(new Error(reason))
  }
}

/**
 * Threads load compiled JavaScript: dist/worker/thread.js beside this file, or beside the CLI
 * bundle (dist/queue-runtime.mjs), also when the peer itself runs from TypeScript sources in tests.
 */
function threadFile(): string {
  const here = fileURLToPath(import.meta.url)
  if (here.endsWith('.ts')) return here.replace(/\/src\/worker\/pool\.ts$/, '/dist/worker/thread.js')
  return join(dirname(here), here.endsWith(`${sep}worker${sep}pool.js`) ? '' : 'worker', 'thread.js')
}
