// Bundles each handler module in jobs/ with esbuild into one ESM file in a cache directory,
// named by the hash of its content: an unchanged handler keeps its file, and threads that
// imported an older version keep running it while new runs use the new one.
import { createHash } from 'node:crypto'
import { access, mkdir, readdir } from 'node:fs/promises'
import { join, basename, extname, relative } from 'node:path'
import type { Message } from 'esbuild'
import { PeerqueueError } from '../errors.js'
import { writeFileDurably } from '../fs/durable-file.js'

const HANDLER_FILE = /^[^._][^/]*\.(ts|mts|js|mjs)$/
// Bundled CommonJS dependencies may call require(); ESM output has none unless we provide it.
const REQUIRE_SHIM = "import { createRequire as __pqCreateRequire } from 'node:module'; const require = __pqCreateRequire(import.meta.url);"

export interface BundledHandler {
  readonly source: string
  readonly bundle: string
}

export async function listHandlerFiles(jobsDir: string): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(jobsDir)
  } catch {
    throw new PeerqueueError('E_HANDLERS_INVALID', `cannot read the jobs directory ${jobsDir}`)
  }
  return names
    .filter((n) => HANDLER_FILE.test(n) && !/\.(test|spec|d)\.[mc]?[jt]s$/.test(n))
    .sort()
    .map((n) => join(jobsDir, n))
}

export async function bundleHandlers(jobsDir: string, cacheDir: string): Promise<BundledHandler[]> {
  const files = await listHandlerFiles(jobsDir)
  if (files.length === 0) throw new PeerqueueError('E_HANDLERS_INVALID', `${jobsDir} has no handler modules (*.ts or *.js)`)
  await mkdir(cacheDir, { recursive: true })
  // Loaded only when bundling: a trusted peer with --no-work, or a worker running deployed code,
  // never holds esbuild's JavaScript API.
  const { build, stop } = await import('esbuild')
  bundling += 1
  try {
    return await Promise.all(files.map((file) => bundleOne(build, file, cacheDir)))
  } finally {
    // esbuild's service is a process of its own (~16 MB) that would otherwise stay for the life
    // of the peer; the next build starts it again.
    if (--bundling === 0) await stop()
  }
}

/** Bundling runs in flight: the service stops only when the last one ends. */
let bundling = 0

async function bundleOne(build: typeof import('esbuild').build, file: string, cacheDir: string): Promise<BundledHandler> {
  const source = relative(process.cwd(), file) || file
  let output: Uint8Array
  try {
    const result = await build({
      entryPoints: [file],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      write: false,
      logLevel: 'silent',
      banner: { js: REQUIRE_SHIM },
    })
    output = result.outputFiles[0]!.contents
  } catch (err) {
    const errors = (err as { errors?: Message[] }).errors ?? []
    const text = errors.map(formatMessage).join('\n  ') || String(err)
    throw new PeerqueueError('E_HANDLERS_INVALID', `cannot bundle ${source}:\n  ${text}`)
  }
  const hash = createHash('sha256').update(output).digest('hex').slice(0, 16)
  const bundle = join(cacheDir, `${basename(file, extname(file))}-${hash}.mjs`)
  if (!(await exists(bundle))) {
    // Peers sharing a data directory bundle at the same time: a reader must never see half a file.
    await writeFileDurably(bundle, output)
  }
  return { source, bundle }
}

function formatMessage(message: Message): string {
  const at = message.location ? `${message.location.file}:${message.location.line}:${message.location.column} ` : ''
  return `${at}${message.text}`
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}
