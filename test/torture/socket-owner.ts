// Which process opened a TCP connection to a proxy: the proxy sees only 127.0.0.1 and a source
// port, and every peer dials from 127.0.0.1. Linux lists each socket's ports and inode in
// /proc/net/tcp{,6}, and each process's sockets as fd links to `socket:[inode]`, so the source
// port names the process. No hook in the runtime is needed to tell peers apart.
import { readFile, readdir, readlink } from 'node:fs/promises'

/** Whether this platform can tell (Linux with /proc). */
export async function canFindSocketOwners(): Promise<boolean> {
  try {
    await readFile('/proc/net/tcp', 'utf8')
    return true
  } catch {
    return false
  }
}

/** The inode of the socket whose local port is `port` and remote port `remotePort`. */
async function socketInode(port: number, remotePort: number): Promise<string | undefined> {
  const local = `:${port.toString(16).toUpperCase().padStart(4, '0')}`
  const remote = `:${remotePort.toString(16).toUpperCase().padStart(4, '0')}`
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '')
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/)
      if (fields.length < 10) continue
      if (fields[1]!.endsWith(local) && fields[2]!.endsWith(remote)) return fields[9]
    }
  }
  return undefined
}

/**
 * Among `pids`, the one holding the client end of a connection that came from `sourcePort` to
 * `proxyPort`; undefined when none does (the process is gone, or it is not one of ours).
 */
export async function ownerOfConnection(sourcePort: number, proxyPort: number, pids: ReadonlyMap<number, string>): Promise<string | undefined> {
  const inode = await socketInode(sourcePort, proxyPort)
  if (!inode || inode === '0') return undefined
  const wanted = `socket:[${inode}]`
  for (const [pid, name] of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])
    for (const fd of fds) {
      if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === wanted) return name
    }
  }
  return undefined
}
