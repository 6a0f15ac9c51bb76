// The untyped client of a queue: finds the trusted peer in the registry, dials it over libp2p
// with the caller's key, and makes requests. @peerqueue/sdk/client adds types and superjson.
import { randomUUID } from 'node:crypto'
import { dirname, join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerqueueError } from '../errors.js'
import { assertNodeVersion } from '../node-version.js'
import { keyFileExists, readKeyFile } from '../net/identity.js'
import { planDiscovery } from '../net/discovery-plan.js'
import { createPeerNode, type PeerNode } from '../net/node.js'
import { Rendezvous } from '../net/rendezvous.js'
import { DEFAULT_RETRY_MS, LeaderLink } from './leader-link.js'
import type { EnqueueOutcome } from '../queue/commands.js'
import type { EnqueueOptions } from '../queue/job.js'
import { loadRegistry, selectQueue } from '../registry/load.js'
import type { QueueConfig } from '../registry/schema.js'
import type { PeerStatus } from '../peer.js'
import type { JobView } from '../service/job-view.js'
import type { PauseState } from '../queue/pauses.js'
import type { ScheduleView } from '../service/queue-service.js'
import type { ScheduleTiming } from '../queue/schedules.js'
import type { JobEvent } from '../service/event-log.js'
import type { ChildFailurePolicy, JobState } from '../queue/job.js'
import type { SignedManifest } from '../queue/deployments.js'
import type { VersionsAnswer, VersionView } from '../deploy/deploy-service.js'

export type { EnqueueOutcome, EnqueueOptions, JobEvent, JobView, PauseState, PeerStatus, QueueConfig, ScheduleView, VersionsAnswer, VersionView }

/** A schedule as a client sends it: timing, and the job each due time makes (payload as superjson text). */
export interface ScheduleRequest extends ScheduleTiming {
  readonly id: string
  readonly job: { readonly name: string; readonly payload: string; readonly options?: Omit<EnqueueOptions, 'delayMs' | 'idempotencyKey'> }
}
export { PeerqueueError, isPeerqueueError, type ErrorCode } from '../errors.js'
export type { JobState, JobError, Backoff, ChildFailurePolicy } from '../queue/job.js'
export { describeSchemaIssues } from '../worker/schema-issues.js'

/** A client talks to the leader, and perhaps a bootstrap peer: a handful of connections. */
const CLIENT_MAX_CONNECTIONS = 8

export interface ConnectOptions {
  /** Registry source: a file path or an https:// URL. */
  readonly registry: string
  /** Queue name; may be left out when the registry has one queue. */
  readonly queue?: string
  /** Key file of the submitter; defaults to keys/client.key beside a registry file, if there is one. */
  readonly key?: string
  /** How long connect() keeps looking for the leader (default 10 s). */
  readonly connectTimeoutMs?: number
  /** Gateway for an ipfs:// registry. */
  readonly ipfsGateway?: string
  /** How long a request keeps retrying across leader changes before it fails (default 30 s). */
  readonly retryMs?: number
  /** More bootstrap addresses (/…/p2p/<id>) beside the registry's, for trusted peers listed without addresses. */
  readonly bootstrap?: readonly string[]
  /** Look for trusted peers on the local network with mDNS when they must be found (default: unless everything is loopback). */
  readonly mdns?: boolean
}

export interface JobSpec {
  /** Chosen by the client so that a retried enqueue cannot create a second job. */
  readonly id?: string
  readonly name: string
  /** superjson text of the payload. */
  readonly payload: string
  readonly options?: EnqueueOptions
  /** In a flow: the parent that waits for this job (in the same request). */
  readonly parentId?: string
  /** In a flow: the jobs this one waits for (in the same request). */
  readonly childIds?: readonly string[]
  readonly onChildFailure?: ChildFailurePolicy
}

export class QueueClient {
  private constructor(
    readonly queue: QueueConfig,
    readonly peerId: string,
    private readonly node: PeerNode,
    private readonly link: LeaderLink,
    private readonly rendezvous: Rendezvous,
    private readonly retryMs: number,
  ) {}

  static async connect(options: ConnectOptions): Promise<QueueClient> {
    assertNodeVersion()
    const registry = await loadRegistry(options.registry, { ipfsGateway: options.ipfsGateway })
    const queue = selectQueue(registry, options.queue, options.registry)
    const privateKey = await clientKey(options)
    const discovery = planDiscovery({ queue, selfId: peerIdFromPrivateKey(privateKey).toString(), role: 'client', listen: [], bootstrap: options.bootstrap, mdns: options.mdns })
    const node = await createPeerNode({ privateKey, listen: [], discovery, maxConnections: CLIENT_MAX_CONNECTIONS })
    const rendezvous = new Rendezvous(node, discovery, new Set(queue.trustedPeers.map((p) => p.id)))
    rendezvous.start()
    const link = new LeaderLink(node, queue.trustedPeers, { findById: rendezvous.active, learn: (m) => rendezvous.learn(m) })
    try {
      // Trusted peers without addresses: join through a bootstrap peer, then learn who provides the rendezvous.
      if (rendezvous.active && !(await rendezvous.joined(2_000))) await rendezvous.find()
      await link.call('status', {}, options.connectTimeoutMs ?? 10_000)
      return new QueueClient(queue, node.peerId.toString(), node, link, rendezvous, options.retryMs ?? DEFAULT_RETRY_MS)
    } catch (err) {
      rendezvous.stop()
      await link.close()
      await node.stop()
      throw err
    }
  }

