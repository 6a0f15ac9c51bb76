// BullMQ on Redis, set up the way its users run it: a producer (this process) and one worker
// process with concurrency 50, against a local redis-server.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { Queue, QueueEvents } from 'bullmq'
import { startRedis, type AppendFsync } from './lib/redis.js'
import type { System } from './lib/workload.js'

export interface BullmqSetup {
  readonly system: System
  close(): Promise<void>
}

export async function startBullmq(binary: string, fsync: AppendFsync, concurrency: number, scriptsDir: string): Promise<BullmqSetup> {
  const redis = await startRedis(binary, fsync)
  const connection = { host: '127.0.0.1', port: redis.port }
  const name = `bench-${fsync}`
  const queue = new Queue(name, { connection })
  const events = new QueueEvents(name, { connection })
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()])
  const worker = spawn(process.execPath, [join(scriptsDir, 'bullmq-worker.mjs'), String(redis.port), name, String(concurrency)], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    worker.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve())
    worker.once('exit', (code) => reject(new Error(`the BullMQ worker exited with ${code}`)))
  })
  const system: System = {
    async enqueue(count) {
      await queue.addBulk(Array.from({ length: count }, () => ({ name: 'noop', data: {} })))
    },
    async completed() {
      return (await queue.getJobCounts('completed')).completed ?? 0
    },
    async enqueueAndWait() {
      const job = await queue.add('noop', {})
      await job.waitUntilFinished(events, 30_000)
    },
  }
  return {
    system,
    async close() {
      const exited = new Promise((resolve) => worker.once('exit', resolve))
      worker.kill('SIGTERM')
      await exited
      await events.close()
      await queue.close()
      await redis.stop()
    },
  }
}
