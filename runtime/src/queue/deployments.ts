// Deployed versions of a queue's handlers, as the replicated state keeps them: each deploy is a
// signed manifest that becomes version n; one version is current and new jobs are pinned to it,
// so a deploy never changes the code under a job already queued. A version goes once no
// unfinished job is pinned to it and it is neither current nor among the last few made current
// (kept so that `rollback` has somewhere to go), nor among the last few deployed.

/** A deploy as the log carries it: the manifest text exactly as signed, its deployer and signature. */
export interface SignedManifest {
  readonly manifest: string
  readonly deployer: string
  /** Base64 of the deployer's signature over the manifest (see deploy/manifest.ts). */
  readonly signature: string
}

export interface Deployment extends SignedManifest {
  readonly version: number
  /** The leader's stamp on the entry that deployed it. */
  readonly deployedAt: number
  /** The content hashes of its bundles, by job name. */
  readonly bundles: Readonly<Record<string, string>>
}

export interface DeploymentsSnapshot {
  readonly deployments: readonly Deployment[]
  readonly current: number | undefined
  readonly history: readonly number[]
  readonly next: number
}

/** Versions made current most recently, and versions deployed most recently, kept even with no job pinned to them. */
export const KEEP_RECENT = 3

export class Deployments {
  private byVersion = new Map<number, Deployment>()
  private history: number[] = []
  private next = 1
  private pins = new Map<number, number>()

  get current(): number | undefined {
    return this.history.at(-1)
  }

  get(version: number): Deployment | undefined {
    return this.byVersion.get(version)
  }

  list(): Deployment[] {
    return [...this.byVersion.values()]
  }

  /** Unfinished jobs pinned to `version`. */
  pinned(version: number): number {
    return this.pins.get(version) ?? 0
  }

  /** A new version, made current; the same signed manifest again (a retried request) is the version it already made. */
  add(signed: SignedManifest, bundles: Readonly<Record<string, string>>, time: number): Deployment {
    const again = [...this.byVersion.values()].find((d) => d.signature === signed.signature && d.manifest === signed.manifest)
    if (again) return again
    const deployment: Deployment = { ...signed, version: this.next++, deployedAt: time, bundles: { ...bundles } }
    this.byVersion.set(deployment.version, deployment)
    this.makeCurrent(deployment.version)
    return deployment
  }

  /** Makes `version` current; false if there is no such version (never deployed, or collected). */
  promote(version: number): boolean {
    if (!this.byVersion.has(version)) return false
    this.makeCurrent(version)
    return true
  }

  /** Goes back to the version that was current before this one; false if there is none left. */
  rollback(): boolean {
    const current = this.current
    const before = [...this.history.slice(0, -1)].reverse().find((v) => v !== current && this.byVersion.has(v))
    if (before === undefined) return false
    while (this.history.length > 0 && this.history.at(-1) !== before) this.history.pop()
    return true
  }

  /** The version a new job runs on: the one asked for if it exists, else the current one. */
  pinFor(asked: number | undefined): number | undefined {
    return asked !== undefined && this.byVersion.has(asked) ? asked : this.current
  }

  pin(version: number | undefined): void {
    if (version !== undefined) this.pins.set(version, this.pinned(version) + 1)
  }

  unpin(version: number | undefined): void {
    if (version === undefined) return
    const left = this.pinned(version) - 1
    if (left > 0) this.pins.set(version, left)
    else this.pins.delete(version)
  }

  /** Forgets the versions nothing needs any more; returns them. */
  collect(): number[] {
    // The newest deploys stay too: after a rollback, the version rolled back from can be promoted again.
    const recent = new Set<number>([...this.byVersion.keys()].sort((a, b) => b - a).slice(0, KEEP_RECENT))
    for (let i = this.history.length - 1, n = 0; i >= 0 && n < KEEP_RECENT; i--, n++) recent.add(this.history[i]!)
    const gone = [...this.byVersion.keys()].filter((v) => !recent.has(v) && this.pinned(v) === 0)
    for (const v of gone) this.byVersion.delete(v)
    this.history = this.history.filter((v) => this.byVersion.has(v))
    return gone
  }

  snapshot(): DeploymentsSnapshot {
    return { deployments: this.list(), current: this.current, history: [...this.history], next: this.next }
  }

  /** `pinnedVersions`: the version of every unfinished job in the restored state. */
  restore(snapshot: DeploymentsSnapshot | undefined, pinnedVersions: Iterable<number | undefined>): void {
    this.byVersion = new Map((snapshot?.deployments ?? []).map((d) => [d.version, d]))
    this.history = [...(snapshot?.history ?? [])]
    this.next = snapshot?.next ?? 1
    this.pins = new Map()
    for (const v of pinnedVersions) this.pin(v)
  }

  private makeCurrent(version: number): void {
    this.history = [...this.history.filter((v) => v !== version), version]
  }
}
