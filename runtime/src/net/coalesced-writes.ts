// One socket write per event-loop turn instead of one per piece. Under Noise and Yamux, every
// message leaves as several writes (Noise's 2-byte length, then the ciphertext; Yamux's window
// update for each frame received), and on loopback each write runs the receiver's TCP path
// too: a leader's profile spent a quarter of its busy time in them. Corking the TCP socket
// until the turn ends hands all of a turn's pieces to the kernel in one writev.
import { Socket } from 'node:net'
import type { ConnectionEncrypter, MessageStream } from '@libp2p/interface'

/** Wraps an encrypter's factory (such as `noise()`) so the raw connections it secures coalesce their writes. */
export function coalescingWrites<Components>(factory: (components: Components) => ConnectionEncrypter): (components: Components) => ConnectionEncrypter {
  return (components) => {
    const encrypter = factory(components)
    const secureInbound = encrypter.secureInbound.bind(encrypter)
    const secureOutbound = encrypter.secureOutbound.bind(encrypter)
    encrypter.secureInbound = (connection, options) => secureInbound(corkedPerTurn(connection), options)
    encrypter.secureOutbound = (connection, options) => secureOutbound(corkedPerTurn(connection), options)
    return encrypter
  }
}

/** A connection over a TCP socket sends through the socket corked until the turn's end; others pass through. */
export function corkedPerTurn(connection: MessageStream): MessageStream {
  const socket = (connection as MessageStream & { socket?: unknown }).socket
  if (!(socket instanceof Socket)) return connection
  const send = connection.send.bind(connection)
  let corked = false
  const uncork = () => {
    corked = false
    socket.uncork()
  }
  connection.send = (data) => {
    if (!corked) {
      corked = true
      socket.cork()
      setImmediate(uncork)
    }
    return send(data)
  }
  return connection
}
