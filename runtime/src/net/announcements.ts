// Gossipsub topics derived from the queue's rendezvous string. The leader announces itself on
// <rendezvous>/leader; workers announce their capacity on <rendezvous>/workers; census polls go
// out on <rendezvous>/census. Messages are signed (StrictSign), and leader announcements and
// polls count only if a trusted peer signed them, so no one can redirect workers to an impostor
// or make the network answer polls of its own.
//
// Worker announcements are read by trusted peers (status, the choice of delegates) and by
// delegates (where to dial a shard's other members); a plain worker publishes on the topic
// without subscribing to it. Every peer that subscribes checks the signature of every
// announcement: with 60 workers each announcing once a second, that was 60 signature checks a
// second in every worker, about a fifth of a core for each process of 20 workers, idle.
import { pollShape, type Poll } from '../census/poll.js'
import type { PeerNode } from './node.js'

export interface LeaderAnnouncement {
  readonly leader: string
  readonly term: number
}

export interface WorkerAnnouncement {
  readonly worker: string
  readonly peerId: string
  readonly capacity: number
  readonly running: number
  /** The deployed versions whose code the worker holds (absent for one that runs a jobs/ directory). */
  readonly versions?: readonly number[]
  /** Where the worker can be dialled, when it offers to keep shards (see shards/delegates.ts). */
  readonly hostAddrs?: readonly string[]
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const MAX_ANNOUNCEMENT_BYTES = 4096

export class Announcements {
  private readonly leaderTopic: string
  private readonly workersTopic: string
  private readonly censusTopic: string

  constructor(
    private readonly node: PeerNode,
    rendezvous: string,
    private readonly trusted: ReadonlySet<string>,
    handlers: { onLeader?: (a: LeaderAnnouncement) => void; onWorker?: (a: WorkerAnnouncement) => void; onPoll?: (poll: Poll, from: string) => void },
    /** Subscribe to worker announcements (a trusted peer, a delegate); others only publish theirs. */
    hearWorkers = true,
  ) {
    this.leaderTopic = `${rendezvous}/leader`
    this.workersTopic = `${rendezvous}/workers`
    this.censusTopic = `${rendezvous}/census`
    const pubsub = node.services.pubsub
    if (!pubsub) return
    pubsub.subscribe(this.leaderTopic)
    if (hearWorkers) pubsub.subscribe(this.workersTopic)
    pubsub.subscribe(this.censusTopic)
    pubsub.addEventListener('message', (event) => {
      const message = event.detail
      if (message.type !== 'signed') return
      const from = message.from.toString()
      const body = parseAnnouncement(message.data)
      if (!body) return
      if (message.topic === this.leaderTopic && this.trusted.has(from) && body.leader === from && typeof body.term === 'number') {
        handlers.onLeader?.({ leader: from, term: body.term })
      } else if (message.topic === this.workersTopic && typeof body.worker === 'string' && body.worker.startsWith(`${from}/`)) {
        const versions = Array.isArray(body.versions) ? body.versions.filter((v): v is number => Number.isInteger(v)).slice(0, 64) : undefined
        const hostAddrs = Array.isArray(body.hostAddrs) ? body.hostAddrs.filter((a): a is string => typeof a === 'string' && a.startsWith('/') && a.length <= 256).slice(0, 8) : undefined
        handlers.onWorker?.({ worker: body.worker, peerId: from, capacity: Number(body.capacity) || 0, running: Number(body.running) || 0, ...(versions ? { versions } : {}), ...(hostAddrs && hostAddrs.length > 0 ? { hostAddrs } : {}) })
      } else if (message.topic === this.censusTopic && this.trusted.has(from)) {
        const poll = pollShape.safeParse(body)
        if (poll.success) handlers.onPoll?.(poll.data, from)
      }
    })
  }

  announceLeader(term: number): void {
    this.publish(this.leaderTopic, { leader: this.node.peerId.toString(), term })
  }

  /** `hostAddrs`: where this peer can be dialled, when it offers to keep shards (a delegate). */
  announceWorker(worker: string, capacity: number, running: number, versions?: readonly number[], hostAddrs?: readonly string[]): void {
    this.publish(this.workersTopic, { worker, capacity, running, ...(versions ? { versions } : {}), ...(hostAddrs && hostAddrs.length > 0 ? { hostAddrs } : {}) })
  }

  publishPoll(poll: Poll): void {
    this.publish(this.censusTopic, poll)
  }

  private publish(topic: string, body: object): void {
    this.node.services.pubsub?.publish(topic, encoder.encode(JSON.stringify(body))).catch(() => undefined)
  }
}

/** An announcement's body, or undefined for anything that is not a small JSON object. */
export function parseAnnouncement(data: Uint8Array): Record<string, unknown> | undefined {
  if (data.length > MAX_ANNOUNCEMENT_BYTES) return undefined
  try {
    const value = JSON.parse(decoder.decode(data)) as unknown
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}
