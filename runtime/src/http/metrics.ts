// /metrics in Prometheus text format. Job counters follow the log as this peer applies it (every
// trusted peer applies every entry, so each reports the same totals); times come from the
// leader's stamps on the entries, never from this peer's clock.
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { JobRecord, JobState } from '../queue/job.js'
import type { HttpHost } from './host.js'

const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]

export function createMetricsRegistry(): Registry {
  return new Registry()
}

/** Registers peerqueue's own metrics on `registry` and follows the host; returns a function that stops following. */
export function collectQueueMetrics(registry: Registry, host: HttpHost): () => void {
  const labels = ['job'] as const
  const enqueued = new Counter({ name: 'peerqueue_jobs_enqueued_total', help: 'Jobs accepted into the queue', labelNames: labels, registers: [registry] })
  const completed = new Counter({ name: 'peerqueue_jobs_completed_total', help: 'Jobs that completed', labelNames: labels, registers: [registry] })
  const failed = new Counter({ name: 'peerqueue_jobs_failed_total', help: 'Attempts that failed and will be retried', labelNames: labels, registers: [registry] })
  const dead = new Counter({ name: 'peerqueue_jobs_dead_total', help: 'Jobs that failed for good (dead-lettered)', labelNames: labels, registers: [registry] })
  const toResult = new Histogram({ name: 'peerqueue_enqueue_to_result_seconds', help: 'From enqueue to completion, by the leader\'s stamps', labelNames: labels, buckets: SECONDS_BUCKETS, registers: [registry] })
  const runTime = new Histogram({ name: 'peerqueue_run_seconds', help: 'From lease to outcome of an attempt, by the leader\'s stamps', labelNames: labels, buckets: SECONDS_BUCKETS, registers: [registry] })
  const fsync = new Histogram({ name: 'peerqueue_fsync_seconds', help: 'Time of each fsync of this peer\'s log', buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5], registers: [registry] })
  const elections = new Counter({ name: 'peerqueue_raft_elections_total', help: 'New Raft terms this peer has seen (each one an election)', registers: [registry] })
  let lastTerm: number | undefined
  // One status a scrape, not one per gauge: every gauge below reads it.
  let cached: { at: number; value: ReturnType<HttpHost['status']> } | undefined
  const status = () => {
    if (cached && performance.now() - cached.at < 250) return cached.value
    const s = host.status()
    if (lastTerm !== undefined && s.term > lastTerm) elections.inc(s.term - lastTerm)
    lastTerm = s.term
    cached = { at: performance.now(), value: s }
    return s
  }
  new Gauge({
    name: 'peerqueue_queue_depth',
    help: 'Jobs by state in this peer\'s copy of the queue',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      for (const [state, count] of Object.entries(status().jobs)) this.set({ state }, count)
    },
  })
  new Gauge({ name: 'peerqueue_raft_term', help: 'Current Raft term', registers: [registry], collect() { this.set(status().term) } })
  new Gauge({ name: 'peerqueue_raft_commit_index', help: 'Highest log index known committed', registers: [registry], collect() { this.set(status().commitIndex) } })
  new Gauge({ name: 'peerqueue_raft_is_leader', help: '1 on the leader', registers: [registry], collect() { this.set(status().role === 'leader' ? 1 : 0) } })
  new Gauge({
    name: 'peerqueue_raft_follower_lag',
    help: 'Entries each member is behind the leader (on the leader only)',
    labelNames: ['member'],
    registers: [registry],
    collect() {
      for (const m of status().members) if (m.lag !== null && !m.self) this.set({ member: m.id }, m.lag)
    },
  })
  new Gauge({
    name: 'peerqueue_census',
    help: 'The leader\'s census: estimate and 95% interval of peers, idle peers and free handler slots',
    labelNames: ['quantity', 'bound'],
    registers: [registry],
    collect() {
      const census = status().census
      if (!census || census.sampled === 0) return
      for (const [quantity, interval] of [['peers', census.population], ['idle', census.idle], ['free_slots', census.freeSlots]] as const) {
        this.set({ quantity, bound: 'estimate' }, interval.estimate)
        this.set({ quantity, bound: 'low' }, interval.low)
        if (interval.high !== null) this.set({ quantity, bound: 'high' }, interval.high)
      }
    },
  })

  const leasedAt = new Map<string, number>()
  const stop = host.onJobChange((job: JobRecord, previous: JobState) => {
    const job_ = { job: job.name }
    // A new job is announced with its first state as the previous one too.
    if (previous === job.state && (job.state === 'queued' || job.state === 'delayed')) enqueued.inc(job_)
    if (job.state === 'leased') leasedAt.set(job.id, job.updatedAt)
    const started = leasedAt.get(job.id)
    if (previous === 'leased' && job.state !== 'leased') {
      leasedAt.delete(job.id)
      if (started !== undefined) runTime.observe(job_, Math.max(0, job.updatedAt - started) / 1000)
    }
    if (job.state === 'completed') {
      completed.inc(job_)
      toResult.observe(job_, Math.max(0, (job.finishedAt ?? job.updatedAt) - job.enqueuedAt) / 1000)
    }
    if (job.state === 'retry-wait') failed.inc(job_)
    if (job.state === 'dead') dead.inc(job_)
  })
  const stopFsync = host.observeFsync((seconds) => fsync.observe(seconds))
  return () => {
    stop()
    stopFsync()
  }
}
