// The shape every CLI command shares: a usage text that doubles as --help, parsed options, and
// one way of turning errors into a message and an exit status.
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { PeerqueueError, isPeerqueueError } from '../errors.js'

export type OptionSpec = NonNullable<ParseArgsConfig['options']>

export interface CliCommand {
  readonly name: string
  readonly summary: string
  readonly usage: string
  readonly options: OptionSpec
  run(values: Record<string, string | boolean | string[] | undefined>, positionals: string[]): Promise<number | void>
}

export function parse(command: CliCommand, argv: string[]) {
  try {
    return parseArgs({ args: argv, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true })
  } catch (err) {
    throw new PeerqueueError('E_USAGE', `${(err as Error).message}\n\n${command.usage}`)
  }
}

export function str(value: string | boolean | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined
}

export function int(value: string | boolean | string[] | undefined, flag: string): number | undefined {
  if (typeof value !== 'string') return undefined
  if (!/^-?\d+$/.test(value)) throw new PeerqueueError('E_USAGE', `--${flag} must be a whole number, got "${value}"`)
  return Number(value)
}

export function reportError(err: unknown): number {
  if (isPeerqueueError(err)) {
    process.stderr.write(`error ${err.code}: ${err.message}\n`)
    return err.code === 'E_USAGE' ? 2 : 1
  }
  process.stderr.write(`internal error (please report it): ${err instanceof Error ? err.stack : String(err)}\n`)
  return 70
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n')
}
