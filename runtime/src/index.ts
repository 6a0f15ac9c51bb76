// @peerqueue/runtime: run a peer from code, and the pieces operators script against.
export { Peer, type PeerOptions, type PeerStatus } from './peer.js'
export { createKeyFile, readKeyFile, type Identity } from './net/identity.js'
export { parseRegistry } from './registry/parse.js'
export { loadRegistry, selectQueue } from './registry/load.js'
export type { Registry, QueueConfig } from './registry/schema.js'
export { PeerqueueError, isPeerqueueError, type ErrorCode } from './errors.js'
