// What the HTTP listener needs of the peer it runs on: its view of the queue, the replicated
// state it holds (followers hold it too, a little behind), and requests to the leader.
import type { QueueConfig } from '../registry/schema.js'
import type { PeerStatus } from '../peer-status.js'
import type { JobRecord, JobState } from '../queue/job.js'

export interface HttpHost {
  readonly queue: QueueConfig
  readonly selfId: string
  status(): PeerStatus
  /** This peer's copy of the queue (undefined on a worker peer). */
  jobs(): JobLister | undefined
  /** A request to the leader, made as this trusted peer (answered here when this peer leads). */
  call(method: string, params: unknown): Promise<unknown>
  /** Called with each job whose state changed, as this peer applies the log (a new job: previous equals its state). */
  onJobChange(listener: (job: JobRecord, previous: JobState) => void): () => void
  /** Reports each fsync of this peer's log, in seconds, until the returned function is called. */
  observeFsync(observe: (seconds: number) => void): () => void
}

export interface JobLister {
  get(id: string): JobRecord | undefined
  list(filter: JobFilter): JobRecord[]
}

export interface JobFilter {
  readonly state?: JobState
  readonly name?: string
  /** Part of the id, the job name, or the error message. */
  readonly search?: string
  readonly limit: number
}
