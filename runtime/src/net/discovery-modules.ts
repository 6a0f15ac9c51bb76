// The libp2p modules a peer loads only when it must find others (net/discovery-plan.ts).
export { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
export { ping } from '@libp2p/ping'
export { bootstrap } from '@libp2p/bootstrap'
export { mdns } from '@libp2p/mdns'
export { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
export { dcutr } from '@libp2p/dcutr'
