// A peer must not die of a race inside the network stack. The Yamux muxer sends a new stream's
// first window update in a microtask; if the connection closed in between, that send throws
// StreamStateError where no caller can catch it, and Node ends the process. The torture run
// found it (a trusted peer exited during partitions). Only that error is kept from ending the
// process; anything else still does, as before, after saying what it was.

/** A write to a libp2p stream or connection that had already closed. */
export function isClosedStreamRace(err: unknown): boolean {
  if (!(err instanceof Error)) return false
  return err.name === 'StreamStateError' || /^Cannot write to a stream that is (closed|closing|aborted|reset)/.test(err.message)
}

const QUIET_MS = 60_000

export function installCrashGuard(log: (line: string) => void): void {
  let lastSaid = 0
  let suppressed = 0
  const handle = (err: unknown) => {
    if (isClosedStreamRace(err)) {
      suppressed += 1
      const now = Date.now()
      if (now - lastSaid >= QUIET_MS) {
        log(`peerqueue: ignored ${suppressed} write(s) to a connection that had just closed (${(err as Error).message})`)
        lastSaid = now
        suppressed = 0
      }
      return
    }
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exit(1)
  }
  process.on('uncaughtException', handle)
  process.on('unhandledRejection', handle)
}
