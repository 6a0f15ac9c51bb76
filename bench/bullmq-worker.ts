// The baseline's worker process: one BullMQ Worker with the same no-op handler.
//   node bullmq-worker.mjs <redis port> <queue name> <concurrency>
import { Worker } from 'bullmq'

const [port, queueName, concurrency] = process.argv.slice(2)
const worker = new Worker(queueName!, async () => null, { connection: { host: '127.0.0.1', port: Number(port) }, concurrency: Number(concurrency) })
await worker.waitUntilReady()
process.stdout.write('bullmq worker ready\n')
process.once('SIGTERM', () => void worker.close().then(() => process.exit(0)))
