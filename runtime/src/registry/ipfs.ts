// Registries published on IPFS: fetched through an HTTP gateway, and checked against their CID
// when the CID says exactly which bytes it names (CIDv1, raw codec, sha2-256), so a gateway
// cannot hand out a different registry.
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { PeerqueueError } from '../errors.js'

export const DEFAULT_IPFS_GATEWAY = 'https://ipfs.io'
export const IPFS_GATEWAY_ENV = 'PEERQUEUE_IPFS_GATEWAY'

export interface IpfsSource {
  readonly cid: CID
  readonly url: string
}

export function ipfsSource(source: string, gateway = process.env[IPFS_GATEWAY_ENV] || DEFAULT_IPFS_GATEWAY): IpfsSource {
  const match = /^ipfs:\/\/([^/?#]+)$/.exec(source)
  let cid: CID | undefined
  try {
    cid = match ? CID.parse(match[1]!) : undefined
  } catch {
    cid = undefined
  }
  if (!cid) throw new PeerqueueError('E_REGISTRY_UNREADABLE', `${source}: not an ipfs://<CID> address`)
  if (!/^https?:\/\/[^/]+/.test(gateway)) throw new PeerqueueError('E_USAGE', `IPFS gateway ${gateway} is not an http(s) URL`)
  return { cid, url: `${gateway.replace(/\/+$/, '')}/ipfs/${cid.toString()}` }
}

/** Checks fetched bytes against the CID; returns false when the CID cannot be checked this way. */
export async function verifyAgainstCid(cid: CID, bytes: Uint8Array, source: string): Promise<boolean> {
  if (cid.version !== 1 || cid.code !== raw.code || cid.multihash.code !== sha256.code) return false
  const digest = await sha256.digest(bytes)
  if (!equalBytes(digest.digest, cid.multihash.digest)) {
    throw new PeerqueueError('E_REGISTRY_UNREADABLE', `${source}: the gateway returned content that does not match its CID; refusing it`)
  }
  return true
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i])
}
