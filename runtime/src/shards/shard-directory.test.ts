// Clients, workers and delegates read the shard map through ShardDirectory: a certificate that
// does not hold is refused and counted, and its shard is neither routed to nor hosted.
import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { registrySchema } from '../registry/schema.js'
import type { PeerNode } from '../net/node.js'
import { signCertificate, type CertificateBody, type ShardCertificate } from './certificate.js'
import { ShardDirectory } from './shard-directory.js'
import type { ShardMapView } from './root-shards.js'

const NOW = 1_800_000_000_000

async function peer(): Promise<{ id: string; key: PrivateKey }> {
  const key = await generateKeyPair('Ed25519')
  return { id: peerIdFromPrivateKey(key).toString(), key }
}

describe('ShardDirectory', async () => {
  const root = await Promise.all([peer(), peer(), peer()])
  const stranger = await peer()
  const delegate = await peer()
  const queue = registrySchema.parse({ queues: [{ name: 'q', rendezvous: 'q', trustedPeers: root.map((p) => p.id) }] }).queues[0]!
  const body = (shard: number, members: string[], expiresAt = NOW + 60_000): CertificateBody => ({ queue: 'q', shard, members, epoch: 1, expiresAt })
  const sign = async (b: CertificateBody, signers: { id: string; key: PrivateKey }[]): Promise<ShardCertificate> => ({ ...b, signatures: await Promise.all(signers.map((s) => signCertificate(b, s.id, s.key))) })
  const entry = (certificate: ShardCertificate) => ({ id: certificate.shard, state: 'open' as const, epoch: certificate.epoch, members: certificate.members.map((id) => ({ id, addrs: [] })), founders: certificate.members, certificate, load: null })

  it('keeps only shards whose certificate a majority of the root signed, unexpired, for this queue and shard', async () => {
    const members = [delegate.id, root[0]!.id, root[1]!.id]
    const good = await sign(body(1, members), root.slice(0, 2))
    const minority = await sign(body(2, members), root.slice(0, 1))
    const outsider = await sign(body(3, members), [root[0]!, stranger])
    const expired = await sign(body(4, members, NOW - 10_000), root)
    const otherQueue = await sign({ ...body(5, members), queue: 'other' }, root)
    // Signed for some members, then shown with others: the signatures no longer match.
    const signedFor = await sign(body(6, [root[0]!.id, root[1]!.id, root[2]!.id]), root)
    const otherMembers = { ...signedFor, members }
    // A valid certificate of shard 8, offered as shard 7's.
    const wrongShard = { ...entry(await sign(body(8, members), root)), id: 7 }
    const view: ShardMapView = { root: { state: 'draining', unfinished: 10 }, shards: [...[good, minority, outsider, expired, otherQueue, otherMembers].map(entry), wrongShard], minted: 8, retired: [] }
    const directory = new ShardDirectory({ node: {} as PeerNode, queue, askRoot: async () => view, now: () => NOW, self: delegate.id })
    await directory.refresh()
    expect(directory.shards().map((s) => s.id)).toEqual([1])
    expect(directory.refused).toBe(6)
    // A delegate hosts only what a valid certificate names it in.
    expect(directory.hostedMap(delegate.id).live().map((s) => s.id)).toEqual([1])
    expect(directory.hostedMap(stranger.id).live().filter((s) => s.members.includes(stranger.id))).toEqual([])
    expect(directory.link(2)).toBeUndefined()
  })

  it('tells a delegate to drop a shard only when the root says it retired or moved, not when its certificate lapsed', async () => {
    const members = [delegate.id, root[0]!.id, root[1]!.id]
    let now = NOW
    let view: ShardMapView = { root: { state: 'open', unfinished: 0 }, shards: [entry(await sign(body(1, members), root))], minted: 1, retired: [] }
    const directory = new ShardDirectory({ node: {} as PeerNode, queue, askRoot: async () => view, now: () => now })
    const map = directory.hostedMap(delegate.id)
    await directory.refresh()
    expect(map.live().map((s) => s.id)).toEqual([1])
    now = NOW + 120_000
    await directory.refresh()
    expect(map.live()).toEqual([])
    expect(map.dropped(1)).toBeUndefined()
    const moved = await sign({ ...body(1, [root[0]!.id, root[1]!.id, root[2]!.id], NOW + 200_000), epoch: 2 }, root)
    view = { ...view, shards: [entry(moved)] }
    await directory.refresh()
    expect(map.dropped(1)).toBe('moved')
    view = { ...view, shards: [], retired: [1] }
    await directory.refresh()
    expect(map.dropped(1)).toBe('retired')
  })
})

describe('ShardDirectory against a trusted peer from before shards', async () => {
  const queue = registrySchema.parse({ queues: [{ name: 'q', rendezvous: 'q', trustedPeers: [(await peer()).id] }] }).queues[0]!
  it('reads an unknown method as a queue of one group, and lets other errors through', async () => {
    const { PeerqueueError } = await import('../errors.js')
    const old = new ShardDirectory({ node: {} as PeerNode, queue, askRoot: async () => { throw new PeerqueueError('E_PROTOCOL', 'unknown method "shards"') } })
    await old.refresh()
    expect(old.shards()).toEqual([])
    expect(old.rootOpen).toBe(true)
    const down = new ShardDirectory({ node: {} as PeerNode, queue, askRoot: async () => { throw new PeerqueueError('E_UNREACHABLE', 'no trusted peer answered') } })
    await expect(down.refresh()).rejects.toThrow(/no trusted peer answered/)
  })
})
