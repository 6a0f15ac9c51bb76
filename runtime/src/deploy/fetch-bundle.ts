// Fetches a deployed bundle by hash from the trusted peers, one after another, and returns it
// only if its bytes hash to what was asked: a peer that answers with anything else is skipped.
import { PeerqueueError, errorMessage } from '../errors.js'
import { RpcClient } from '../net/rpc.js'
import type { PeerNode } from '../net/node.js'
import { bundleHash } from './manifest.js'

const FETCH_TIMEOUT_MS = 30_000

export async function fetchBundle(node: PeerNode, from: readonly string[], hash: string): Promise<Uint8Array> {
  const problems: string[] = []
  for (const id of from) {
    let rpc: RpcClient | undefined
    try {
      rpc = await RpcClient.openPeer(node, id)
      const answer = (await rpc.call('bundle', { hash }, FETCH_TIMEOUT_MS)) as { bytes?: unknown }
      if (typeof answer?.bytes !== 'string') throw new Error('no bundle in the answer')
      const bytes = Buffer.from(answer.bytes, 'base64')
      if (bundleHash(bytes) !== hash) throw new PeerqueueError('E_BUNDLE_MISMATCH', `its bytes do not hash to ${hash.slice(0, 12)}…`)
      return bytes
    } catch (err) {
      problems.push(`${id.slice(-8)}: ${errorMessage(err)}`)
    } finally {
      await rpc?.close().catch(() => undefined)
    }
  }
  throw new PeerqueueError('E_BUNDLE_MISSING', `no trusted peer gave bundle ${hash.slice(0, 12)}… (${problems.join('; ') || 'none to ask'})`)
}
