// On a trusted peer: keeps the bundles of every version the queue still has. A deploy's bundles
// travel inside its log entry, and each member writes them to its store as it applies the entry;
// a member that missed them (it was restored from a snapshot, or its disk failed) fetches each
// missing bundle by hash from another member. Bundles of collected versions are removed.
import { errorMessage } from '../errors.js'
import type { QueueStateMachine } from '../queue/state-machine.js'
import type { BundleStore } from './bundle-store.js'

const RETRY_MS = 5_000

export class BundleKeeper {
  private chain: Promise<void> = Promise.resolve()
  private retry: NodeJS.Timeout | undefined
  private closed = false

  constructor(
    private readonly store: BundleStore,
    private readonly state: QueueStateMachine,
    /** Asks another member for a bundle; rejects if none has it. */
    private readonly fetch: (hash: string) => Promise<Uint8Array>,
    private readonly log: (line: string) => void,
  ) {
    state.onDeploy({
      deployed: (deployment, contents) => {
        this.then(async () => {
          for (const [hash, base64] of Object.entries(contents)) await this.store.put(hash, Buffer.from(base64, 'base64'))
        }, `storing the bundles of version ${deployment.version}`)
      },
      collected: () => this.then(() => this.collect(), 'removing the bundles of collected versions'),
    })
    state.onRestore(() => this.syncSoon(0))
  }

  /** Fetches what is missing now (a restart after a snapshot), and again later until nothing is. */
  start(): void {
    this.syncSoon(0)
  }

  close(): void {
    this.closed = true
    clearTimeout(this.retry)
  }

  /** Resolves once every store change asked for so far is done. */
  settled(): Promise<void> {
    return this.chain
  }

  private wanted(): Set<string> {
    return new Set(this.state.deployments.list().flatMap((d) => Object.values(d.bundles)))
  }

  private async collect(): Promise<void> {
    const removed = await this.store.keepOnly(this.wanted())
    if (removed > 0) this.log(`peerqueue: removed ${removed} bundle(s) no version needs`)
  }

  private syncSoon(ms: number): void {
    if (this.closed) return
    clearTimeout(this.retry)
    this.retry = setTimeout(() => this.then(() => this.sync(), 'fetching missing bundles'), ms)
    this.retry.unref()
  }

  private async sync(): Promise<void> {
    let missing = 0
    for (const hash of this.wanted()) {
      if (await this.store.has(hash)) continue
      try {
        await this.store.put(hash, await this.fetch(hash))
        this.log(`peerqueue: fetched bundle ${hash.slice(0, 12)}… from another member`)
      } catch (err) {
        missing += 1
        this.log(`peerqueue: bundle ${hash.slice(0, 12)}… is missing here and could not be fetched yet: ${errorMessage(err)}`)
      }
    }
    if (missing > 0) this.syncSoon(RETRY_MS)
  }

  private then(step: () => Promise<void>, what: string): void {
    this.chain = this.chain.then(step).catch((err: unknown) => {
      this.log(`peerqueue: ${what} failed: ${errorMessage(err)}`)
      this.syncSoon(RETRY_MS)
    })
  }
}
