// A peer that runs deployed code instead of a jobs/ directory: for each lease it finds the
// version the job is pinned to, checks that version's manifest (signed by a deployer its own
// registry allows, for this queue), fetches each bundle it lacks by hash from the trusted peers,
// checks the bytes against the hash, and caches both on disk — so it can run cached versions
// after a restart before any trusted peer answers. Nothing is loaded until all of that holds.
import { join } from 'node:path'
import { PeerqueueError, errorMessage } from '../errors.js'
import { writeFileDurably } from '../fs/durable-file.js'
import { nodeFileSystem } from '../fs/file-system.js'
import type { GrantedLease } from '../queue/commands.js'
import type { SignedManifest } from '../queue/deployments.js'
import type { QueueConfig } from '../registry/schema.js'
import type { BundleStore } from '../deploy/bundle-store.js'
import type { VersionsAnswer } from '../deploy/deploy-service.js'
import { handlerFromManifest } from '../deploy/manifest-handlers.js'
import { verifyManifest, type Manifest } from '../deploy/manifest.js'
import type { Catalog } from './catalog.js'
import type { HandlerInfo } from './messages.js'

const STARTUP_ASK_MS = 3_000

interface VerifiedVersion {
  readonly version: number
  readonly signed: SignedManifest
  readonly manifest: Manifest
}

export interface DeployedCodeOptions {
  readonly queue: QueueConfig
  readonly store: BundleStore
  /** Where verified manifests are kept, one file a version. */
  readonly manifestsDir: string
  /** Asks the leader which versions there are, trying for at most `retryMs`. */
  readonly versions: (retryMs?: number) => Promise<VersionsAnswer>
  /** Fetches a bundle by hash from the trusted peers (checked against the hash). */
  readonly fetch: (hash: string) => Promise<Uint8Array>
  readonly log: (line: string) => void
}

export class DeployedCode {
  private readonly verified = new Map<number, VerifiedVersion>()
  private current: number | undefined
  private readonly loading = new Map<string, Promise<void>>()
  /** Bundles checked against their hash since this process started: not read again for every job. */
  private readonly checked = new Set<string>()

  constructor(private readonly options: DeployedCodeOptions) {}

  /** Reads the manifests cached by earlier runs (each checked again), then asks the leader, if it answers. */
  async start(): Promise<void> {
    const names = await nodeFileSystem.readdir(this.options.manifestsDir).catch(() => [] as string[])
    for (const name of names.filter((n) => /^\d+\.json$/.test(n)).sort((a, b) => Number.parseInt(a) - Number.parseInt(b))) {
      try {
        const signed = JSON.parse((await nodeFileSystem.readFile(join(this.options.manifestsDir, name))).toString('utf8')) as SignedManifest
        const version = Number.parseInt(name)
        this.verified.set(version, { version, signed, manifest: await verifyManifest(signed, this.options.queue) })
        this.current = Math.max(this.current ?? 0, version)
      } catch (err) {
        this.options.log(`peerqueue: ignoring cached manifest ${name}: ${errorMessage(err)}`)
      }
    }
    // A short try: with cached versions, a worker whose trusted peers are away still starts.
    await this.refresh(STARTUP_ASK_MS).catch((err: unknown) => this.options.log(`peerqueue: no version list from the trusted peers yet (${errorMessage(err)}); ${this.verified.size} cached version(s) ready`))
  }

  /** The handlers of the current version, for the limits the leader enforces across workers. */
  catalog(): Catalog {
    const current = this.current === undefined ? undefined : this.verified.get(this.current)
    const catalog = new Map<string, HandlerInfo>()
    for (const h of current?.manifest.handlers ?? []) catalog.set(h.name, handlerFromManifest(current!.signed, h.name, this.options.store.path(h.bundle))!)
    return catalog
  }

  /** Versions and bundle hashes this peer holds, for its status. */
  held(): { version: number; handlers: Record<string, string> }[] {
    return [...this.verified.values()].map((v) => ({ version: v.version, handlers: Object.fromEntries(v.manifest.handlers.map((h) => [h.name, h.bundle])) }))
  }

  /** The handler that runs `lease`, with its bundle on disk and checked; undefined if its version has no such job. */
  async handlerFor(lease: GrantedLease): Promise<HandlerInfo | undefined> {
    const version = lease.version ?? this.current ?? (await this.refresh(), this.current)
    if (version === undefined) throw new PeerqueueError('E_VERSION_UNKNOWN', 'nothing has been deployed to this queue yet (queue-runtime deploy)')
    const verified = this.verified.get(version) ?? (await this.refresh(), this.verified.get(version))
    if (!verified) throw new PeerqueueError('E_VERSION_UNKNOWN', `version ${version} is not known to the trusted peers (collected, or never deployed)`)
    const handler = verified.manifest.handlers.find((h) => h.name === lease.name)
    if (!handler) return undefined
    await this.ensureBundle(handler.bundle, `${handler.name} of version ${version}`)
    return handlerFromManifest(verified.signed, handler.name, this.options.store.path(handler.bundle))
  }

  /** Asks the leader for the versions, and keeps those whose manifests check out. */
  async refresh(retryMs?: number): Promise<void> {
    const answer = await this.options.versions(retryMs)
    for (const v of answer.versions) {
      if (this.verified.has(v.version)) continue
      const signed: SignedManifest = { manifest: v.manifest, deployer: v.deployer, signature: v.signature }
      try {
        const manifest = await verifyManifest(signed, this.options.queue)
        await nodeFileSystem.mkdir(this.options.manifestsDir)
        await writeFileDurably(join(this.options.manifestsDir, `${v.version}.json`), JSON.stringify(signed))
        this.verified.set(v.version, { version: v.version, signed, manifest })
        this.options.log(`peerqueue: version ${v.version} by ${v.deployer}: ${manifest.handlers.map((h) => `${h.name} ${h.bundle.slice(0, 12)}…`).join(', ')}`)
      } catch (err) {
        this.options.log(`peerqueue: refusing version ${v.version}: ${errorMessage(err)}`)
      }
    }
    if (answer.current !== null) this.current = answer.current
  }

  private async ensureBundle(hash: string, what: string): Promise<void> {
    if (this.checked.has(hash)) return
    let loading = this.loading.get(hash)
    if (!loading) {
      loading = (async () => {
        if (await this.options.store.has(hash)) return
        await this.options.store.put(hash, await this.options.fetch(hash))
        this.options.log(`peerqueue: fetched ${what} (${hash.slice(0, 12)}…)`)
      })()
        .then(() => void this.checked.add(hash))
        .finally(() => this.loading.delete(hash))
      this.loading.set(hash, loading)
    }
    await loading
  }
}
