// npm run torture -- --seconds S [--trusted 3|5] [--workers N] [--seed K] [--rate R] [--json] [--keep]
//
// Real peer processes on 127.0.0.1 under a seeded nemesis (kills, pauses, partitions, slow
// links, full disks), clients submitting jobs throughout, and a check at the end that every
// acknowledged job finished once with the right result. Exits 1 on a failed check, printing
// the seed and the command that runs the same schedule again.
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect, type Queue } from '@peerqueue/sdk/client'
import { check, passed, type FinalState, type Verdict } from './check.js'
import { Nemesis, type FaultCounts } from './nemesis.js'
import { TortureCluster } from './torture-cluster.js'
import { CompletionWatcher, Submitters, newRecord, type WorkloadRecord } from './workload.js'

const USAGE = `usage: npm run torture -- --seconds S [--trusted 3|5] [--workers N] [--seed K] [--rate R] [--json] [--keep]
  --seconds S   how long the nemesis injects faults (default 60)
  --trusted T   trusted peers, 3 or 5 (default 3)
  --workers N   worker peers (default 2)
  --seed K      the fault schedule's seed (default: random; printed)
  --rate R      jobs submitted per second, roughly (default 40)
  --json        print the report as JSON on stdout
  --keep        keep the run's folder (keys, registry, data) for inspection`

/** After the last fault, the queue must serve a job again within this. */
const RECOVERY_BOUND_S = 60
/** And every acknowledged job must have finished within this. */
const SETTLE_BOUND_S = 180

export interface TortureReport {
  readonly seconds: number
  readonly seed: number
  readonly trusted: number
  readonly workers: number
  readonly faults: FaultCounts
  readonly acknowledged: number
  readonly completed: number
  readonly dead: number
  readonly lost: number
  readonly duplicateResults: number
  readonly wrongResults: number
  readonly phantoms: number
  readonly unknownOutcomes: number
  readonly eventGaps: number
  readonly unexpectedExits: number
  readonly recoverySeconds: number | null
  /** Connections through the link proxies, those whose dialler was named, and those cut. */
  readonly links: { readonly connections: number; readonly identified: number; readonly cut: number }
  /** Times a trusted peer stopped on a full disk, and rejoined by itself once it had room. */
  readonly storageStops: number
  readonly storageRejoins: number
  readonly passed: boolean
  readonly notes: string[]
}

function options() {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '60' },
      trusted: { type: 'string', default: '3' },
      workers: { type: 'string', default: '2' },
      seed: { type: 'string' },
      rate: { type: 'string', default: '40' },
      json: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    process.exit(0)
  }
  const number = (name: string, text: string, min: number) => {
    const value = Number(text)
    if (!Number.isInteger(value) || value < min) {
      process.stderr.write(`--${name} must be a whole number of at least ${min}, not "${text}"\n${USAGE}\n`)
      process.exit(2)
    }
    return value
  }
  const trusted = number('trusted', values.trusted, 1)
  if (trusted !== 3 && trusted !== 5) {
    process.stderr.write(`--trusted must be 3 or 5, not ${trusted}\n`)
    process.exit(2)
  }
  return {
    seconds: number('seconds', values.seconds, 1),
    trusted,
    workers: number('workers', values.workers, 1),
    seed: values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : number('seed', values.seed, 0),
    rate: number('rate', values.rate, 1),
    json: values.json,
    keep: values.keep,
  }
}

async function statusOf(queue: Queue, id: string): Promise<FinalState | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const status = await queue.job(id).status()
      return { state: status.state, result: status.result }
    } catch (err) {
      if ((err as { code?: string }).code === 'E_JOB_NOT_FOUND') return undefined
      await sleep(200)
    }
  }
  return undefined
}

/** Reads the states of `ids`, 32 at a time. */
async function statesOf(queue: Queue, ids: readonly string[]): Promise<Map<string, FinalState>> {
  const out = new Map<string, FinalState>()
  let next = 0
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < ids.length) {
        const id = ids[next++]!
        const state = await statusOf(queue, id)
        if (state) out.set(id, state)
      }
    }),
  )
  return out
}

