// peerqueue needs Node 22.12 or newer (libp2p 3 uses Promise.withResolvers, which Node 20 lacks,
// and fails deep inside with an error that names neither Node nor its version). Every entry
// point asks here first and says plainly what it needs and how to get it.
import { PeerqueueError } from './errors.js'

export const MINIMUM_NODE = '22.12.0'

export function nodeVersionProblem(version = process.versions.node): string | undefined {
  if (!isAtLeast(version, MINIMUM_NODE)) {
    return [
      `peerqueue needs Node.js ${MINIMUM_NODE} or newer; this is Node.js ${version}.`,
      'Either install Node.js 24 LTS (from nodejs.org, or `nvm install 24` with nvm), or let the',
      'project bring its own: `npm install --save-dev node@24` in the project, after which',
      '`npm run …` and `npx queue-runtime …` run on Node 24.',
    ].join('\n')
  }
  return undefined
}

/** Throws a clear error on a Node.js that is too old (for library entry points). */
export function assertNodeVersion(): void {
  const problem = nodeVersionProblem()
  if (problem) throw new PeerqueueError('E_NODE_VERSION', problem)
}

export function isAtLeast(version: string, minimum: string): boolean {
  const have = version.replace(/^v/, '').split('.').map((n) => Number.parseInt(n, 10) || 0)
  const want = minimum.split('.').map((n) => Number.parseInt(n, 10) || 0)
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) !== (want[i] ?? 0)) return (have[i] ?? 0) > (want[i] ?? 0)
  }
  return true
}
