// A shard's authority: a certificate naming the queue, the shard, the peers that keep it and an
// epoch, valid until `expiresAt`, signed by a majority of the queue's root trusted peers with
// their peer keys. Clients, workers and shard members act for a shard only under one that
// checks out here, so a peer the root did not choose cannot lead a shard, grant its leases or
// join its Raft group.
import { peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { PeerqueueError, errorMessage } from '../errors.js'

export interface CertificateBody {
  readonly queue: string
  readonly shard: number
  /** Peer ids of the shard's Raft group, in the order the root chose them. */
  readonly members: readonly string[]
  /** Bumped whenever the members change: a newer epoch replaces every older certificate. */
  readonly epoch: number
  /** Unix ms, from the root leader's clock when it issued the certificate. */
  readonly expiresAt: number
}

export interface CertificateSignature {
  readonly signer: string
  /** Base64 of the signer's signature over SIGNED_PREFIX + canonical body. */
  readonly signature: string
}

export interface ShardCertificate extends CertificateBody {
  readonly signatures: readonly CertificateSignature[]
}

/** Signatures cover this and the body, so no other text a root peer signs can pass for a certificate. */
const SIGNED_PREFIX = 'peerqueue shard certificate\n'
/**
 * Clocks of different machines disagree: a certificate is taken for this long past its
 * expiry, and the root renews certificates long before (half their lifetime is left).
 */
export const CLOCK_SKEW_MS = 5_000

/** The exact bytes signed: keys in a fixed order, whatever order the body was built in. */
export function signedBytes(body: CertificateBody): Uint8Array {
  const canonical = JSON.stringify([body.queue, body.shard, [...body.members], body.epoch, body.expiresAt])
  return new TextEncoder().encode(SIGNED_PREFIX + canonical)
}

export async function signCertificate(body: CertificateBody, signer: string, key: PrivateKey): Promise<CertificateSignature> {
  const signature = await key.sign(signedBytes(body))
  return { signer, signature: Buffer.from(signature).toString('base64') }
}

export function bodyOf(certificate: CertificateBody): CertificateBody {
  return { queue: certificate.queue, shard: certificate.shard, members: [...certificate.members], epoch: certificate.epoch, expiresAt: certificate.expiresAt }
}

export interface CertificateCheck {
  /** The queue's internal name. */
  readonly queue: string
  /** The root trusted peers: only their signatures count. */
  readonly root: readonly string[]
  readonly now: number
  /** The shard the certificate must be for, when the caller knows. */
  readonly shard?: number
}

/** Signers whose signature checks out: distinct root peers only. */
export async function validSigners(certificate: ShardCertificate, root: readonly string[]): Promise<string[]> {
  const bytes = signedBytes(certificate)
  const signers = new Set<string>()
  for (const { signer, signature } of certificate.signatures ?? []) {
    if (!root.includes(signer) || signers.has(signer)) continue
    try {
      const key = peerIdFromString(signer).publicKey
      if (key && (await key.verify(bytes, Buffer.from(signature, 'base64')))) signers.add(signer)
    } catch {
      // a signature that cannot be read counts for nothing
    }
  }
  return [...signers]
}

/** Returns the certificate when it holds; E_CERTIFICATE saying why otherwise. */
export async function verifyCertificate(certificate: ShardCertificate, check: CertificateCheck): Promise<ShardCertificate> {
  const refuse = (why: string) => new PeerqueueError('E_CERTIFICATE', `certificate for shard ${String(certificate?.shard)} of "${check.queue}" refused: ${why}`)
  if (!isCertificateShape(certificate)) throw refuse('it is not a certificate')
  if (certificate.queue !== check.queue) throw refuse(`it is for queue "${certificate.queue}"`)
  if (check.shard !== undefined && certificate.shard !== check.shard) throw refuse(`it is for shard ${certificate.shard}`)
  if (certificate.expiresAt + CLOCK_SKEW_MS <= check.now) throw refuse(`it expired ${Math.round((check.now - certificate.expiresAt) / 1000)} s ago`)
  if (new Set(certificate.members).size !== certificate.members.length || certificate.members.length === 0) throw refuse('its members are empty or repeated')
  let signers: string[]
  try {
    signers = await validSigners(certificate, check.root)
  } catch (err) {
    throw refuse(`its signatures cannot be checked: ${errorMessage(err)}`)
  }
  const majority = Math.floor(check.root.length / 2) + 1
  if (signers.length < majority) throw refuse(`${signers.length} valid signature(s) of root trusted peers, a majority is ${majority} of ${check.root.length}`)
  return certificate
}

export function isCertificateShape(value: unknown): value is ShardCertificate {
  if (typeof value !== 'object' || value === null) return false
  const c = value as Record<string, unknown>
  return (
    typeof c.queue === 'string' &&
    Number.isSafeInteger(c.shard) &&
    Array.isArray(c.members) &&
    c.members.every((m) => typeof m === 'string') &&
    Number.isSafeInteger(c.epoch) &&
    Number.isSafeInteger(c.expiresAt) &&
    Array.isArray(c.signatures) &&
    c.signatures.every((s: unknown) => typeof s === 'object' && s !== null && typeof (s as CertificateSignature).signer === 'string' && typeof (s as CertificateSignature).signature === 'string')
  )
}
