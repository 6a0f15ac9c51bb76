// The replicated state machine of the simulation: a key-value store with client sessions, so a
// write retried after a timeout is applied once (client id + sequence number de-duplication).

export interface KvCommand {
  readonly client: number
  readonly seq: number
  readonly key: string
  readonly value: string
}

export interface KvSnapshot {
  readonly data: Record<string, string>
  readonly sessions: Record<number, number>
}

export class KvMachine {
  data = new Map<string, string>()
  /** Highest sequence number applied per client. */
  sessions = new Map<number, number>()
  duplicates = 0

  apply(command: KvCommand): boolean {
    if ((this.sessions.get(command.client) ?? 0) >= command.seq) {
      this.duplicates += 1
      return false
    }
    this.sessions.set(command.client, command.seq)
    this.data.set(command.key, command.value)
    return true
  }

  snapshot(): KvSnapshot {
    return { data: Object.fromEntries(this.data), sessions: Object.fromEntries(this.sessions) }
  }

  restore(snapshot: KvSnapshot): void {
    this.data = new Map(Object.entries(snapshot.data))
    this.sessions = new Map(Object.entries(snapshot.sessions).map(([k, v]) => [Number(k), v]))
  }
}
