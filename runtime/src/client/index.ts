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
import { ShardDirectory } from '../shards/shard-directory.js'
import { byShard, newJobId, shardOfJob } from '../shards/job-routing.js'
import { ROOT_SHARD } from '../shards/shard-map.js'
import type { ShardSummary } from '../shards/shard-summary.js'

export type { EnqueueOutcome, EnqueueOptions, JobEvent, JobView, PauseState, PeerStatus, QueueConfig, ScheduleView, VersionsAnswer, VersionView }

/** A schedule as a client sends it: timing, and the job each due time makes (payload as superjson text). */
export interface ScheduleRequest extends ScheduleTiming {
  readonly id: string
  readonly job: { readonly name: string; readonly payload: string; readonly options?: Omit<EnqueueOptions, 'delayMs' | 'idempotencyKey'> }
}
export { PeerqueueError, isPeerqueueError, type ErrorCode } from '../errors.js'
export type { JobState, JobError, Backoff, ChildFailurePolicy } from '../queue/job.js'
export { describeSchemaIssues } from '../worker/schema-issues.js'

/** A client talks to the root leader, shard leaders, and perhaps a bootstrap peer. */
const CLIENT_MAX_CONNECTIONS = 64
/** How old the shard map may be before an enqueue reads it again. */
const MAP_MAX_AGE_MS = 1_000

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
  /**
   * When the queue is saturated (the network cannot host more jobs now): `wait` (the default)
   * tries again after the hint the leader gives, with jitter, for up to `maxWaitMs`; `throw`
   * returns the refusal (E_QUEUE_SATURATED with `retryAfterMs`) at once.
   */
  readonly onSaturated?: 'wait' | 'throw'
  /** How long `wait` keeps trying (default: the registry's saturation.maxWaitMs, else 60 s). */
  readonly maxWaitMs?: number
  /** Called each time an enqueue waits for room, so a program can say why it is slow. */
  readonly onSaturatedWait?: (wait: SaturatedWait) => void
}

export interface SaturatedWait {
  /** How long this wait lasts. */
  readonly delayMs: number
  /** Waited so far for this enqueue. */
  readonly waitedMs: number
  readonly message: string
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
  private turn = 0

