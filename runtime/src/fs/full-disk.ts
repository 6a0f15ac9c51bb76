// A disk that fills up, for tests and fault injection: files opened through it write to the real
// filesystem until a byte budget runs out, and then behave as a full disk does — the write that
// crosses the budget comes back short without an error, later ones fail with ENOSPC (or, if asked,
// return having written nothing). fsync can be made to fail with EIO.
import { open } from 'node:fs/promises'
import type { OpenFile, WritableFile } from './durable-file.js'
import { nodeFileSystem, type FileSystem } from './file-system.js'

export interface FullDiskOptions {
  /** Bytes that may still be written, across every file opened through this disk. */
  readonly capacity: number
  /** When full, return 0 bytes written instead of failing with ENOSPC. */
  readonly stall?: boolean
}

export class FullDisk {
  private room: number
  private syncFails = false
  syncCalls = 0

  constructor(private readonly options: FullDiskOptions) {
    this.room = options.capacity
  }

  /** Bytes written so far through this disk. */
  get used(): number {
    return this.options.capacity - this.room
  }

  /** From now on every fsync fails with EIO. */
  failSyncs(): void {
    this.syncFails = true
  }

  readonly open: OpenFile = async (path, flags, mode) => {
    const real = await open(path, flags, mode)
    const file: WritableFile = {
      writev: async (buffers, position) => {
        if (this.room <= 0) {
          if (this.options.stall) return { bytesWritten: 0 }
          throw errno('ENOSPC', 'no space left on device', path)
        }
        const kept = take(buffers, this.room)
        const { bytesWritten } = await real.writev(kept, position)
        this.room -= bytesWritten
        return { bytesWritten }
      },
      datasync: () => this.sync(() => real.datasync(), path),
      sync: () => this.sync(() => real.sync(), path),
      truncate: (length) => real.truncate(length),
      close: () => real.close(),
    }
    return file
  }

  /** The real file system, but with files opened through this disk. */
  get fs(): FileSystem {
    return { ...nodeFileSystem, open: this.open }
  }

  private async sync(real: () => Promise<void>, path: string): Promise<void> {
    this.syncCalls += 1
    if (this.syncFails) throw errno('EIO', 'i/o error', path)
    await real()
  }
}

/** The first `limit` bytes of `buffers`. */
function take(buffers: readonly NodeJS.ArrayBufferView[], limit: number): Uint8Array[] {
  const out: Uint8Array[] = []
  let left = limit
  for (const view of buffers) {
    if (left <= 0) break
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength)
    out.push(bytes.length <= left ? bytes : bytes.subarray(0, left))
    left -= bytes.length
  }
  return out
}

function errno(code: string, text: string, path: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: ${text}, write '${path}'`)
  err.code = code
  return err
}
