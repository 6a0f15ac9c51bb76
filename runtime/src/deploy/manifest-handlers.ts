// A deployed handler's settings as the rest of the peer reads a local handler's: from the
// version's manifest, without loading its code. The manifest was checked when it was deployed.
import type { Deployment } from '../queue/deployments.js'
import type { Backoff } from '../queue/job.js'
import type { HandlerInfo } from '../worker/messages.js'
import type { Manifest } from './manifest.js'

const parsed = new Map<string, Manifest>()

export function manifestOf(deployment: Pick<Deployment, 'manifest'>): Manifest {
  let manifest = parsed.get(deployment.manifest)
  if (!manifest) {
    manifest = JSON.parse(deployment.manifest) as Manifest
    if (parsed.size > 64) parsed.clear()
    parsed.set(deployment.manifest, manifest)
  }
  return manifest
}

/** `bundle` is where the bundle is (or will be) on this peer, when it runs the code. */
export function handlerFromManifest(deployment: Pick<Deployment, 'manifest'>, name: string, bundle = ''): HandlerInfo | undefined {
  const h = manifestOf(deployment).handlers.find((x) => x.name === name)
  if (!h) return undefined
  return {
    name: h.name,
    bundle,
    source: h.source,
    retry: h.retry ? { ...(h.retry.maxAttempts === undefined ? {} : { maxAttempts: h.retry.maxAttempts }), ...(h.retry.backoff === undefined ? {} : { backoff: h.retry.backoff as Backoff }) } : undefined,
    timeoutMs: h.timeoutMs,
    concurrency: h.concurrency,
    globalConcurrency: h.globalConcurrency,
    rateLimit: h.rateLimit,
    hasSchema: h.hasSchema,
    ...(h.jsonSchema === undefined ? {} : { jsonSchema: h.jsonSchema }),
  }
}
