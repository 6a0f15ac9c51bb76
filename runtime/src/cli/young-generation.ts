// A peer is a long-lived process with a steady, modest allocation rate. V8 sizes the young
// generation from the machine's memory (up to 128 MB of new space on a 23 GB host) and keeps
// the pages it grew to: a leader serving 60 workers held 55 MB of young-generation pages with
// 10 MB in use. With each semi-space capped at 4 MB that leader was 147 MB instead of 184, and
// throughput was the same or better (BENCHMARKS.md). A worker peer allocates less on its main
// thread (its handlers run in threads of their own): capped at 1 MB (108 MB instead of 114 just
// after start), and with glibc's malloc keeping two arenas rather than one per thread that ever
// ran (104 MB), an idle worker settles at about 98 MB; throughput stayed within the runs' spread
// with each (BENCHMARKS.md). V8 reads the size, and glibc the arena count, only as the process
// starts, so once a peer knows its role it starts Node afresh in the same process (execve, same
// pid) with them, unless the user chose a size in the command line or NODE_OPTIONS. A remote
// registry is read once: the new image reads the copy the first one kept, if its digest matches.
import type { PeerMode } from '../peer.js'

const FLAG = '--max-semi-space-size'
const REGISTRY_DIGEST_ENV = 'PEERQUEUE_REGISTRY_KEPT_SHA256'
export const PEER_SEMI_SPACE_MB = 4
export const WORKER_SEMI_SPACE_MB = 1
export const WORKER_MALLOC_ARENAS = 2

export interface Restart {
  readonly args: readonly string[]
  readonly env: NodeJS.ProcessEnv
}

/** The command line and environment to start again with, or undefined when the size is already chosen. */
export function restartFor(mode: PeerMode, execPath: string, execArgv: readonly string[], argv: readonly string[], env: NodeJS.ProcessEnv, registryDigest?: string): Restart | undefined {
  const chosen = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].some((arg) => arg === FLAG || arg.startsWith(`${FLAG}=`))
  if (chosen) return undefined
  const worker = mode === 'worker'
  return {
    args: [execPath, ...execArgv, `${FLAG}=${worker ? WORKER_SEMI_SPACE_MB : PEER_SEMI_SPACE_MB}`, ...argv.slice(1)],
    env: {
      ...env,
      ...(worker && env.MALLOC_ARENA_MAX === undefined ? { MALLOC_ARENA_MAX: String(WORKER_MALLOC_ARENAS) } : {}),
      ...(registryDigest === undefined ? {} : { [REGISTRY_DIGEST_ENV]: registryDigest }),
    },
  }
}

/** The digest an earlier image of this process handed on, taken out of the environment so that nothing started later inherits it. */
export function takeRegistryDigest(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const digest = env[REGISTRY_DIGEST_ENV]
  delete env[REGISTRY_DIGEST_ENV]
  return digest
}

/** Replaces this process with one sized for `mode`; returns where execve is missing (Windows) or fails. */
export function restartSizedFor(mode: PeerMode, registryDigest?: string): void {
  if (typeof process.execve !== 'function') return
  const restart = restartFor(mode, process.execPath, process.execArgv, process.argv, process.env, registryDigest)
  if (!restart) return
  try {
    process.execve(process.execPath, [...restart.args], restart.env)
  } catch {
    // The peer runs with V8's own sizes: more memory, same behaviour.
  }
}
