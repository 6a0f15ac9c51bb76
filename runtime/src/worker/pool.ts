// The Piscina pool of handler threads: one thread per core, each running several handlers at
// once (async handlers interleave, as in one event loop), so `concurrency` runs cost a thread
// per core rather than a thread each. A run ends in one of three ways: the handler returns or
// throws; it honours ctx.signal after a timeout or cancel; or it ignores the signal and, after a
// grace period, its thread is terminated. A thread that dies takes the runs it held with it:
// theirs fail as retryable and run again (at-least-once), the others go on.
import type { ChildOutcome } from '../queue/job.js'
import { availableParallelism } from 'node:os'
import { BroadcastChannel } from 'node:worker_threads'
import { dirname, join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Piscina } from 'piscina'
import { errorMessage } from '../errors.js'
import { RunCells } from './run-cells.js'
import {
  ABORT_CHANNEL,
  PROGRESS_CHANNEL,
  type AbortMessage,
  type HandlerInfo,
  type ProgressMessage,
  type RunOutcome,
  type ThreadData,
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
  killTimer: NodeJS.Timeout | undefined
  killReason: string | undefined
  /** Where its thread writes its id as the run starts. */
  readonly cell: number
  /** Ends the wait for the run at once (its thread is being terminated, or it had not started on one). */
  giveUp: (reason: Error) => void
}

export class HandlerPool {
  private readonly piscina: Piscina<ThreadTask, HandlerInfo | ValidateOutcome[] | RunOutcome>
  private readonly abortChannel = new BroadcastChannel(ABORT_CHANNEL)
  private readonly progressChannel = new BroadcastChannel(PROGRESS_CHANNEL)
  private readonly cells: RunCells
  /** What every thread of this pool, and each thread that reads handlers, starts with. */
  private readonly threadOptions: { readonly workerData: ThreadData; readonly filename: string; readonly recordTiming: false }
  private readonly active = new Map<string, ActiveRun>()
  /** Runs at once, across every thread. */
  readonly slots: number

  constructor(concurrency: number, onProgress: (message: ProgressMessage) => void) {
    this.slots = Math.max(1, concurrency)
    // More threads than cores only adds start-up, memory and scheduling: handlers are mostly
    // asynchronous, and a thread runs several at once.
    const threads = Math.min(this.slots, availableParallelism())
    // Room for every slot, and for runs given up on (their cells come back when their tasks settle).
    this.cells = new RunCells(2 * this.slots + 16)
    // Piscina's run- and wait-time histograms (recordTiming) are 0.35 MB of native memory each, and nothing reads them.
    this.threadOptions = { workerData: { runCells: this.cells.buffer }, filename: threadFile(), recordTiming: false }
    this.piscina = new Piscina({
      ...this.threadOptions,
      // No thread while there is nothing to run: an idle peer (a trusted peer with --no-work, a
      // worker waiting for jobs) holds none of the ~14 MB each costs once idleTimeout passes.
      minThreads: 0,
      maxThreads: threads,
      idleTimeout: 30_000,
      concurrentTasksPerWorker: Math.ceil(this.slots / threads),
    })
    this.progressChannel.onmessage = (event) => onProgress((event as { data: ProgressMessage }).data)
    this.progressChannel.unref()
    this.abortChannel.unref()
  }

  /** Threads alive now (none while idle). */
  get liveThreads(): number {
    return this.piscina.threads.length
  }

  /**
   * Loads each bundle in a thread of its own that ends once they are all read, rather than in
   * the pool: a peer describes its handlers as it starts, and a pool thread started for that
   * would stay, idle, until idleTimeout passed. Each result is the bundle's info or its error.
   */
  async describe(bundles: readonly { readonly bundle: string; readonly source: string }[]): Promise<PromiseSettledResult<HandlerInfo>[]> {
    const reader = new Piscina<ThreadTask, HandlerInfo>({ ...this.threadOptions, minThreads: 0, maxThreads: 1, concurrentTasksPerWorker: Math.max(1, bundles.length) })
    try {
      return await Promise.allSettled(bundles.map(({ bundle, source }) => reader.run({ kind: 'describe', bundle, source })))
    } finally {
      await reader.close()
    }
  }

  validate(bundle: string, payloads: readonly string[]): Promise<ValidateOutcome[]> {
    return this.piscina.run({ kind: 'validate', bundle, payloads }) as Promise<ValidateOutcome[]>
  }

  async run(request: RunRequest): Promise<RunOutcome> {
    let giveUp: (reason: Error) => void = () => undefined
    const givenUp = new Promise<never>((_, reject) => (giveUp = reject))
    const run: ActiveRun = { killTimer: undefined, killReason: undefined, cell: this.cells.take(), giveUp }
    this.active.set(request.jobId, run)
    run.killTimer = setTimeout(
      () => this.kill(run, `timed out after ${request.timeoutMs} ms and did not stop when ctx.signal aborted, so its thread was terminated`),
      request.timeoutMs + ABORT_GRACE_MS,
    )
    try {
      const task = this.piscina.run({ kind: 'run', ...request, cell: run.cell })
      // A run given up on may still start later in its thread: its cell is not reused until then.
      void task.then(
        () => this.cells.release(run.cell),
        () => this.cells.release(run.cell),
      )
      return (await Promise.race([task, givenUp])) as RunOutcome
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

  /**
   * A handler that ignores its signal may be stuck in a loop that never yields: only ending its
   * thread stops it. The other runs on that thread fail with ThreadExited and run again.
   */
  private kill(run: ActiveRun, reason: string): void {
    run.killReason = reason
    const threadId = this.cells.threadOf(run.cell)
    const thread = threadId === undefined ? undefined : this.piscina.threads.find((t) => t.threadId === threadId)
    void thread?.terminate()
    run.giveUp(new Error(reason))
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
