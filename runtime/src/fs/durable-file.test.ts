import { mkdtemp, readFile, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { writeFileDurably, writeFileInPieces, type WritableFile } from './durable-file.js'
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
  it('written in pieces: each flushEvery bytes durable before more are written, the head written over the start last, then whole', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pq-df-'))
    const { fs, syncs } = countingDisk()
    await writeFileInPieces(
      join(dir, 'big.json'),
      async (write) => {
        await write(Buffer.from('0000\n'))
        for (let i = 0; i < 5; i++) await write(Buffer.from(String(i).repeat(499)))
        return Buffer.from('2500')
      },
      { fs, flushEvery: 900 },
    )
    expect(syncs).toEqual([1_003, 2_001, 2_500])
    expect(await readFile(join(dir, 'big.json'), 'utf8')).toBe(`2500\n${[0, 1, 2, 3, 4].map((i) => String(i).repeat(499)).join('')}`)
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('written in pieces: a failure leaves the old file and no temp file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pq-df-'))
    await writeFileDurably(join(dir, 'kept.json'), 'old')
    const failing = writeFileInPieces(
      join(dir, 'kept.json'),
      async (write) => {
        await write(Buffer.from('new bytes'))
        throw new Error('the producer failed')
      },
      { flushEvery: 4 },
    )
    await expect(failing).rejects.toThrow('the producer failed')
    expect(await readFile(join(dir, 'kept.json'), 'utf8')).toBe('old')
    expect(await readdir(dir)).toEqual(['kept.json'])
  })

  it('written whole, syncs once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pq-df-'))
    const { fs, syncs } = countingDisk()
    await writeFileDurably(join(dir, 'small.json'), 'y'.repeat(2_500), { fs })
    expect(syncs).toEqual([2_500])
  })
})
