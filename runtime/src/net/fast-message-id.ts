// Gossipsub checks a message's signature before it looks the message up among those it has
// seen, unless it is given a quick id to look up first. A peer hears most messages more than
// once (from each mesh neighbour, and again after IWANT), and an ed25519 check costs far more
// than the lookup: on two loaded cores, 0.3-0.7 ms each. A signed message is named by its
// author and sequence number, and only a message whose signature checked out enters the cache
// (gossipsub records the quick id after validation), so a forged copy cannot hide the real one.

/** The fields of a gossipsub message this reads (RPC.Message's). */
export interface RawGossipMessage {
  readonly from?: Uint8Array
  readonly seqno?: Uint8Array
  readonly data?: Uint8Array
}

function text(bytes: Uint8Array | undefined): string {
  return bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') : ''
}

/** Author and sequence number; an unsigned message (refused anyway under StrictSign) is named by its data too. */
export function fastMessageId(message: RawGossipMessage): string {
  const id = `${text(message.from)}/${text(message.seqno)}`
  return message.from && message.seqno ? id : `${id}/${text(message.data)}`
}
