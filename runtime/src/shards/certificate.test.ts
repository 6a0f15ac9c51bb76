import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { signCertificate, verifyCertificate, type CertificateBody, type ShardCertificate } from './certificate.js'

async function peers(n: number): Promise<{ id: string; key: PrivateKey }[]> {
  return Promise.all(Array.from({ length: n }, async () => {
    const key = await generateKeyPair('Ed25519')
    return { id: peerIdFromPrivateKey(key).toString(), key }
  }))
}

const NOW = 1_800_000_000_000

describe('shard certificates', async () => {
  const root = await peers(3)
  const stranger = (await peers(1))[0]!
  const rootIds = root.map((p) => p.id)
  const body: CertificateBody = { queue: 'q', shard: 4, members: [root[0]!.id, root[1]!.id, stranger.id], epoch: 2, expiresAt: NOW + 60_000 }
  const signedBy = async (signers: { id: string; key: PrivateKey }[], b: CertificateBody = body): Promise<ShardCertificate> => ({ ...b, signatures: await Promise.all(signers.map((s) => signCertificate(b, s.id, s.key))) })
  const check = { queue: 'q', root: rootIds, now: NOW, shard: 4 }

  it('holds when a majority of the root signed it', async () => {
    await expect(verifyCertificate(await signedBy(root.slice(0, 2)), check)).resolves.toBeDefined()
    await expect(verifyCertificate(await signedBy(root), check)).resolves.toBeDefined()
  })

  it('is refused when signed by a minority, or the same signer twice', async () => {
    await expect(verifyCertificate(await signedBy(root.slice(0, 1)), check)).rejects.toThrow(/1 valid signature\(s\) of root trusted peers, a majority is 2 of 3/)
    const twice = await signedBy([root[0]!, root[0]!])
    await expect(verifyCertificate(twice, check)).rejects.toThrow(/majority/)
  })

  it('is refused when signed by keys outside the root', async () => {
    await expect(verifyCertificate(await signedBy([root[0]!, stranger]), check)).rejects.toThrow(/majority/)
    // A stranger's signature filed under a root peer's name does not check out either.
    const forged = await signedBy([root[0]!, stranger])
    const relabelled = { ...forged, signatures: [forged.signatures[0]!, { signer: root[1]!.id, signature: forged.signatures[1]!.signature }] }
    await expect(verifyCertificate(relabelled, check)).rejects.toThrow(/majority/)
  })

  it('is refused once expired (past the clock allowance)', async () => {
    const cert = await signedBy(root)
    await expect(verifyCertificate(cert, { ...check, now: NOW + 64_000 })).resolves.toBeDefined()
    await expect(verifyCertificate(cert, { ...check, now: NOW + 66_000 })).rejects.toThrow(/expired/)
  })

  it('is refused when its members, epoch or shard were changed after signing', async () => {
    const cert = await signedBy(root)
    await expect(verifyCertificate({ ...cert, members: [root[0]!.id, root[2]!.id, stranger.id] }, check)).rejects.toThrow(/majority/)
    await expect(verifyCertificate({ ...cert, epoch: 3 }, check)).rejects.toThrow(/majority/)
    await expect(verifyCertificate({ ...cert, expiresAt: cert.expiresAt + 1 }, check)).rejects.toThrow(/majority/)
    await expect(verifyCertificate(cert, { ...check, shard: 5 })).rejects.toThrow(/for shard 4/)
    await expect(verifyCertificate(cert, { ...check, queue: 'other' })).rejects.toThrow(/for queue "q"/)
  })

  it('is refused when it is not a certificate at all', async () => {
    await expect(verifyCertificate({ queue: 'q' } as unknown as ShardCertificate, check)).rejects.toThrow(/not a certificate/)
  })
})
