// A peer is a long-lived process with a steady, modest allocation rate. V8 sizes the young
// generation from the machine's memory (up to 128 MB of new space on a 23 GB host) and keeps
// the pages it grew to: a leader serving 60 workers held 55 MB of young-generation pages with
// 10 MB in use. With each semi-space capped at 4 MB that leader was 147 MB instead of 184, and
// throughput was the same or better (BENCHMARKS.md). V8 reads the size only as the process
// starts, so a peer command starts Node afresh in the same process (execve, same pid) with the
// flag, unless the user chose a size in the command line or NODE_OPTIONS.
const FLAG = '--max-semi-space-size'
export const PEER_SEMI_SPACE_MB = 4

/** The command line to start again with, or undefined when the size is already chosen. */
export function restartArgs(execPath: string, execArgv: readonly string[], argv: readonly string[], nodeOptions = ''): string[] | undefined {
  const chosen = [...execArgv, ...nodeOptions.split(/\s+/)].some((arg) => arg === FLAG || arg.startsWith(`${FLAG}=`))
  if (chosen) return undefined
  return [execPath, ...execArgv, `${FLAG}=${PEER_SEMI_SPACE_MB}`, ...argv.slice(1)]
}

/** Replaces this process with one whose young generation is capped; returns where execve is missing (Windows) or fails. */
export function restartWithSmallYoungGeneration(): void {
  if (typeof process.execve !== 'function') return
  const args = restartArgs(process.execPath, process.execArgv, process.argv, process.env.NODE_OPTIONS)
  if (!args) return
  try {
    process.execve(process.execPath, args, process.env)
  } catch {
    // The peer runs with V8's own sizes: more memory, same behaviour.
  }
}
