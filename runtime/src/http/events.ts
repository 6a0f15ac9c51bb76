// /v1/events: a server-sent event stream for the dashboard. Every second a `tick` with the
// status, the jobs that completed in that second and their median enqueue-to-result time;
// between ticks, `job` events for state changes, at most MAX_JOB_EVENTS_PER_SECOND (the rest
// are counted as dropped: a busy queue changes thousands of jobs a second).
import type { Context } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { JobRecord } from '../queue/job.js'
import type { HttpHost } from './host.js'

const TICK_MS = 1_000
const MAX_JOB_EVENTS_PER_SECOND = 200

export function eventStream(c: Context, host: HttpHost): Response {
  return streamSSE(c, async (stream) => {
    let sent = 0
    let dropped = 0
    let completed = 0
    let latencies: number[] = []
    const pending: JobRecord[] = []
    const stop = host.onJobChange((job) => {
      if (job.state === 'completed') {
        completed++
        latencies.push((job.finishedAt ?? job.updatedAt) - job.enqueuedAt)
      }
      if (sent + pending.length < MAX_JOB_EVENTS_PER_SECOND) pending.push(job)
      else dropped++
    })
    const flush = async () => {
      for (const job of pending.splice(0)) {
        sent++
        await stream.writeSSE({ event: 'job', data: JSON.stringify({ id: job.id, name: job.name, state: job.state, attempt: job.attempt, progress: job.progress ?? null, error: job.error?.message ?? null, at: job.updatedAt }) })
      }
    }
    const tick = async () => {
      latencies.sort((a, b) => a - b)
      const p50Ms = latencies.length > 0 ? latencies[Math.floor(latencies.length / 2)]! : null
      await stream.writeSSE({ event: 'tick', data: JSON.stringify({ status: host.status(), completedPerSecond: completed, p50Ms, droppedJobEvents: dropped }) })
      completed = 0
      latencies = []
      sent = 0
      dropped = 0
    }
    let closed = false
    stream.onAbort(() => {
      closed = true
    })
    try {
      await tick()
      let last = Date.now()
      while (!closed) {
        await stream.sleep(100)
        await flush()
        if (Date.now() - last >= TICK_MS) {
          last = Date.now()
          await tick()
        }
      }
    } finally {
      stop()
    }
  })
}