/** Submits probe jobs until one completes: seconds from `since` until the queue served again. */
async function recovery(queue: Queue, record: WorkloadRecord, since: number): Promise<number | null> {
  for (let k = 1; performance.now() - since < RECOVERY_BOUND_S * 1000; k++) {
    record.invoked.add(-k)
    try {
      // First in line (the highest priority): the queue may still hold a backlog from the faults.
      await Promise.race([queue.run('digest', { n: -k, ms: 0 }, { timeoutMs: 5_000, priority: 1_000_000 }), sleep(6_000).then(() => Promise.reject(new Error('no answer')))])
      return (performance.now() - since) / 1000
    } catch {
      await sleep(100)
    }
  }
  return null
}

/** Waits until every acknowledged job is finished (or the bound passes); returns the final states. */
async function settle(queue: Queue, record: WorkloadRecord, progress: (line: string) => void): Promise<Map<string, FinalState>> {
  const deadline = performance.now() + SETTLE_BOUND_S * 1000
  let finals = new Map<string, FinalState>()
  let pending = [...record.acknowledged.keys()]
  while (pending.length > 0 && performance.now() < deadline) {
    const states = await statesOf(queue, pending)
    for (const [id, state] of states) if (state.state === 'completed' || state.state === 'dead') finals.set(id, state)
    pending = pending.filter((id) => !finals.has(id))
    if (pending.length > 0) {
      progress(`waiting for ${pending.length} job(s) to finish`)
      await sleep(1_000)
    }
  }
  const unacknowledged = [...record.completions.keys()].filter((id) => !record.acknowledged.has(id))
  finals = new Map([...finals, ...(await statesOf(queue, [...pending, ...unacknowledged]))])
  return finals
}

