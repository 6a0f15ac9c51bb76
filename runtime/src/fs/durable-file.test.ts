import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { writeFileDurably, type WritableFile } from './durable-file.js'
import { nodeFileSystem, type FileSystem } from './file-system.js'

/** The real disk, counting each file's fdatasyncs and the bytes written before each. */
function countingDisk(): { fs: FileSystem; syncs: number[] } {
  const syncs: number[] = []
  const fs: FileSystem = {
    ...nodeFileSystem,
    async open(path, flags, mode) {
      const file = await nodeFileSystem.open(path, flags, mode)
      let written = 0
      const counted: WritableFile = {
        writev: async (buffers, position) => {
          const result = await file.writev(buffers, position)
          written = Math.max(written, position + result.bytesWritten)
          return result
        },
        datasync: async () => {
          syncs.push(written)
          await file.datasync()
        },
        sync: async () => {
          syncs.push(written)
          await file.sync()
        },
        truncate: (length) => file.truncate(length),
        close: () => file.close(),
      }
      return counted
    },
  }
  return { fs, syncs }
}

describe('durable files', () => {
  it('with flushEvery, makes each piece durable before writing the next, and ends whole', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pq-df-'))
    const { fs, syncs } = countingDisk()
    const text = 'x'.repeat(2_500)
    await writeFileDurably(join(dir, 'big.json'), text, { fs, flushEvery: 1_000 })
    expect(syncs).toEqual([1_000, 2_000, 2_500])
    expect(await readFile(join(dir, 'big.json'), 'utf8')).toBe(text)
  })

  it('without it, syncs once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pq-df-'))
    const { fs, syncs } = countingDisk()
    await writeFileDurably(join(dir, 'small.json'), 'y'.repeat(2_500), { fs })
    expect(syncs).toEqual([2_500])
  })
})
