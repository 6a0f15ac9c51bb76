import { describe, expect, it } from 'vitest'
import { parseRegistry } from '../registry/parse.js'
import { isLoopback, planDiscovery } from './discovery-plan.js'

const A = '12D3KooWQpoZwJLamYtDYESViyJxbANKpsQVzydXhHitiSsCC7Zt'
const B = '12D3KooWJgBWHu3DxP3L3TV292kDega645cjB8q3aGDCgKo9hw6n'

function queueOf(trusted: string, extra = '') {
  return parseRegistry(`version: 1\nqueues:\n  - name: q\n    rendezvous: q-1\n    trustedPeers:\n${trusted}\n${extra}`, 'r.yaml').queues[0]!
}

describe('discovery plan', () => {
  it('runs nothing when the registry gives every trusted peer an address', () => {
    const queue = queueOf(`      - id: ${A}\n        addrs: [/ip4/192.0.2.1/tcp/4101]\n      - id: ${B}\n        addrs: [/ip4/192.0.2.2/tcp/4101]`)
    expect(planDiscovery({ queue, selfId: A, role: 'trusted', listen: ['/ip4/192.0.2.1/tcp/4101'] })).toMatchObject({ dht: 'off', mdns: false, relayServer: false, relayTransport: false })
  })

  it('serves the DHT and a relay on trusted peers, only asks on workers, when peers are listed by id', () => {
    const queue = queueOf(`      - ${A}\n      - ${B}`, `    bootstrap: [/ip4/192.0.2.1/tcp/4101/p2p/${A}]`)
    const trusted = planDiscovery({ queue, selfId: B, role: 'trusted', listen: ['/ip4/0.0.0.0/tcp/0'] })
    expect(trusted).toMatchObject({ dht: 'server', mdns: true, relayServer: true, relayTransport: true, bootstrap: [`/ip4/192.0.2.1/tcp/4101/p2p/${A}`] })
    // A peer does not bootstrap from itself.
    expect(planDiscovery({ queue, selfId: A, role: 'trusted', listen: ['/ip4/192.0.2.1/tcp/4101'] }).bootstrap).toEqual([])
    expect(planDiscovery({ queue, selfId: 'w', role: 'worker', listen: [] })).toMatchObject({ dht: 'client', relayServer: false, mdns: true })
    expect(planDiscovery({ queue, selfId: 'w', role: 'worker', listen: [], mdns: false }).mdns).toBe(false)
  })

  it('keeps mDNS off when every address it knows is loopback', () => {
    const queue = queueOf(`      - ${A}\n      - ${B}`, `    bootstrap: [/ip4/127.0.0.1/tcp/4101/p2p/${A}]`)
    expect(planDiscovery({ queue, selfId: B, role: 'trusted', listen: ['/ip4/127.0.0.1/tcp/4102'] }).mdns).toBe(false)
    // A relay-only trusted peer offers no relay itself.
    expect(planDiscovery({ queue, selfId: B, role: 'trusted', listen: ['/p2p-circuit'] })).toMatchObject({ relayServer: false, relayTransport: true, mdns: false })
    expect(['/ip4/127.0.0.1/tcp/1', '/ip6/::1/tcp/1', '/dns/localhost/tcp/1'].every(isLoopback)).toBe(true)
    expect(['/ip4/10.0.0.1/tcp/1', '/ip4/0.0.0.0/tcp/0', 'nonsense'].some(isLoopback)).toBe(false)
  })
})