async function main(): Promise<void> {
  const opts = options()
  const progress = (line: string) => process.stderr.write(`torture: ${line}\n`)
  const replay = `npm run torture -- --seconds ${opts.seconds} --trusted ${opts.trusted} --workers ${opts.workers} --seed ${opts.seed} --rate ${opts.rate}`
  progress(`seed ${opts.seed}: ${opts.trusted} trusted peers, ${opts.workers} workers, ${opts.seconds} s of faults`)
  const cluster = await TortureCluster.create(opts.trusted, opts.workers)
  const notes: string[] = []
  if (!cluster.disksFillable) notes.push('no full-disk faults: filling a peer\'s disk needs a tmpfs mount (root on Linux)')
  let report: TortureReport | undefined
  try {
    await cluster.startAll()
    const queue = await connect({ registry: cluster.registry, key: cluster.clientKey })
    const record = newRecord()
    const watcher = new CompletionWatcher(queue, record)
    watcher.start()
    const nemesis = new Nemesis(cluster, { seed: opts.seed })
    const start = performance.now()
    const faultsEnd = start + opts.seconds * 1000
    let settleBy = Infinity
    const submitters = new Submitters(queue, record, opts.seed)
    const submitting = submitters.run(4, Math.max(1, Math.round(4_000 / opts.rate)), () => settleBy)
    const ticker = setInterval(() => {
      const c = nemesis.counts
      progress(`${Math.round((performance.now() - start) / 1000)} s: ${record.acknowledged.size} acknowledged, ${record.completions.size} completed; faults ${c.kills} kills, ${c.pauses} pauses, ${c.partitions} partitions, ${c.slowLinks} slow links, ${c.diskFull} full disks`)
    }, 10_000)
    await nemesis.run(faultsEnd)
    const healed = performance.now()
    progress('faults over; every link healed, every peer running')
    submitters.stop()
    settleBy = healed + RECOVERY_BOUND_S * 1000
    const recoverySeconds = await recovery(queue, record, healed)
    await submitting
    const finals = await settle(queue, record, progress)
    await sleep(1_000)
    await watcher.stop()
    clearInterval(ticker)
    const verdict = check(record, finals)
    notes.push(...nemesis.problems.map((p) => `nemesis: ${p}`))
    await queue.close()
    const lastWords = cluster.dump()
    await cluster.stopAll()
    const links = {
      connections: cluster.proxies.reduce((sum, p) => sum + p.accepted, 0),
      identified: cluster.proxies.reduce((sum, p) => sum + p.identified, 0),
      cut: cluster.proxies.reduce((sum, p) => sum + p.refused, 0),
    }
    const storage = { stops: await cluster.countInLogs('will rejoin once'), rejoins: await cluster.countInLogs('reopened the log and rejoined') }
    report = toReport(opts, nemesis.counts, record, verdict, cluster.unexpectedExits.length, recoverySeconds, links, storage, notes)
    if (!report.passed) {
      process.stderr.write(`${describeFailure(verdict, cluster.unexpectedExits, recoverySeconds)}\n${lastWords}\n`)
    }
  } finally {
    await cluster.close(opts.keep || (report !== undefined && !report.passed))
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`)
  else process.stdout.write(`${summary(report)}\n`)
  if (!report.passed) {
    process.stderr.write(`torture failed with seed ${opts.seed}; the same schedule again: ${replay}\n(kept ${cluster.dir})\n`)
    process.exit(1)
  }
}

function toReport(
  opts: { seconds: number; seed: number; trusted: number; workers: number },
  faults: FaultCounts,
  record: WorkloadRecord,
  verdict: Verdict,
  unexpectedExits: number,
  recoverySeconds: number | null,
  links: TortureReport['links'],
  storage: { stops: number; rejoins: number },
  notes: string[],
): TortureReport {
  const ok = passed(verdict) && unexpectedExits === 0 && recoverySeconds !== null
  return {
    seconds: opts.seconds,
    seed: opts.seed,
    trusted: opts.trusted,
    workers: opts.workers,
    faults: { ...faults },
    acknowledged: verdict.acknowledged,
    completed: verdict.completed,
    dead: verdict.dead,
    lost: verdict.lost.length,
    duplicateResults: verdict.duplicateResults.length,
    wrongResults: verdict.wrongResults.length,
    phantoms: verdict.phantoms.length,
    unknownOutcomes: record.unknownOutcomes,
    eventGaps: record.eventGaps,
    unexpectedExits,
    recoverySeconds: recoverySeconds === null ? null : Math.round(recoverySeconds * 100) / 100,
    links,
    storageStops: storage.stops,
    storageRejoins: storage.rejoins,
    passed: ok,
    notes,
  }
}

function describeFailure(verdict: Verdict, exits: readonly string[], recoverySeconds: number | null): string {
  const lines: string[] = []
  const list = (title: string, items: readonly string[]) => {
    if (items.length > 0) lines.push(`${title} (${items.length}):`, ...items.slice(0, 20).map((i) => `  ${i}`))
  }
  list('lost', verdict.lost)
  list('completed twice', verdict.duplicateResults)
  list('wrong results', verdict.wrongResults)
  list('completed but never submitted', verdict.phantoms)
  list('peers that exited by themselves', exits)
  if (recoverySeconds === null) lines.push(`the queue did not serve a job within ${RECOVERY_BOUND_S} s of the last fault`)
  return lines.join('\n')
}

function summary(report: TortureReport): string {
  const f = report.faults
  return [
    `torture ${report.passed ? 'passed' : 'FAILED'}: seed ${report.seed}, ${report.seconds} s, ${report.trusted} trusted, ${report.workers} workers`,
    `faults: ${f.kills} kills, ${f.pauses} pauses, ${f.partitions} partitions, ${f.slowLinks} slow links, ${f.diskFull} full disks`,
    `jobs: ${report.acknowledged} acknowledged, ${report.completed} completed, ${report.dead} dead; ${report.lost} lost, ${report.duplicateResults} completed twice, ${report.wrongResults} wrong, ${report.phantoms} never submitted`,
    `client attempts with unknown outcome: ${report.unknownOutcomes}; event gaps: ${report.eventGaps}; peers that exited by themselves: ${report.unexpectedExits}`,
    `links: ${report.links.connections} connections through the proxies (${report.links.identified} with a known dialler), ${report.links.cut} cut; full disks stopped a trusted peer ${report.storageStops} time(s), ${report.storageRejoins} rejoin(s)`,
    `queue served again ${report.recoverySeconds === null ? 'NOT within the bound' : `${report.recoverySeconds} s`} after the last fault`,
    ...report.notes.map((n) => `note: ${n}`),
  ].join('\n')
}

await main()
