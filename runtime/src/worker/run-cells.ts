// Which handler thread runs each run, in memory the pool shares with its threads. The pool must
// know a run's thread only to terminate it when its handler ignores ctx.signal; a message from
// the thread as each run started cost a cross-thread message per job, and every pool in the
// process heard it (a BroadcastChannel). Now the thread writes its id in the run's cell with one
// atomic store, and the pool reads it only when it has a thread to end.

/** The pool's side: a cell per run in flight. */
export class RunCells {
  readonly buffer: SharedArrayBuffer
  private readonly cells: Int32Array
  private readonly free: number[]

  constructor(size: number) {
    this.buffer = new SharedArrayBuffer(4 * size)
    this.cells = new Int32Array(this.buffer)
    this.free = Array.from({ length: size }, (_, i) => size - 1 - i)
  }

  /** A cell for a new run, or -1 when every cell is taken (that run's thread cannot be told). */
  take(): number {
    const cell = this.free.pop()
    if (cell === undefined) return -1
    Atomics.store(this.cells, cell, 0)
    return cell
  }

  /** The id of the thread that started the run in this cell, or undefined before it started. */
  threadOf(cell: number): number | undefined {
    if (cell < 0) return undefined
    const id = Atomics.load(this.cells, cell)
    return id === 0 ? undefined : id
  }

  /** Once the run's task is settled in the pool: no thread writes this cell for it any more. */
  release(cell: number): void {
    if (cell >= 0) this.free.push(cell)
  }
}

/** The thread's side: the cells as it sees them (from RunCells.buffer), or undefined without any. */
export function cellsOf(buffer: SharedArrayBuffer | undefined): Int32Array | undefined {
  return buffer ? new Int32Array(buffer) : undefined
}

/** The thread's side: says that this thread started the run of `cell`. Thread ids start at 1. */
export function markStarted(cells: Int32Array | undefined, cell: number, threadId: number): void {
  if (cells && cell >= 0) Atomics.store(cells, cell, threadId)
}
