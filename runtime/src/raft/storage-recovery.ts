// A member whose disk failed stops writing (see RaftNode.stop); this brings it back once its
// folder takes writes again, as when an operator frees space. It probes with a real durable
// write of a megabyte rather than trusting a free-space figure, then lets the member reopen its
// log, which reads what is really on disk.
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { errorMessage } from '../errors.js'
import { writeFileDurably } from '../fs/durable-file.js'

const PROBE_BYTES = 1 << 20
const FIRST_PROBE_MS = 1_000
const MAX_PROBE_MS = 15_000

export async function takesWritesAgain(dir: string): Promise<boolean> {
  const probe = join(dir, '.write-probe')
  try {
    await writeFileDurably(probe, Buffer.alloc(PROBE_BYTES))
    return true
  } catch {
    return false
  } finally {
    await rm(probe, { force: true }).catch(() => undefined)
  }
}

export class StorageRecovery {
  private timer: NodeJS.Timeout | undefined
  private closed = false
  private waitMs = FIRST_PROBE_MS

  constructor(
    private readonly dir: string,
    /** Opens the member's storage again; throws if it cannot (then the probing goes on). */
    private readonly reopen: () => Promise<void>,
    private readonly log?: (line: string) => void,
  ) {}

  /** Starts probing (again) after a failure; one probe loop at a time. */
  begin(): void {
    if (this.closed || this.timer) return
    this.log?.(`peerqueue: will rejoin once ${this.dir} takes writes again (probing every ${FIRST_PROBE_MS / 1000}-${MAX_PROBE_MS / 1000} s)`)
    this.waitMs = FIRST_PROBE_MS
    this.schedule()
  }

  close(): void {
    this.closed = true
    clearTimeout(this.timer)
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.probe(), this.waitMs)
    this.timer.unref()
  }

  private async probe(): Promise<void> {
    if (this.closed) return
    if (await takesWritesAgain(this.dir)) {
      try {
        await this.reopen()
        this.timer = undefined
        this.log?.(`peerqueue: ${this.dir} takes writes again; reopened the log and rejoined`)
        return
      } catch (err) {
        this.log?.(`peerqueue: could not reopen the log in ${this.dir}: ${errorMessage(err)}`)
      }
    }
    if (this.closed) return
    this.waitMs = Math.min(MAX_PROBE_MS, this.waitMs * 2)
    this.schedule()
  }
}
