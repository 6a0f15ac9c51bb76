// The HTTP listener, as the peer loads it: only when --http is given (a bundle of its own), so a
// peer without it pays nothing for hono, prom-client or the page.
import type { Registry } from 'prom-client'

export { startHttp, type HttpListener, type HttpOptions } from './server.js'
export { createMetricsRegistry } from './metrics.js'
export { TokenStore } from './tokens.js'
export type { HttpHost, JobLister, JobFilter } from './host.js'

/** libp2p's own metrics (connections, streams, protocols) on the same registry. */
export async function libp2pMetrics(registry: Registry): Promise<unknown> {
  const { prometheusMetrics } = await import('@libp2p/prometheus-metrics')
  return prometheusMetrics({ registry, preserveExistingMetrics: true, collectDefaultMetrics: true })
}
