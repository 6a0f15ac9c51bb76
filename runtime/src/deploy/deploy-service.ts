// A trusted peer's answers about deployed code: take a deploy (the leader checks its signature,
// its deployer and every bundle before anything enters the log), list the versions, make one
// current, roll back, and hand out bundles by hash (any member, leader or not).
import { z } from 'zod'
import { PeerqueueError } from '../errors.js'
import type { Caller } from '../net/rpc.js'
import type { ApplyResult } from '../queue/commands.js'
import type { Deployment } from '../queue/deployments.js'
import type { ConsensusGroup } from '../raft/group.js'
import type { QueueConfig } from '../registry/schema.js'
import { parseRequest } from '../service/requests.js'
import { assertMayWork } from '../service/work-service.js'
import type { BundleStore } from './bundle-store.js'
import { bundleHash, mayDeploy, verifyManifest } from './manifest.js'

const signedShape = z.strictObject({
  manifest: z.string().min(2),
  deployer: z.string().min(1).max(128),
  signature: z.string().min(1).max(1024),
})
const deployRequest = z.strictObject({
  ...signedShape.shape,
  /** Each bundle the manifest names, base64, by hash. */
  bundles: z.record(z.string().regex(/^[0-9a-f]{64}$/), z.string()),
})
const promoteRequest = z.strictObject({ version: z.int().min(1) })
const bundleRequest = z.strictObject({ hash: z.string().regex(/^[0-9a-f]{64}$/, 'a bundle is named by its SHA-256 in hex') })

/** A version as `versions` lists it, with what a worker needs to check it. */
export interface VersionView {
  readonly version: number
  readonly current: boolean
  readonly deployer: string
  readonly deployedAt: number
  /** Unfinished jobs pinned to it. */
  readonly pinned: number
  readonly handlers: Readonly<Record<string, string>>
  readonly manifest: string
  readonly signature: string
}

export interface VersionsAnswer {
  readonly current: number | null
  readonly versions: readonly VersionView[]
}

export class DeployService {
  static handles(method: string): boolean {
    return method === 'deploy' || method === 'versions' || method === 'promote' || method === 'rollback' || method === 'bundle'
  }

  constructor(
    private readonly group: ConsensusGroup,
    private readonly queue: QueueConfig,
    private readonly store: BundleStore,
  ) {}

  /** `bundle` is answered by any member; the rest only by the leader (the caller checked that). */
  static answersAnywhere(method: string): boolean {
    return method === 'bundle'
  }

  async handle(method: string, params: unknown, caller: Caller): Promise<unknown> {
    switch (method) {
      case 'bundle': {
        assertMayWork(this.queue, caller.peerId)
        const { hash } = parseRequest(bundleRequest, params, method)
        const bytes = await this.store.read(hash)
        if (!bytes) throw new PeerqueueError('E_BUNDLE_MISSING', `this trusted peer does not hold bundle ${hash.slice(0, 12)}… (yet); ask another`)
        return { hash, bytes: bytes.toString('base64') }
      }
      case 'versions':
        assertMayWork(this.queue, caller.peerId)
        return this.versions()
      case 'deploy':
        return this.deploy(parseRequest(deployRequest, params, method), caller)
      case 'promote':
        this.assertDeployer(caller)
        return this.answer(await this.group.propose([{ type: 'promote', version: parseRequest(promoteRequest, params, method).version }]), 'promote')
      case 'rollback':
        this.assertDeployer(caller)
        return this.answer(await this.group.propose([{ type: 'rollback' }]), 'rollback')
      default:
        throw new PeerqueueError('E_PROTOCOL', `unknown method "${method}"`)
    }
  }

  versions(): VersionsAnswer {
    const d = this.group.state.deployments
    return { current: d.current ?? null, versions: d.list().map((v) => this.view(v)) }
  }

  private view(v: Deployment): VersionView {
    const d = this.group.state.deployments
    return { version: v.version, current: v.version === d.current, deployer: v.deployer, deployedAt: v.deployedAt, pinned: d.pinned(v.version), handlers: v.bundles, manifest: v.manifest, signature: v.signature }
  }

  private assertDeployer(caller: Caller): void {
    if (!mayDeploy(this.queue, caller.peerId)) throw new PeerqueueError('E_NOT_ALLOWED', `peer ${caller.peerId} may not deploy to queue "${this.queue.name}" (see deployers in the registry)`)
  }

  private async deploy(request: z.infer<typeof deployRequest>, caller: Caller): Promise<{ version: number; current: number | null; collected: readonly number[] }> {
    const { bundles, ...signed } = request
    // The deployer itself sends it: a signed manifest seen elsewhere cannot be deployed again by another.
    if (caller.peerId !== signed.deployer) throw new PeerqueueError('E_DEPLOY_REFUSED', `deploy refused: it is signed by ${signed.deployer} but sent by ${caller.peerId}`)
    const manifest = await verifyManifest(signed, this.queue)
    const { maxBundleBytes, maxDeployBytes } = this.queue.limits
    let total = 0
    const byName: Record<string, string> = {}
    const contents: Record<string, string> = {}
    for (const handler of manifest.handlers) {
      byName[handler.name] = handler.bundle
      if (contents[handler.bundle] !== undefined) continue
      const base64 = bundles[handler.bundle]
      if (base64 === undefined) throw new PeerqueueError('E_BUNDLE_MISSING', `deploy refused: the bundle of "${handler.name}" (${handler.bundle.slice(0, 12)}…) was not sent`)
      const bytes = Buffer.from(base64, 'base64')
      if (bytes.length > maxBundleBytes) throw new PeerqueueError('E_BUNDLE_TOO_LARGE', `deploy refused: the bundle of "${handler.name}" is ${bytes.length} bytes, over the queue's limit of ${maxBundleBytes} (limits.maxBundleBytes)`)
      if (bundleHash(bytes) !== handler.bundle) throw new PeerqueueError('E_BUNDLE_MISMATCH', `deploy refused: the bundle sent for "${handler.name}" does not hash to ${handler.bundle.slice(0, 12)}…, the hash its manifest names`)
      total += bytes.length
      contents[handler.bundle] = base64
    }
    if (total > maxDeployBytes) throw new PeerqueueError('E_BUNDLE_TOO_LARGE', `deploy refused: its bundles come to ${total} bytes, over the queue's limit of ${maxDeployBytes} (limits.maxDeployBytes)`)
    const extra = Object.keys(bundles).find((hash) => contents[hash] === undefined)
    if (extra) throw new PeerqueueError('E_USAGE', `deploy refused: bundle ${extra.slice(0, 12)}… is not named by its manifest`)
    const [result] = await this.group.propose([{ type: 'deploy', deployment: signed, bundles: byName, contents }])
    const answer = this.answer([result], 'deploy')
    if (result?.type !== 'versions' || result.deployed === undefined) throw new PeerqueueError('E_INTERNAL', 'deploy produced no version')
    return { version: result.deployed, current: answer.current, collected: answer.collected }
  }

  private answer(results: readonly (ApplyResult | undefined)[], what: string): { current: number | null; collected: readonly number[] } {
    const result = results[0]
    if (result?.type !== 'versions') throw new PeerqueueError('E_INTERNAL', `${what} produced no answer`)
    if (!result.ok) throw new PeerqueueError('E_VERSION_UNKNOWN', what === 'rollback' ? 'there is no earlier version to roll back to' : 'there is no such version (never deployed, or collected once no job needed it)')
    return { current: result.current ?? null, collected: result.collected }
  }
}