  /** Resolves once every job is stored by a majority of the trusted peers; retried across leader changes. */
  enqueue(jobs: readonly JobSpec[], options: { atomic?: boolean } = {}): Promise<EnqueueOutcome[]> {
    const withIds = jobs.map((job) => ({ ...job, id: job.id ?? randomUUID() }))
    return this.link.call('enqueue', { jobs: withIds, ...(options.atomic ? { atomic: true } : {}) }, this.retryMs) as Promise<EnqueueOutcome[]>
  }

  /**
   * Enqueues one job and waits up to `timeoutMs` for it to finish, in one request. `job` is the
   * job as it then is (not yet final if the wait ran out), or null if it was not enqueued.
   */
  run(spec: JobSpec, timeoutMs = 30_000): Promise<{ outcome: EnqueueOutcome; job: JobView | null }> {
    const withId = { ...spec, id: spec.id ?? randomUUID() }
    return this.link.call('run', { job: withId, timeoutMs }, this.retryMs) as Promise<{ outcome: EnqueueOutcome; job: JobView | null }>
  }

  get(ids: readonly string[]): Promise<(JobView | null)[]> {
    return this.link.call('get', { ids }, this.retryMs) as Promise<(JobView | null)[]>
  }

  /** Resolves when the job is final or after `timeoutMs`, with the job as it then is. */
  wait(id: string, timeoutMs = 30_000): Promise<JobView> {
    return this.link.call('wait', { id, timeoutMs }, this.retryMs) as Promise<JobView>
  }

  cancel(ids: readonly string[]): Promise<string[]> {
    return this.link.call('cancel', { ids }, this.retryMs) as Promise<string[]>
  }

  redrive(ids: readonly string[] | 'all'): Promise<string[]> {
    return this.link.call('redrive', ids === 'all' ? { all: true } : { ids }, this.retryMs) as Promise<string[]>
  }

  /** Job state changes from `after` (a position from an earlier answer; absent: from now), waiting up to `waitMs` for some. */
  events(request: { after?: number; jobs?: readonly string[]; states?: readonly JobState[]; max?: number; waitMs?: number }): Promise<{ events: JobEvent[]; next: number }> {
    return this.link.call('events', request, this.retryMs) as Promise<{ events: JobEvent[]; next: number }>
  }

  /** Creates or replaces a recurring job (upsert by id). */
  schedule(spec: ScheduleRequest): Promise<ScheduleView> {
    return this.link.call('schedule', spec, this.retryMs) as Promise<ScheduleView>
  }

  /** Removes a schedule; returns how many remain. */
  unschedule(id: string): Promise<number> {
    return this.link.call('unschedule', { id }, this.retryMs) as Promise<number>
  }

  schedules(): Promise<ScheduleView[]> {
    return this.link.call('schedules', {}, this.retryMs) as Promise<ScheduleView[]>
  }

  /** Stops leasing jobs of `name`, or of the whole queue; they stay queued. Returns what is paused now. */
  pause(name?: string): Promise<PauseState> {
    return this.link.call('pause', name === undefined ? {} : { name }, this.retryMs) as Promise<PauseState>
  }

  resume(name?: string): Promise<PauseState> {
    return this.link.call('resume', name === undefined ? {} : { name }, this.retryMs) as Promise<PauseState>
  }

  status(): Promise<PeerStatus> {
    return this.link.call('status', {}, this.retryMs) as Promise<PeerStatus>
  }

  /** Submits a signed deploy with its bundles (see deploy/build-deploy.ts); a retry of the same one makes no second version. */
  deploy(request: SignedManifest & { readonly bundles: Readonly<Record<string, string>> }): Promise<{ version: number; current: number | null; collected: number[] }> {
    return this.link.call('deploy', request, this.retryMs) as Promise<{ version: number; current: number | null; collected: number[] }>
  }

  versions(): Promise<VersionsAnswer> {
    return this.link.call('versions', {}, this.retryMs) as Promise<VersionsAnswer>
  }

  promote(version: number): Promise<{ current: number | null; collected: number[] }> {
    return this.link.call('promote', { version }, this.retryMs) as Promise<{ current: number | null; collected: number[] }>
  }

  rollback(): Promise<{ current: number | null; collected: number[] }> {
    return this.link.call('rollback', {}, this.retryMs) as Promise<{ current: number | null; collected: number[] }>
  }

  async close(): Promise<void> {
    this.rendezvous.stop()
    await this.link.close()
    await this.node.stop()
  }
}

async function clientKey(options: ConnectOptions) {
  if (options.key !== undefined) return (await readKeyFile(options.key)).privateKey
  if (!/^[a-z]+:\/\//i.test(options.registry)) {
    const beside = join(dirname(options.registry), 'keys', 'client.key')
    if (await keyFileExists(beside)) return (await readKeyFile(beside)).privateKey
  }
  return generateKeyPair('Ed25519')
}

export function assertEnqueued(outcome: EnqueueOutcome | undefined): { id: string; created: boolean } {
  if (!outcome) throw new PeerqueueError('E_INTERNAL', 'the peer returned no outcome')
  if (!outcome.ok) throw new PeerqueueError(outcome.code, outcome.message)
  return outcome
}
