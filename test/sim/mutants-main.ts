// npm run sim:mutants [-- --seeds N] [--only NAME] [--json]: for each mutant, a temporary copy
// of the sources with its patch, the simulator bundled from that copy, and seeds run until the
// first failure (or N). Nothing in the checkout is changed.
import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { build } from 'esbuild'
import { MUTANTS, type Mutant } from './mutants.js'

const REPO = join(import.meta.dirname, '..')

interface Verdict {
  readonly name: string
  readonly caught: boolean
  readonly seed?: number
  readonly seedsRun: number
  readonly violation?: string
  readonly seconds: number
}

const RUNNER = `import { simulate } from './test/sim/simulate.js'
const max = Number(process.argv[2])
for (let seed = 1; seed <= max; seed++) {
  const peers = seed % 2 === 0 ? 5 : 3
  const r = simulate({ seed, peers, steps: 2000 })
  const problem = r.violations[0] ?? (r.linearizable === false ? 'not linearizable' : r.recovered ? undefined : 'did not recover')
  if (problem) {
    console.log(JSON.stringify({ caught: true, seed, seedsRun: seed, violation: problem.slice(0, 200) }))
    process.exit(0)
  }
}
console.log(JSON.stringify({ caught: false, seedsRun: max }))
`

const SHELL_RUNNER = `import { simulateShell } from './test/sim/shell-simulate.js'
const max = Number(process.argv[2])
for (let seed = 1; seed <= max; seed++) {
  const r = await simulateShell(seed, { peers: seed % 2 === 0 ? 5 : 3 })
  if (r.violations.length > 0) {
    console.log(JSON.stringify({ caught: true, seed, seedsRun: seed, violation: r.violations[0].slice(0, 200) }))
    process.exit(0)
  }
}
console.log(JSON.stringify({ caught: false, seedsRun: max }))
`

const SHARDS_RUNNER = `import { simulateShards } from './test/sim/shard-simulate.js'
const max = Number(process.argv[2])
for (let seed = 1; seed <= max; seed++) {
  const r = simulateShards(seed)
  const problem = r.violations[0] ?? (r.settled ? undefined : 'did not settle')
  if (problem) {
    console.log(JSON.stringify({ caught: true, seed, seedsRun: seed, violation: problem.slice(0, 200) }))
    process.exit(0)
  }
}
console.log(JSON.stringify({ caught: false, seedsRun: max }))
`

async function run(mutant: Mutant, seeds: number): Promise<Verdict> {
  const started = Date.now()
  const dir = mkdtempSync(join(tmpdir(), `pq-mutant-${mutant.name}-`))
  try {
    cpSync(join(REPO, 'runtime', 'src'), join(dir, 'runtime', 'src'), { recursive: true })
    cpSync(join(REPO, 'test', 'sim'), join(dir, 'test', 'sim'), { recursive: true })
    const file = join(dir, mutant.file)
    const text = readFileSync(file, 'utf8')
    const count = text.split(mutant.from).length - 1
    if (count !== 1) throw new Error(`mutant ${mutant.name}: its text occurs ${count} times in ${mutant.file}, not once (the source moved on: update the catalogue)`)
    writeFileSync(file, text.replace(mutant.from, mutant.to))
    writeFileSync(join(dir, 'run.ts'), mutant.simulator === 'shell' ? SHELL_RUNNER : mutant.simulator === 'shards' ? SHARDS_RUNNER : RUNNER)
    await build({ entryPoints: [join(dir, 'run.ts')], bundle: true, platform: 'node', format: 'esm', outfile: join(dir, 'run.mjs'), nodePaths: [join(REPO, 'node_modules')], logLevel: 'silent' })
    const child = spawnSync(process.execPath, [join(dir, 'run.mjs'), String(seeds)], { encoding: 'utf8', timeout: 30 * 60_000 })
    const line = child.stdout.trim().split('\n').at(-1) ?? ''
    const result = JSON.parse(line) as Omit<Verdict, 'name' | 'seconds'>
    return { name: mutant.name, ...result, seconds: Math.round((Date.now() - started) / 100) / 10 }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const { values } = parseArgs({ options: { seeds: { type: 'string', default: '5000' }, only: { type: 'string' }, json: { type: 'boolean', default: false } } })
const seeds = Number(values.seeds)
if (!Number.isInteger(seeds) || seeds < 1) throw new Error('--seeds wants a whole number of at least 1')
const chosen = MUTANTS.filter((m) => values.only === undefined || m.name === values.only)
if (chosen.length === 0) throw new Error(`no mutant named ${values.only}; there are: ${MUTANTS.map((m) => m.name).join(', ')}`)
const verdicts: Verdict[] = []
for (const mutant of chosen) {
  const verdict = await run(mutant, Math.max(seeds, mutant.minSeeds ?? 0))
  verdicts.push(verdict)
  if (!values.json) console.log(`${mutant.name.padEnd(28)} ${verdict.caught ? `caught at seed ${verdict.seed}` : `NOT caught in ${verdict.seedsRun} seeds`}  (${verdict.seconds} s)${verdict.violation ? `  ${verdict.violation}` : ''}`)
}
const caught = verdicts.filter((v) => v.caught).length
if (values.json) console.log(JSON.stringify({ seeds, caught, mutants: verdicts.length, verdicts }))
else console.log(`sim:mutants: ${caught} of ${verdicts.length} caught within ${seeds} seeds (more where a mutant asks for more)`)
