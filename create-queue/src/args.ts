// Flags of create-queue. Every prompt has a flag, so a script or CI never meets a prompt.
import { parseArgs } from 'node:util'
import { TEMPLATES } from './templates.js'

export interface Answers {
  readonly dir: string
  readonly template: string
  readonly trusted: number
  readonly basePort: number
  /** A peerqueue checkout to depend on instead of published packages. */
  readonly link: string | undefined
  /** A folder of packed peerqueue tarballs (npm pack) to depend on instead of the registry. */
  readonly tarballs: string | undefined
}

export type Flags = Partial<Answers> & { readonly yes: boolean; readonly help: boolean }

export const USAGE = `Usage: npm create queue [dir] -- [options]
       create-queue [dir] [options]

Scaffolds a peerqueue project: registry.yaml, keys/, jobs/hello.ts, a client.

Options:
  --template <name>   ${TEMPLATES.map((t) => `${t.name} (${t.description})`).join(', ')}
  --trusted <n>       trusted peers to create keys for (default 1)
  --base-port <port>  first TCP port of the trusted peers (default 4101)
  --link <repo>       depend on a peerqueue checkout at <repo> (works offline)
  --tarballs <dir>    depend on packed peerqueue packages in <dir> (npm pack output; works offline)
  -y, --yes           accept the defaults, ask nothing
  -h, --help          show this text`

export class UsageError extends Error {}

export function parseFlags(argv: string[]): Flags {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        template: { type: 'string', short: 't' },
        trusted: { type: 'string' },
        'base-port': { type: 'string' },
        link: { type: 'string' },
        tarballs: { type: 'string' },
        yes: { type: 'boolean', short: 'y' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const { values, positionals } = parsed
  if (positionals.length > 1) throw new UsageError(`expected one directory, got ${positionals.join(' ')}`)
  return {
    dir: positionals[0],
    template: values.template === undefined ? undefined : checkTemplate(values.template),
    trusted: values.trusted === undefined ? undefined : checkRange(values.trusted, '--trusted', 1, 15),
    basePort: values['base-port'] === undefined ? undefined : checkRange(values['base-port'], '--base-port', 1024, 65_000),
    link: values.link,
    tarballs: values.tarballs,
    yes: values.yes === true,
    help: values.help === true,
  }
}

export function checkTemplate(name: string): string {
  if (!TEMPLATES.some((t) => t.name === name)) {
    throw new UsageError(`unknown template "${name}" (choose from: ${TEMPLATES.map((t) => t.name).join(', ')})`)
  }
  return name
}

export function checkRange(text: string, flag: string, min: number, max: number): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${text}"`)
  return n
}
