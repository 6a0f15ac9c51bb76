// A deploy's manifest: which bundle (by content hash) runs each job name, with what the trusted
// peers need to know of each handler without loading it. The deployer signs the manifest's exact
// text with its peer key; trusted peers check the signature before they accept a deploy, and
// workers check it again before they load any of its code.
import { createHash } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import { z } from 'zod'
import { PeerqueueError, errorMessage } from '../errors.js'
import type { Identity } from '../net/identity.js'
import type { SignedManifest } from '../queue/deployments.js'
import type { QueueConfig } from '../registry/schema.js'

export const MANIFEST_FORMAT = 'peerqueue-deploy/1'
/** Manifests are small: names, hashes, settings and schemas. */
export const MAX_MANIFEST_BYTES = 256 * 1024
/** Signatures are over this and the manifest, so that no other signed text can pass for a manifest. */
const SIGNED_PREFIX = 'peerqueue deploy manifest\n'

const handlerShape = z.strictObject({
  name: z.string().min(1).max(128),
  bundle: z.string().regex(/^[0-9a-f]{64}$/, 'a bundle is named by its SHA-256 in hex'),
  bytes: z.int().min(1),
  source: z.string().max(1024),
  retry: z.strictObject({ maxAttempts: z.int().min(1).max(1000).optional(), backoff: z.unknown().optional() }).optional(),
  timeoutMs: z.int().min(1).optional(),
  concurrency: z.int().min(1).optional(),
  globalConcurrency: z.int().min(1).optional(),
  rateLimit: z.strictObject({ max: z.int().min(1), perMs: z.int().min(1), keyed: z.boolean() }).optional(),
  hasSchema: z.boolean(),
  jsonSchema: z.unknown().optional(),
})

const manifestShape = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  queue: z.string().min(1),
  sdk: z.string().max(64),
  createdAt: z.string().max(64),
  handlers: z.array(handlerShape).min(1).max(1000),
})

export type Manifest = z.infer<typeof manifestShape>
export type ManifestHandler = Manifest['handlers'][number]

export function bundleHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

export async function signManifest(manifest: Manifest, identity: Identity): Promise<SignedManifest> {
  const text = JSON.stringify(manifest)
  const signature = await identity.privateKey.sign(new TextEncoder().encode(SIGNED_PREFIX + text))
  return { manifest: text, deployer: identity.peerId, signature: Buffer.from(signature).toString('base64') }
}

/** Whether `peerId` may deploy to `queue` (its registry's `deployers`). */
export function mayDeploy(queue: QueueConfig, peerId: string): boolean {
  if (queue.deployers === 'trusted') return queue.trustedPeers.some((p) => p.id === peerId)
  return queue.deployers.includes(peerId)
}

/**
 * The manifest of a signed deploy, once its shape, its queue, its deployer's right to deploy
 * and its signature all check out; E_DEPLOY_REFUSED otherwise.
 */
export async function verifyManifest(signed: SignedManifest, queue: QueueConfig): Promise<Manifest> {
  const refuse = (why: string) => new PeerqueueError('E_DEPLOY_REFUSED', `deploy by ${signed.deployer} refused: ${why}`)
  if (Buffer.byteLength(signed.manifest) > MAX_MANIFEST_BYTES) throw refuse(`its manifest is over ${MAX_MANIFEST_BYTES} bytes`)
  if (!mayDeploy(queue, signed.deployer)) throw refuse(`it is not among the deployers of "${queue.displayName}" in the registry (deployers: ${JSON.stringify(queue.deployers)})`)
  let valid = false
  try {
    const key = peerIdFromString(signed.deployer).publicKey
    if (!key) throw new Error('its peer id carries no public key')
    valid = await key.verify(new TextEncoder().encode(SIGNED_PREFIX + signed.manifest), Buffer.from(signed.signature, 'base64'))
  } catch (err) {
    throw refuse(`its signature cannot be checked: ${errorMessage(err)}`)
  }
  if (!valid) throw refuse('its signature does not match the manifest and the deployer\'s key')
  let parsed: unknown
  try {
    parsed = JSON.parse(signed.manifest)
  } catch {
    throw refuse('its manifest is not JSON')
  }
  const result = manifestShape.safeParse(parsed)
  if (!result.success) {
    const issue = result.error.issues[0]!
    throw refuse(`its manifest is malformed at ${issue.path.join('.') || '(top)'}: ${issue.message}`)
  }
  if (result.data.queue !== queue.name) throw refuse(`it was made for queue "${result.data.queue}", not "${queue.name}"`)
  const names = new Set<string>()
  for (const handler of result.data.handlers) {
    if (names.has(handler.name)) throw refuse(`it names the job "${handler.name}" twice`)
    names.add(handler.name)
  }
  return result.data
}
