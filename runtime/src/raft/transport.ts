// How Raft messages travel between the members of a group. The libp2p transport lives in net/;
// the in-process hub serves tests and the single-process benchmark.
import type { Message, NodeId } from './types.js'

export interface Transport {
  /** Best effort: Raft retries on its own, so a message may be dropped when a peer is unreachable. */
  send(messages: readonly Message[]): void
  /** Stops taking and sending messages, and lets go of whatever it holds open. */
  close?(): Promise<void>
}

export type MessageHandler = (message: Message) => void

/** Delivers messages between nodes of one process, asynchronously as a network would. */
export class InProcessHub {
  private readonly handlers = new Map<NodeId, MessageHandler>()
  private readonly blocked = new Set<NodeId>()

  join(id: NodeId, handler: MessageHandler): Transport {
    this.handlers.set(id, handler)
    return { send: (messages) => this.deliver(id, messages) }
  }

  leave(id: NodeId): void {
    this.handlers.delete(id)
  }

  /** Drops everything to and from `id` until unblocked. */
  block(id: NodeId): void {
    this.blocked.add(id)
  }

  unblock(id: NodeId): void {
    this.blocked.delete(id)
  }

  private deliver(from: NodeId, messages: readonly Message[]): void {
    if (messages.length === 0 || this.blocked.has(from)) return
    queueMicrotask(() => {
      for (const message of messages) {
        if (this.blocked.has(message.to)) continue
        this.handlers.get(message.to)?.(message)
      }
    })
  }
}
