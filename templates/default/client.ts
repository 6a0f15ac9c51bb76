// Submits a few jobs to the running queue and prints their results.
// Start the queue first (npm run dev), then: npm run client
import { connect } from '@peerqueue/sdk/client'
import type hello from './jobs/hello.ts'

const queue = await connect({ registry: './registry.yaml' })
try {
  const names = ['Ada', 'Grace', 'Edsger']
  const jobs = await Promise.all(names.map((name) => queue.enqueue<typeof hello>('hello', { name })))
  for (const job of jobs) {
    const result = await job.result({ timeoutMs: 30_000 })
    console.log(`${job.id}: ${result.greeting}`)
  }
} finally {
  await queue.close()
}
