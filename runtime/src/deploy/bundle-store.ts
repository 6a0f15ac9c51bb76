// Deployed bundles on disk, named by their SHA-256: a trusted peer keeps every bundle of the
// versions the queue still has, and a worker caches those it ran. A bundle is checked against its
// name when written and again when read, so a damaged file is never loaded.
import { join } from 'node:path'
import { PeerqueueError } from '../errors.js'
import { writeFileDurably } from '../fs/durable-file.js'
import { nodeFileSystem, type FileSystem } from '../fs/file-system.js'
import { bundleHash } from './manifest.js'

const NAME = /^([0-9a-f]{64})\.mjs$/

export class BundleStore {
  constructor(
    readonly dir: string,
    private readonly fs: FileSystem = nodeFileSystem,
  ) {}

  /** Where a bundle lives once stored: what the handler threads import. */
  path(hash: string): string {
    return join(this.dir, `${hash}.mjs`)
  }

  async has(hash: string): Promise<boolean> {
    return (await this.read(hash)) !== undefined
  }

  /** The bundle's bytes, or undefined if it is not here (or its file no longer matches its hash). */
  async read(hash: string): Promise<Buffer | undefined> {
    try {
      const bytes = await this.fs.readFile(this.path(hash))
      return bundleHash(bytes) === hash ? bytes : undefined
    } catch {
      return undefined
    }
  }

  /** Stores `bytes` under `hash`, durably; refuses bytes that are not what the hash names. */
  async put(hash: string, bytes: Uint8Array): Promise<void> {
    if (bundleHash(bytes) !== hash) throw new PeerqueueError('E_BUNDLE_MISMATCH', `a bundle said to be ${hash.slice(0, 12)}… hashes to ${bundleHash(bytes).slice(0, 12)}…; refused`)
    if (await this.has(hash)) return
    await this.fs.mkdir(this.dir)
    await writeFileDurably(this.path(hash), bytes, { fs: this.fs })
  }

  async list(): Promise<string[]> {
    const names = await this.fs.readdir(this.dir).catch(() => [] as string[])
    return names.map((n) => NAME.exec(n)?.[1]).filter((h): h is string => h !== undefined)
  }

  /** Removes every bundle not in `keep`; returns how many went. */
  async keepOnly(keep: ReadonlySet<string>): Promise<number> {
    let removed = 0
    for (const hash of await this.list()) {
      if (keep.has(hash)) continue
      await this.fs.rm(this.path(hash))
      removed += 1
    }
    return removed
  }
}
