// What a registry leaves to the defaults, said in words, so an operator reading `registry check`
// on a short document (PeerPrint's list only names and peers) knows who may submit and work.
import type { QueueConfig } from './schema.js'

export function defaultsApplied(data: unknown, queues: readonly QueueConfig[]): string[][] {
  const written = (Array.isArray((data as { queues?: unknown } | null)?.queues) ? (data as { queues: unknown[] }).queues : []) as unknown[]
  return queues.map((queue, i) => describe(asRecord(written[i]), queue))
}

function describe(written: Record<string, unknown>, queue: QueueConfig): string[] {
  const lines: string[] = []
  if (!('submitters' in written)) lines.push('submitters: trusted (only the trusted peers may submit jobs)')
  if (!('workers' in written)) lines.push('workers: any (every peer that finds the queue may run its jobs)')
  if (!('deployers' in written)) lines.push('deployers: trusted (only the trusted peers may deploy handler code to workers)')
  if (!('bootstrap' in written) && queue.trustedPeers.some((p) => p.addrs.length === 0)) {
    lines.push('bootstrap: none (trusted peers without addresses are found through the rendezvous: a local network, or --bootstrap)')
  }
  const limits = asRecord(written.limits)
  for (const [key, value] of Object.entries(queue.limits)) if (!(key in limits)) lines.push(`limits.${key}: ${value}`)
  if (!('saturation' in written)) lines.push('saturation: off (the queue takes jobs up to limits.maxQueuedJobs, whatever the network can run)')
  else {
    const saturation = asRecord(written.saturation)
    for (const [key, value] of Object.entries(queue.saturation ?? {})) if (!(key in saturation)) lines.push(`saturation.${key}: ${JSON.stringify(value)}`)
  }
  const shards = asRecord(written.shards)
  for (const [key, value] of Object.entries(queue.shards)) if (!(key in shards)) lines.push(`shards.${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
  const census = asRecord(written.census)
  for (const [key, value] of Object.entries(queue.census)) if (!(key in census)) lines.push(`census.${key}: ${value}`)
  return lines
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
}
