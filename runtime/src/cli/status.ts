import type { PeerStatus } from '../peer.js'
import { printJson, type CliCommand } from './command.js'
import { clientOptionHelp, clientOptionSpec, withClient } from './client-options.js'

export const status: CliCommand = {
  name: 'status',
  summary: 'show the queue: leader, members, jobs by state, workers, census',
  usage: `Usage: queue-runtime status [options]

Asks a trusted peer of the queue for its view of the group and the jobs. The
leader adds its census: the number of peers, how many are idle and the free
handler slots, estimated from polls that only a sample of peers answer, each
with its 95% interval. A queue that grew into shards lists each shard with its
members, leader, jobs and certificate; \`jobs\` then counts every shard.

Options:
${clientOptionHelp}`,
  options: clientOptionSpec,
  async run(values) {
    const report = await withClient(values, (client) => client.status())
    if (values.json) printJson(report)
    else process.stdout.write(formatStatus(report))
  },
}

function formatStatus(s: PeerStatus): string {
  const jobs = Object.entries(s.jobs).map(([state, n]) => `${state} ${n}`).join(', ')
  const health = (m: PeerStatus['members'][number]) => (m.healthy === null ? 'health unknown' : m.healthy ? 'healthy' : 'unreachable')
  const lines = [
    `queue       ${s.queue}`,
    ...(s.stopped ? [`STOPPED     ${s.stopped}`] : []),
    `leader      ${s.leader ?? '(none: election under way or no majority)'} (term ${s.term}, commit index ${s.commitIndex})`,
    ...s.members.map((m) => `member      ${m.id}${m.id === s.leader ? ' leader' : ''}${m.self ? ' (answering)' : ''}: ${health(m)}, lag ${m.lag ?? '?'}${m.connection === 'relay' ? ', through a relay' : ''}`),
    `jobs        ${jobs}${s.shards && s.shards.length > 0 ? ` (across the root and ${s.shards.length} shard(s))` : ''}`,
    ...shardLines(s),
    ...saturationLines(s),
    ...(s.paused && (s.paused.all || s.paused.names.length > 0) ? [`paused      ${s.paused.all ? 'the whole queue' : ''}${s.paused.all && s.paused.names.length > 0 ? '; and ' : ''}${s.paused.names.join(', ')} (queue-runtime resume [name])`] : []),
    ...s.workers.map((w) => `worker      ${w.id} running ${w.running}/${w.capacity}${w.versions ? `, deployed versions held: ${w.versions.join(', ') || 'none yet'}` : ''}`),
    `handlers    ${s.handlers.join(', ') || '(none)'}`,
    `discovery   ${discoveryLine(s.discovery)}`,
    ...censusLines(s.census),
  ]
  return lines.join('\n') + '\n'
}

function saturationLines(s: PeerStatus): string[] {
  const sat = s.saturation
  if (!sat) return []
  const capacity = sat.capacity ? `free slots ${Math.round(sat.capacity.estimate)} (95%: ${Math.floor(sat.capacity.low)}-${Number.isFinite(sat.capacity.high) ? Math.ceil(sat.capacity.high) : '∞'})` : 'no census yet'
  const lines = [`saturation  ${sat.saturated ? 'SATURATED' : 'taking jobs'}: ${sat.unfinished} unfinished of a bound of ${sat.bound} (${sat.jobsPerFreeSlot} per free slot; ${capacity}); ${sat.completionRate} jobs/s finishing`]
  for (const sub of sat.submitters) lines.push(`            submitter ${sub.id}: ${sub.unfinished} unfinished, share ${sub.share}`)
  return lines
}

function shardLines(s: PeerStatus): string[] {
  if (s.shardsMinted === undefined) return []
  const lines = [`shards      ${s.shards?.length ?? 0} live, ${s.shardsMinted} minted so far${s.certificatesRefused ? `; ${s.certificatesRefused} certificate(s) REFUSED (forged, expired or signed by too few)` : ''}`]
  for (const shard of s.shards ?? []) {
    const jobs = shard.jobs ? Object.entries(shard.jobs).filter(([, n]) => n > 0).map(([state, n]) => `${state} ${n}`).join(', ') || 'empty' : 'no member answered'
    const expires = Math.round((shard.certificate.expiresAt - Date.now()) / 1000)
    lines.push(`shard ${String(shard.id).padEnd(5)} ${shard.state}${shard.sealed ? ' (sealed)' : ''}, leader ${shard.leader ?? '(none)'}: ${jobs}`)
    lines.push(`            members ${shard.members.join(', ')}; epoch ${shard.certificate.epoch}, certificate signed by ${shard.certificate.signers.length}, ${expires >= 0 ? `expires in ${expires} s` : 'EXPIRED'}`)
  }
  return lines
}

function discoveryLine(d: PeerStatus['discovery']): string {
  if (d.dht === 'off') return 'off: the registry gives every trusted peer\'s address'
  const parts = [`DHT ${d.dht}${d.providing ? ', providing the rendezvous' : ''}`, `${d.bootstrap} bootstrap address(es)`, `mDNS ${d.mdns ? 'on' : 'off'}`]
  if (d.relay) parts.push('relaying for peers that cannot be dialled')
  return parts.join(', ')
}

function censusLines(census: PeerStatus['census']): string[] {
  if (!census) return ['census      (none yet: the leader\'s first poll has not closed)']
  if (census.sampled === 0) return [`census      warming up: no peer has answered yet (poll ${census.round} asked with p ${census.p.toPrecision(3)}; p grows until answers come)`]
  const range = (i: { estimate: number; low: number; high: number | null }) =>
    `${Math.round(i.estimate)} (95%: ${Math.floor(i.low)}-${i.high === null ? '?' : Math.ceil(i.high)})`
  return [
    `census      peers ${range(census.population)}, idle ${range(census.idle)}, free slots ${range(census.freeSlots)}`,
    `            from ${census.sampled} answers to ${census.polls} poll(s); poll ${census.round} asked with p ${census.p.toPrecision(3)} and drew ${census.answers}`,
    ...(census.lateAnswers > 0 ? [`            ${census.lateAnswers} answer(s) came after their poll closed (is census.intervalMs too short for this network?)`] : []),
  ]
}
