// What tests of a running cluster share: the status as the client sees it, and the tear-down
// that prints each peer's output when a test failed.
import type { Queue } from '@peerqueue/sdk/client'
import type { PeerStatus } from '@peerqueue/runtime/client'
import type { TestCluster } from './cluster.js'

export async function statusOf(queue: Queue): Promise<PeerStatus> {
  return (queue as unknown as { client: { status(): Promise<PeerStatus> } }).client.status()
}

export async function tearDown(failed: boolean, cluster: TestCluster | undefined, queues: Queue[]): Promise<void> {
  if (failed && cluster) process.stderr.write(`${cluster.dump()}\n`)
  for (const q of queues.splice(0)) await q.close().catch(() => undefined)
  await cluster?.stopAll()
}