  private constructor(
    readonly queue: QueueConfig,
    readonly peerId: string,
    private readonly node: PeerNode,
    private readonly link: LeaderLink,
    private readonly rendezvous: Rendezvous,
    private readonly retryMs: number,
    private readonly shards: ShardDirectory,
    private readonly saturation: Pick<ConnectOptions, 'onSaturated' | 'maxWaitMs' | 'onSaturatedWait'>,
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
      const shards = new ShardDirectory({ node, queue, askRoot: (method, params) => link.call(method, params) })
      // The map is read again before the first enqueue: a root busy with an election now need not fail the connect.
      await shards.refresh().catch(() => undefined)
      return new QueueClient(queue, node.peerId.toString(), node, link, rendezvous, options.retryMs ?? DEFAULT_RETRY_MS, shards, options)
    } catch (err) {
      rendezvous.stop()
      await link.close()
      await node.stop()
      throw err
    }
  }

  /** Resolves once every job is stored by a majority of the trusted peers; retried across leader changes. */
  enqueue(jobs: readonly JobSpec[], options: { atomic?: boolean } = {}): Promise<EnqueueOutcome[]> {
    return this.whenAdmitted(() => this.enqueueOnce(jobs, options), (outcomes) => outcomes)
  }

  private async enqueueOnce(jobs: readonly JobSpec[], options: { atomic?: boolean }): Promise<EnqueueOutcome[]> {
    if (options.atomic || jobs.some(staysInRoot)) {
      const withIds = jobs.map((job) => ({ ...job, id: job.id ?? randomUUID() }))
      return this.link.call('enqueue', { jobs: withIds, ...(options.atomic ? { atomic: true } : {}) }, this.retryMs) as Promise<EnqueueOutcome[]>
    }
    return this.toOpenShard((shard) => ['enqueue', { jobs: jobs.map((job) => ({ ...job, id: newJobId(shard) })), spread: true }], (outcomes) => outcomes as EnqueueOutcome[])
  }

  /**
   * Enqueues one job and waits up to `timeoutMs` for it to finish, in one request. `job` is the
   * job as it then is (not yet final if the wait ran out), or null if it was not enqueued.
   */
  run(spec: JobSpec, timeoutMs = 30_000): Promise<{ outcome: EnqueueOutcome; job: JobView | null }> {
    return this.whenAdmitted(() => this.runOnce(spec, timeoutMs), (ran) => [ran.outcome])
  }

  /**
   * Makes a request again while the queue answers that it is saturated, after the leader's hint
   * with jitter (half to one and a half times it), for up to maxWaitMs; a refused request stored
   * nothing, so sending it again is safe.
   */
  private async whenAdmitted<T>(send: () => Promise<T>, outcomesOf: (answer: T) => readonly EnqueueOutcome[]): Promise<T> {
    const started = Date.now()
    const maxWaitMs = this.saturation.maxWaitMs ?? this.queue.saturation?.maxWaitMs ?? 60_000
    for (;;) {
      const answer = await send()
      const refused = outcomesOf(answer).find((o): o is Extract<EnqueueOutcome, { code: 'E_QUEUE_SATURATED' }> => !o.ok && o.code === 'E_QUEUE_SATURATED')
      if (!refused || this.saturation.onSaturated === 'throw') return answer
      const waitedMs = Date.now() - started
      const delayMs = Math.min(Math.round(refused.retryAfterMs * (0.5 + Math.random())), maxWaitMs - waitedMs)
      if (delayMs <= 0) return answer
      this.saturation.onSaturatedWait?.({ delayMs, waitedMs, message: refused.message })
      await new Promise((r) => setTimeout(r, delayMs))
    }
  }

  private async runOnce(spec: JobSpec, timeoutMs: number): Promise<{ outcome: EnqueueOutcome; job: JobView | null }> {
    type Ran = { outcome: EnqueueOutcome; job: JobView | null }
    if (staysInRoot(spec)) return this.link.call('run', { job: { ...spec, id: spec.id ?? randomUUID() }, timeoutMs }, this.retryMs) as Promise<Ran>
    return this.toOpenShard((shard) => ['run', { job: { ...spec, id: newJobId(shard) }, timeoutMs, spread: true }], (answer) => answer as Ran, (answer) => [(answer as Ran).outcome])
  }

  async get(ids: readonly string[]): Promise<(JobView | null)[]> {
    const views: (JobView | null)[] = ids.map(() => null)
    await Promise.all(
      [...byShard(ids)].map(async ([shard, group]) => {
        const answer = (await this.callShard(shard, 'get', { ids: group.map((g) => g.id) }).catch((err: unknown) => {
          if (isRetired(err)) return group.map(() => null)
          throw err
        })) as (JobView | null)[]
        group.forEach((g, i) => (views[g.at] = answer[i] ?? null))
      }),
    )
    return views
  }

  /** Resolves when the job is final or after `timeoutMs`, with the job as it then is. */
  wait(id: string, timeoutMs = 30_000): Promise<JobView> {
    return this.callShard(shardOfJob(id), 'wait', { id, timeoutMs }) as Promise<JobView>
  }

  async cancel(ids: readonly string[]): Promise<string[]> {
    const changed = await Promise.all([...byShard(ids)].map(([shard, group]) => this.callShard(shard, 'cancel', { ids: group.map((g) => g.id) }) as Promise<string[]>))
    return changed.flat()
  }

  async redrive(ids: readonly string[] | 'all'): Promise<string[]> {
    if (ids !== 'all') {
      const changed = await Promise.all([...byShard(ids)].map(([shard, group]) => this.callShard(shard, 'redrive', { ids: group.map((g) => g.id) }) as Promise<string[]>))
      return changed.flat()
    }
    return (await this.everyShard((shard) => this.callShard(shard, 'redrive', { all: true }) as Promise<string[]>)).flat()
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
  async pause(name?: string): Promise<PauseState> {
    const [root] = await this.everyShard((shard) => this.callShard(shard, 'pause', name === undefined ? {} : { name }) as Promise<PauseState>)
    return root!
  }

  async resume(name?: string): Promise<PauseState> {
    const [root] = await this.everyShard((shard) => this.callShard(shard, 'resume', name === undefined ? {} : { name }) as Promise<PauseState>)
    return root!
  }

  /** The root's status; with shards, each shard's too, and `jobs` counted across all of them. */
  async status(): Promise<PeerStatus> {
    const root = (await this.link.call('status', {}, this.retryMs)) as PeerStatus
    await this.shards.refresh(MAP_MAX_AGE_MS).catch(() => undefined)
    const known = this.shards.shards()
    if (known.length === 0) return this.shards.minted > 0 ? { ...root, shards: [], shardsMinted: this.shards.minted, certificatesRefused: this.shards.refused } : root
    const shards: ShardSummary[] = await Promise.all(known.map((shard) => this.shardSummary(shard.id)))
    const jobs: Record<string, number> = { ...root.jobs }
    for (const shard of shards) for (const [state, n] of Object.entries(shard.jobs ?? {})) jobs[state] = (jobs[state] ?? 0) + n
    return { ...root, jobs, shards, shardsMinted: this.shards.minted, certificatesRefused: this.shards.refused }
  }

  private async shardSummary(id: number): Promise<ShardSummary> {
    const shard = this.shards.get(id)!
    const certificate = { epoch: shard.certificate.epoch, expiresAt: shard.certificate.expiresAt, signers: shard.certificate.signatures.map((s) => s.signer) }
    try {
      const status = (await this.callShard(id, 'status', {}, 2_000)) as { leader: string | null; jobs: Record<string, number>; sealed: boolean; voters: string[]; learners: string[] }
      return { id, state: shard.state, members: [...shard.certificate.members], leader: status.leader, voters: status.voters, learners: status.learners, jobs: status.jobs, sealed: status.sealed, certificate }
    } catch {
      return { id, state: shard.state, members: [...shard.certificate.members], leader: null, voters: null, learners: null, jobs: null, sealed: null, certificate }
    }
  }

  /**
   * Sends new jobs to an open shard (the root among them while it is open), in turn. A shard
   * that turns out to be draining or gone refused them outright, so they go to another.
   */
  private async toOpenShard<T>(request: (shard: number) => [string, unknown], answer: (value: unknown) => T, outcomesOf: (value: unknown) => readonly EnqueueOutcome[] = (v) => v as EnqueueOutcome[]): Promise<T> {
    const deadline = Date.now() + this.retryMs
    for (let attempt = 0; ; attempt++) {
      await this.shards.refresh(attempt === 0 ? MAP_MAX_AGE_MS : 0).catch(() => undefined)
      const shard = this.nextShard()
      const [method, params] = request(shard)
      let value: unknown
      try {
        value = await this.callShard(shard, method, params)
      } catch (err) {
        if (!isRetired(err) || Date.now() > deadline) throw err
        continue
      }
      const outcomes = outcomesOf(value)
      if (outcomes.length > 0 && outcomes.every((o) => !o.ok && o.code === 'E_SHARD_SEALED') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, Math.min(200, 10 * 2 ** attempt)))
        continue
      }
      return answer(value)
    }
  }

  private nextShard(): number {
    const open = this.shards.shards().filter((s) => s.state === 'open').map((s) => s.id)
    if (this.shards.rootOpen || open.length === 0) open.unshift(ROOT_SHARD)
    return open[this.turn++ % open.length]!
  }

  private callShard(shard: number, method: string, params: unknown, retryMs = this.retryMs): Promise<unknown> {
    if (shard === ROOT_SHARD) return this.link.call(method, params, retryMs)
    const link = this.shards.link(shard)
    if (link) return link.call(method, params, retryMs)
    return this.shards.refresh(0).then(() => {
      const fresh = this.shards.link(shard)
      if (!fresh) throw new PeerqueueError('E_SHARD_UNKNOWN', `shard ${shard} of "${this.queue.name}" is retired or was never certified`)
      return fresh.call(method, params, retryMs)
    })
  }

  /** The root first, then every shard. */
  private everyShard<T>(call: (shard: number) => Promise<T>): Promise<T[]> {
    return Promise.all([ROOT_SHARD, ...this.shards.shards().map((s) => s.id)].map(call))
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
    await this.shards.close()
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

/** Jobs whose id, key or flow the client chose live in the root: one id, one job, whatever shards come and go. */
function staysInRoot(job: JobSpec): boolean {
  return job.id !== undefined || job.options?.idempotencyKey !== undefined || job.parentId !== undefined || job.childIds !== undefined
}

function isRetired(err: unknown): boolean {
  return err instanceof PeerqueueError && (err.code === 'E_SHARD_UNKNOWN' || err.code === 'E_CERTIFICATE')
}

export function assertEnqueued(outcome: EnqueueOutcome | undefined): { id: string; created: boolean } {
  if (!outcome) throw new PeerqueueError('E_INTERNAL', 'the peer returned no outcome')
  if (!outcome.ok) throw new PeerqueueError(outcome.code, outcome.message)
  return outcome
}
