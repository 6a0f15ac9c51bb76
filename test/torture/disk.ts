// A small filesystem of its own for a peer's data, so that the harness can fill it: a tmpfs
// mount (root on Linux). Filling writes a ballast file until the disk says ENOSPC; freeing
// removes it.
import { execFileSync } from 'node:child_process'
import { mkdir, open, rm } from 'node:fs/promises'
import { join } from 'node:path'

export function canMountTmpfs(probeDir: string): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false
  try {
    execFileSync('mkdir', ['-p', probeDir])
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probeDir], { stdio: 'ignore' })
    execFileSync('umount', [probeDir], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

export class SmallDisk {
  private constructor(readonly dir: string) {}

  static async mount(dir: string, size: string): Promise<SmallDisk> {
    await mkdir(dir, { recursive: true })
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir])
    return new SmallDisk(dir)
  }

  private get ballast(): string {
    return join(this.dir, 'ballast')
  }

  /** Writes until the disk is full; returns the bytes it took. */
  async fill(): Promise<number> {
    const file = await open(this.ballast, 'a')
    let written = 0
    try {
      for (const size of [1 << 20, 1 << 12, 1]) {
        const chunk = Buffer.alloc(size)
        for (;;) {
          try {
            const { bytesWritten } = await file.write(chunk)
            written += bytesWritten
            if (bytesWritten < size) break
          } catch {
            break
          }
        }
      }
    } finally {
      await file.close()
    }
    return written
  }

  async free(): Promise<void> {
    await rm(this.ballast, { force: true })
  }

  unmount(): void {
    execFileSync('umount', ['-l', this.dir])
  }
}
