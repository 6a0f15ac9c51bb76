// A simulated network for the census: peers with ids as long as real ones, each idle or busy
// with some free slots, joining and leaving. Truth is kept in running sums, so the simulator
// can compare every estimate with what it estimates.
import type { PeerReport } from '../../runtime/src/census/poll.js'
import type { Random } from '../sim/random.js'

const CAPACITIES = [1, 2, 4, 8]
const BUSY_SHARE = 0.3
/** Real peer ids are 52 characters; the hash cost depends on the length. */
const ID_LENGTH = 52

export interface Truth {
  readonly peers: number
  readonly busy: number
  readonly idle: number
  readonly freeSlots: number
}

export class Population {
  private ids: string[] = []
  private busy: Uint8Array
  private free: Uint16Array
  private nextId = 0
  private busyCount = 0
  private freeTotal = 0

  constructor(
    private readonly random: Random,
    initial: number,
  ) {
    this.busy = new Uint8Array(Math.max(16, initial))
    this.free = new Uint16Array(Math.max(16, initial))
    this.join(initial)
  }

  get size(): number {
    return this.ids.length
  }

  truth(): Truth {
    return { peers: this.ids.length, busy: this.busyCount, idle: this.ids.length - this.busyCount, freeSlots: this.freeTotal }
  }

  /** Calls `answer` for every peer the predicate selects: the cost of a poll is one hash per peer. */
  forEachSelected(selected: (peerId: string) => boolean, answer: (peerId: string, report: PeerReport) => void): void {
    const ids = this.ids
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!
      if (selected(id)) answer(id, { busy: this.busy[i] === 1, freeSlots: this.free[i]!, handlers: ['work'], version: 'sim' })
    }
  }

  join(count: number): void {
    const needed = this.ids.length + count
    if (needed > this.busy.length) {
      const size = Math.max(needed, this.busy.length * 2)
      const busy = new Uint8Array(size)
      busy.set(this.busy)
      const free = new Uint16Array(size)
      free.set(this.free)
      this.busy = busy
      this.free = free
    }
    for (let n = 0; n < count; n++) {
      const i = this.ids.length
    // '_' is no base-36 digit, so padding never makes two ids alike.
    this.ids.push(`sim${(this.nextId++).toString(36)}`.padEnd(ID_LENGTH, '_'))
      const capacity = this.random.pick(CAPACITIES)
      const busy = this.random.chance(BUSY_SHARE)
      this.busy[i] = busy ? 1 : 0
      this.free[i] = busy ? this.random.int(0, capacity - 1) : capacity
      this.busyCount += busy ? 1 : 0
      this.freeTotal += this.free[i]!
    }
  }

  /** Random peers leave (swap-remove, so each costs O(1)). */
  leave(count: number): void {
    for (let n = 0; n < count && this.ids.length > 0; n++) {
      const i = Math.floor(this.random.next() * this.ids.length)
      const last = this.ids.length - 1
      this.busyCount -= this.busy[i]!
      this.freeTotal -= this.free[i]!
      this.ids[i] = this.ids[last]!
      this.busy[i] = this.busy[last]!
      this.free[i] = this.free[last]!
      this.ids.pop()
    }
  }
}
