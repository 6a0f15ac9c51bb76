import { startEmbedded } from './peerqueue-side.js'
import { sleep } from './lib/stats.js'
const med = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!.toFixed(2)
const c = await startEmbedded(4)
await sleep(1000)
const st: number[] = []
for (let i = 0; i < 3000; i++) { const t = performance.now(); await c.client.status(); st.push(performance.now() - t) }
console.log('status rtt', med(st))
await c.close()
process.exit(0)
