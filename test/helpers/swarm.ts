// Several worker peers in one process, for network tests that need dozens of peers:
//   node test/helpers/swarm.ts <registry> <dir> <count> <jobsDir>
// Prints "swarm ready <peer ids as JSON>" once all have started; SIGTERM stops them all.
// Runs on Node's own type stripping against the built runtime, like a user's program would.
import { join } from 'node:path'
import { Peer, createKeyFile } from '@peerqueue/runtime'

const [registry, dir, countText, jobsDir] = process.argv.slice(2)
const count = Number(countText)
if (!registry || !dir || !jobsDir || !Number.isInteger(count) || count < 1) {
  process.stderr.write('usage: node test/helpers/swarm.ts <registry> <dir> <count> <jobsDir>\n')
  process.exit(2)
}

const keyFiles = Array.from({ length: count }, (_, i) => join(dir, `swarm-${process.pid}-${i}.key`))
const ids = await Promise.all(keyFiles.map(async (keyFile) => (await createKeyFile(keyFile)).peerId))
const log = (line: string) => process.stderr.write(`${line}\n`)
const peers: Peer[] = await Promise.all(keyFiles.map((keyFile) => Peer.start({ registry, keyFile, dataDir: join(dir, 'data'), jobsDir, concurrency: 1, log })))
process.stdout.write(`swarm ready ${JSON.stringify(ids)}\n`)

process.once('SIGTERM', () => {
  void Promise.allSettled(peers.map((peer) => peer.close())).then(() => process.exit(0))
})
