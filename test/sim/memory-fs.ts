// A node's disk in the shell simulation, in memory and deterministic. Writes land in a cache:
// a file's bytes are durable only once it is synced, and a folder's entries (new files,
// renames, removals) only once the folder is synced. A crash keeps what was durable plus, for
// each file, a random prefix of what was written after its last sync — as a power cut may —
// and every handle opened before it goes dead (its calls never return). A disk can also fill:
// a write that crosses its capacity comes back short, later ones fail with ENOSPC.
import { dirname } from 'node:path'
import type { WritableFile } from '../../runtime/src/fs/durable-file.js'
import type { FileSystem } from '../../runtime/src/fs/file-system.js'
import type { Random } from './random.js'

interface Inode {
  bytes: Buffer
  synced: Buffer
}

function errno(code: string, path: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: ${path}`)
  err.code = code
  return err
}

const never = <T>() => new Promise<T>(() => undefined)

export class MemoryFileSystem implements FileSystem {
  private names = new Map<string, Inode>()
  private durableNames = new Map<string, Inode>()
  private readonly dirs = new Set<string>()
  private generation = 0
  /** Bytes that may still be written; Infinity unless the simulator fills the disk. */
  room = Infinity
  /** Syncs waiting for the simulator to let them finish (a slow disk), oldest first. */
  private readonly waiting: (() => void)[] = []
  /** Chance that a sync waits for the next `releaseSyncs` (the window in which a crash loses it). */
  slowSyncs = 0

  constructor(private readonly random: Random) {}

  /** Lets every waiting sync finish. */
  releaseSyncs(): void {
    for (const release of this.waiting.splice(0)) release()
  }

  /**
   * The process ends (killed, or restarted by its operator) but the machine stays up: what it
   * wrote stays in the page cache for the next process, and its handles die with it.
   */
  processExit(): void {
    this.generation += 1
    this.waiting.length = 0
  }

  /** A power cut: see the module comment. */
  crash(): void {
    this.generation += 1
    this.waiting.length = 0
    const kept = new Map<string, Inode>()
    for (const [path, inode] of this.durableNames) {
      const extra = inode.bytes.length > inode.synced.length && inode.bytes.subarray(0, inode.synced.length).equals(inode.synced) ? this.random.int(0, inode.bytes.length - inode.synced.length) : 0
      const bytes = Buffer.from(inode.bytes.subarray(0, inode.synced.length + extra))
      kept.set(path, { bytes, synced: Buffer.from(bytes) })
    }
    this.names = kept
    this.durableNames = new Map(kept)
  }

  readonly open = async (path: string, flags: string): Promise<WritableFile> => {
    const generation = this.generation
    let inode = this.names.get(path)
    if (flags.includes('x') && inode) throw errno('EEXIST', path)
    if (!inode) {
      if (flags === 'r+' || flags === 'r') throw errno('ENOENT', path)
      inode = { bytes: Buffer.alloc(0), synced: Buffer.alloc(0) }
      this.names.set(path, inode)
    } else if (flags.startsWith('w')) inode.bytes = Buffer.alloc(0)
    const file = inode
    const alive = () => generation === this.generation
    return {
      writev: async (buffers, position) => {
        if (!alive()) return never()
        if (this.room <= 0) throw errno('ENOSPC', path)
        let at = position
        let written = 0
        for (const view of buffers) {
          const bytes = Buffer.from(view.buffer, view.byteOffset, view.byteLength)
          const take = Math.min(bytes.length, this.room - written)
          if (take <= 0) break
          if (file.bytes.length < at + take) file.bytes = Buffer.concat([file.bytes, Buffer.alloc(at + take - file.bytes.length)])
          bytes.copy(file.bytes, at, 0, take)
          at += take
          written += take
        }
        this.room -= written
        return { bytesWritten: written }
      },
      datasync: () => this.sync(alive, () => (file.synced = Buffer.from(file.bytes))),
      sync: () => this.sync(alive, () => (file.synced = Buffer.from(file.bytes))),
      truncate: async (length) => {
        if (!alive()) return never()
        file.bytes = Buffer.from(file.bytes.subarray(0, length))
      },
      close: async () => undefined,
    }
  }

  async mkdir(path: string): Promise<void> {
    for (let dir = path; dir !== dirname(dir); dir = dirname(dir)) this.dirs.add(dir)
  }

  async readdir(path: string): Promise<string[]> {
    if (!this.dirs.has(path)) throw errno('ENOENT', path)
    return [...this.names.keys()].filter((p) => dirname(p) === path).map((p) => p.slice(path.length + 1))
  }

  async readFile(path: string): Promise<Buffer> {
    const inode = this.names.get(path)
    if (!inode) throw errno('ENOENT', path)
    return Buffer.from(inode.bytes)
  }

  async rm(path: string): Promise<void> {
    this.names.delete(path)
  }

  async rename(from: string, to: string): Promise<void> {
    const inode = this.names.get(from)
    if (!inode) throw errno('ENOENT', from)
    this.names.delete(from)
    this.names.set(to, inode)
  }

  syncDir(dir: string): Promise<void> {
    const generation = this.generation
    return this.sync(
      () => generation === this.generation,
      () => {
        for (const path of [...this.durableNames.keys()]) if (dirname(path) === dir && !this.names.has(path)) this.durableNames.delete(path)
        for (const [path, inode] of this.names) if (dirname(path) === dir) this.durableNames.set(path, inode)
      },
    )
  }

  private async sync(alive: () => boolean, done: () => void): Promise<void> {
    if (!alive()) return never()
    if (this.random.chance(this.slowSyncs)) {
      await new Promise<void>((resolve) => this.waiting.push(resolve))
      if (!alive()) return never()
    }
    done()
  }
}
