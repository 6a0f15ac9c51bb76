// Bundles the CLI (dist/queue-runtime.mjs) and the discovery modules it loads only when asked
// for (dist/discovery-modules.js) from tsc's output.
//
// The bundles are written in ASCII only. esbuild already escapes non-ASCII characters in code,
// but keeps them in the comments it carries over from dependencies; one such character makes V8
// hold the whole source as two bytes a character for as long as the process lives: 6.1 MB
// instead of 3 for the CLI, in every peer.
import { build } from 'esbuild'
import { chmod, writeFile } from 'node:fs/promises'

const banner = "import { createRequire as __pqRequire } from 'node:module'; const require = __pqRequire(import.meta.url);"
const common = { bundle: true, platform: 'node', format: 'esm', target: 'node22', logLevel: 'warning', write: false, banner: { js: banner }, minifyWhitespace: true, minifySyntax: true }

/** Every character outside ASCII as a \u escape: text in a comment, the same character anywhere else. */
export function asciiOnly(text) {
  return text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

async function bundle(entry, outfile, external = []) {
  const result = await build({ ...common, entryPoints: [entry], outfile, external })
  for (const file of result.outputFiles) await writeFile(file.path, asciiOnly(file.text))
}

await bundle('dist/cli/main.js', 'dist/queue-runtime.mjs', ['esbuild', 'piscina', 'bufferutil', 'utf-8-validate', './discovery-modules.js', './http/index.js'])
await chmod('dist/queue-runtime.mjs', 0o755)
await bundle('dist/net/discovery-modules.js', 'dist/discovery-modules.js')
