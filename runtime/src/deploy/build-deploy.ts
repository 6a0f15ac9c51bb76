// What `queue-runtime deploy` sends: the jobs/ directory bundled with esbuild (one self-contained
// bundle per handler, as a peer bundles it for itself), each handler described by loading it in a
// thread, a manifest naming every bundle by its SHA-256, signed with the deployer's key.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PeerqueueError } from '../errors.js'
import type { Identity } from '../net/identity.js'
import type { SignedManifest } from '../queue/deployments.js'
import type { QueueConfig } from '../registry/schema.js'
import { RUNTIME_VERSION } from '../version.js'
import { buildCatalog } from '../worker/catalog.js'
import { HandlerPool } from '../worker/pool.js'
import { MANIFEST_FORMAT, bundleHash, signManifest, type Manifest, type ManifestHandler } from './manifest.js'

export interface BuiltDeploy extends SignedManifest {
  readonly bundles: Readonly<Record<string, string>>
  readonly handlers: readonly ManifestHandler[]
}

export async function buildDeploy(jobsDir: string, queue: QueueConfig, identity: Identity): Promise<BuiltDeploy> {
  const cacheDir = await mkdtemp(join(tmpdir(), 'pq-deploy-'))
  const pool = new HandlerPool(1, () => undefined)
  try {
    const catalog = await buildCatalog(jobsDir, cacheDir, pool)
    const bundles: Record<string, string> = {}
    const handlers: ManifestHandler[] = []
    let total = 0
    for (const info of [...catalog.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      const bytes = await readFile(info.bundle)
      if (bytes.length > queue.limits.maxBundleBytes) {
        throw new PeerqueueError('E_BUNDLE_TOO_LARGE', `${info.source} bundles to ${bytes.length} bytes, over the queue's limit of ${queue.limits.maxBundleBytes} (limits.maxBundleBytes in the registry)`)
      }
      const hash = bundleHash(bytes)
      if (bundles[hash] === undefined) total += bytes.length
      bundles[hash] = bytes.toString('base64')
      handlers.push({
        name: info.name,
        bundle: hash,
        bytes: bytes.length,
        source: info.source,
        ...(info.retry ? { retry: info.retry } : {}),
        ...(info.timeoutMs === undefined ? {} : { timeoutMs: info.timeoutMs }),
        ...(info.concurrency === undefined ? {} : { concurrency: info.concurrency }),
        ...(info.globalConcurrency === undefined ? {} : { globalConcurrency: info.globalConcurrency }),
        ...(info.rateLimit ? { rateLimit: info.rateLimit } : {}),
        hasSchema: info.hasSchema,
        ...(info.jsonSchema === undefined ? {} : { jsonSchema: info.jsonSchema }),
      })
    }
    if (total > queue.limits.maxDeployBytes) {
      throw new PeerqueueError('E_BUNDLE_TOO_LARGE', `the bundles come to ${total} bytes, over the queue's limit of ${queue.limits.maxDeployBytes} (limits.maxDeployBytes in the registry)`)
    }
    const manifest: Manifest = { format: MANIFEST_FORMAT, queue: queue.name, sdk: RUNTIME_VERSION, createdAt: new Date().toISOString(), handlers }
    return { ...(await signManifest(manifest, identity)), bundles, handlers }
  } finally {
    await pool.close()
    await rm(cacheDir, { recursive: true, force: true })
  }
}
