// The handlers this peer can run, by job name, read from freshly bundled jobs/ modules.
import { PeerqueueError, errorMessage } from '../errors.js'
import { bundleHandlers } from './bundler.js'
import type { HandlerInfo } from './messages.js'
import type { HandlerPool } from './pool.js'

export type Catalog = ReadonlyMap<string, HandlerInfo>

export async function buildCatalog(jobsDir: string, cacheDir: string, pool: HandlerPool): Promise<Catalog> {
  const bundles = await bundleHandlers(jobsDir, cacheDir)
  const described = await pool.describe(bundles)
  const catalog = new Map<string, HandlerInfo>()
  for (const [i, outcome] of described.entries()) {
    if (outcome.status === 'rejected') throw new PeerqueueError('E_HANDLERS_INVALID', `cannot load ${bundles[i]!.source}: ${errorMessage(outcome.reason)}`)
    const info = outcome.value
    const other = catalog.get(info.name)
    if (other) throw new PeerqueueError('E_HANDLERS_INVALID', `${info.source} and ${other.source} both define the job "${info.name}"`)
    catalog.set(info.name, info)
  }
  return catalog
}
