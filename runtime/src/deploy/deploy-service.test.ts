// A deploy is checked before anything enters the log: its signature, its deployer, the sender,
// every bundle's hash and size. Refused deploys leave no version and no bundle behind.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createKeyFile, type Identity } from '../net/identity.js'
import { SoloGroup } from '../raft/solo-group.js'
import { parseRegistry } from '../registry/parse.js'
import { BundleKeeper } from './bundle-keeper.js'
import { BundleStore } from './bundle-store.js'
import { DeployService } from './deploy-service.js'
import { MANIFEST_FORMAT, bundleHash, signManifest, verifyManifest, type Manifest } from './manifest.js'

const BUNDLE = Buffer.from('export default { name: "greet" }\n')

describe('deploys as the trusted peers check them', () => {
  let dir: string | undefined
  let group: SoloGroup | undefined
  afterEach(async () => {
    await group?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  async function setup(limits = '') {
    dir = await mkdtemp(join(tmpdir(), 'pq-deploy-'))
    const trusted = await createKeyFile(join(dir, 'trusted.key'))
    const deployer = await createKeyFile(join(dir, 'deployer.key'))
    const stranger = await createKeyFile(join(dir, 'stranger.key'))
    const registry = parseRegistry(
      `version: 1\nqueues:\n  - name: q\n    rendezvous: q-1\n    trustedPeers:\n      - id: ${trusted.peerId}\n        addrs: [/ip4/127.0.0.1/tcp/1]\n    deployers: [${deployer.peerId}]\n${limits}`,
      'test',
    )
    const queue = registry.queues[0]!
    group = await SoloGroup.open({ dir: join(dir, 'log') })
    const store = new BundleStore(join(dir, 'deployed'))
    const keeper = new BundleKeeper(store, group.state, () => Promise.reject(new Error('alone')), () => undefined)
    const service = new DeployService(group, queue, store)
    const manifest = (bundle: Buffer, name = 'greet'): Manifest => ({ format: MANIFEST_FORMAT, queue: queue.name, sdk: '0', createdAt: 'now', handlers: [{ name, bundle: bundleHash(bundle), bytes: bundle.length, source: 'jobs/greet.ts', hasSchema: false }] })
    const request = async (who: Identity, bundle: Buffer, sent = bundle, name = 'greet') => ({ ...(await signManifest(manifest(bundle, name), who)), bundles: { [bundleHash(bundle)]: sent.toString('base64') } })
    return { queue, store, keeper, service, deployer, stranger, request, group: group! }
  }

  it('takes a signed deploy from a deployer and stores its bundle', async () => {
    const { service, store, keeper, deployer, request, group } = await setup()
    const answer = await service.handle('deploy', await request(deployer, BUNDLE), { peerId: deployer.peerId })
    expect(answer).toEqual({ version: 1, current: 1, collected: [] })
    await keeper.settled()
    expect(await store.read(bundleHash(BUNDLE))).toEqual(BUNDLE)
    expect(group.state.deployments.get(1)!.bundles).toEqual({ greet: bundleHash(BUNDLE) })
  })

  it('refuses a bundle whose bytes do not match its hash, a non-deployer, another sender and an oversized bundle', async () => {
    const { service, store, stranger, deployer, request, group } = await setup('    limits: { maxBundleBytes: 64 }\n')
    const tampered = Buffer.from('export default { name: "evil" }\n')
    await expect(service.handle('deploy', await request(deployer, BUNDLE, tampered), { peerId: deployer.peerId })).rejects.toMatchObject({ code: 'E_BUNDLE_MISMATCH' })
    await expect(service.handle('deploy', await request(stranger, BUNDLE), { peerId: stranger.peerId })).rejects.toMatchObject({ code: 'E_DEPLOY_REFUSED', message: expect.stringContaining('not among the deployers') })
    await expect(service.handle('deploy', await request(deployer, BUNDLE), { peerId: stranger.peerId })).rejects.toMatchObject({ code: 'E_DEPLOY_REFUSED', message: expect.stringContaining('sent by') })
    const big = Buffer.alloc(100, 'x')
    await expect(service.handle('deploy', await request(deployer, big), { peerId: deployer.peerId })).rejects.toMatchObject({ code: 'E_BUNDLE_TOO_LARGE' })
    expect(group.state.deployments.list()).toEqual([])
    expect(await store.list()).toEqual([])
  })

  it('refuses a manifest changed after it was signed, or made for another queue', async () => {
    const { queue, deployer } = await setup()
    const signed = await signManifest({ format: MANIFEST_FORMAT, queue: queue.name, sdk: '0', createdAt: 'now', handlers: [{ name: 'greet', bundle: bundleHash(BUNDLE), bytes: BUNDLE.length, source: 'x', hasSchema: false }] }, deployer)
    await expect(verifyManifest(signed, queue)).resolves.toMatchObject({ queue: queue.name })
    await expect(verifyManifest({ ...signed, manifest: signed.manifest.replace('greet', 'grant') }, queue)).rejects.toMatchObject({ code: 'E_DEPLOY_REFUSED', message: expect.stringContaining('signature does not match') })
    const other = await signManifest({ format: MANIFEST_FORMAT, queue: 'elsewhere', sdk: '0', createdAt: 'now', handlers: [{ name: 'greet', bundle: bundleHash(BUNDLE), bytes: BUNDLE.length, source: 'x', hasSchema: false }] }, deployer)
    await expect(verifyManifest(other, queue)).rejects.toMatchObject({ message: expect.stringContaining('made for queue "elsewhere"') })
  })

  it('removes the bundles of collected versions, and never reads a damaged one', async () => {
    const { service, store, keeper, deployer, request } = await setup()
    const bundles = [1, 2, 3, 4, 5].map((n) => Buffer.from(`export default ${n}\n`))
    for (const bundle of bundles) await service.handle('deploy', await request(deployer, bundle), { peerId: deployer.peerId })
    await keeper.settled()
    await keeper.settled()
    // Versions 1 and 2 are past the last three and no job needs them.
    expect((await store.list()).sort()).toEqual(bundles.slice(2).map(bundleHash).sort())
    await writeFile(store.path(bundleHash(bundles[4]!)), 'damaged')
    expect(await store.read(bundleHash(bundles[4]!))).toBeUndefined()
    await expect(store.put(bundleHash(bundles[0]!), bundles[1]!)).rejects.toMatchObject({ code: 'E_BUNDLE_MISMATCH' })
  })
})
