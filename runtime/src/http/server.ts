// The HTTP listener of a trusted peer (off unless asked for): the dashboard at /, Prometheus
// metrics at /metrics, the HTTP API at /v1. Hono routes it; @hono/node-server serves it.
import { serve, type ServerType } from '@hono/node-server'
import { Hono } from 'hono'
import type { Registry } from 'prom-client'
import { PeerqueueError, errorMessage } from '../errors.js'
import { apiRoutes } from './api.js'
import { DASHBOARD_HTML } from './dashboard-page.js'
import type { HttpHost } from './host.js'
import { collectQueueMetrics } from './metrics.js'
import type { TokenStore } from './tokens.js'

export interface HttpOptions {
  /** host:port, such as 127.0.0.1:8080 (port 0: any free port). */
  readonly listen: string
  readonly host: HttpHost
  readonly tokens: TokenStore
  readonly registry: Registry
}

export interface HttpListener {
  /** The URL it answers at. */
  readonly url: string
  close(): Promise<void>
}

export async function startHttp(options: HttpOptions): Promise<HttpListener> {
  const { hostname, port } = parseListen(options.listen)
  const loopback = hostname === '127.0.0.1' || hostname === '::1' || hostname === 'localhost'
  const app = new Hono()
  app.get('/', (c) => c.html(DASHBOARD_HTML))
  app.get('/metrics', async (c) => c.text(await options.registry.metrics(), 200, { 'content-type': options.registry.contentType }))
  app.route('/v1', apiRoutes({ host: options.host, tokens: options.tokens, openReads: loopback && options.tokens.size === 0 }))
  const stopMetrics = collectQueueMetrics(options.registry, options.host)
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname, port }, () => resolve(s))
    s.once('error', (err) => reject(new PeerqueueError('E_LISTEN', `cannot serve HTTP on ${options.listen}: ${errorMessage(err)}`)))
  })
  const address = server.address()
  const bound = typeof address === 'object' && address ? address.port : port
  return {
    url: `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${bound}`,
    close: async () => {
      stopMetrics()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function parseListen(listen: string): { hostname: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen)
  const port = Number(match?.[3])
  if (!match || port > 65_535) throw new PeerqueueError('E_USAGE', `--http wants host:port, such as 127.0.0.1:8080 (got "${listen}")`)
  return { hostname: match[1] ?? match[2]!, port }
}
