// The file operations the durable stores use (the write-ahead log, snapshots, durable files),
// gathered so that a store can run on another file system: a disk that fills up in tests, or
// the simulator's in-memory disk that loses what was not synced when its node crashes.
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises'
import type { OpenFile, WritableFile } from './durable-file.js'

export interface FileSystem {
  readonly open: OpenFile
  /** Creates the folder and its parents; nothing if it exists. */
  mkdir(path: string): Promise<void>
  readdir(path: string): Promise<string[]>
  /** The file's bytes; rejects with code ENOENT if it does not exist. */
  readFile(path: string): Promise<Buffer>
  /** Removes a file; nothing if it does not exist. */
  rm(path: string): Promise<void>
  rename(from: string, to: string): Promise<void>
  /** Makes the folder's entries (new files, renames, removals) durable. */
  syncDir(dir: string): Promise<void>
}

export const nodeFileSystem: FileSystem = {
  open: (path, flags, mode) => open(path, flags, mode) as Promise<WritableFile & Awaited<ReturnType<typeof open>>>,
  mkdir: async (path) => {
    await mkdir(path, { recursive: true })
  },
  readdir: (path) => readdir(path),
  readFile: (path) => readFile(path),
  rm: (path) => rm(path, { force: true }),
  rename: (from, to) => rename(from, to),
  syncDir: async (dir) => {
    const handle = await open(dir, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  },
}
