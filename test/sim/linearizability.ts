// A linearizability checker for client histories (Wing & Gong's search with Lowe's memoisation,
// as Porcupine does it). A history is linearizable if every operation can be placed at one
// instant between its call and its return so that the sequence obeys the model. Operations whose
// outcome is unknown (the client gave up) may take effect at any time after their call, or never.

export interface Operation<I, O> {
  readonly client: number
  readonly input: I
  /** undefined when the outcome is unknown. */
  readonly output: O | undefined
  readonly call: number
  /** Infinity when the outcome is unknown. */
  readonly ret: number
  /** When the client stopped waiting for an outcome it never learned. */
  readonly gaveUpAt?: number
}

export interface Model<S, I, O> {
  readonly init: S
  /** Applies an operation: whether `output` is what the model returns, and the next state. */
  step(state: S, input: I, output: O | undefined): { ok: boolean; next: S }
  /** States are compared by this key when memoising; equal keys mean equal states. */
  key(state: S): string
  /** Independent parts (keys of a key-value store) are checked one at a time. */
  partition?(ops: readonly Operation<I, O>[]): Operation<I, O>[][]
}

export type CheckResult = { readonly ok: true } | { readonly ok: false; readonly partition: number } | { readonly ok: 'unknown'; readonly reason: string }

interface Node {
  readonly op: number
  readonly isCall: boolean
  readonly time: number
  match: Node | undefined
  prev: Node | undefined
  next: Node | undefined
}

export function checkHistory<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[], budget = 5_000_000): CheckResult {
  const parts = model.partition ? model.partition(ops) : [ops as Operation<I, O>[]]
  for (const [i, part] of parts.entries()) {
    const result = checkPartition(model, part, budget)
    if (result === 'budget') return { ok: 'unknown', reason: `search budget of ${budget} steps exhausted in partition ${i}` }
    if (!result) return { ok: false, partition: i }
  }
  return { ok: true }
}

function checkPartition<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[], budget: number): boolean | 'budget' {
  const head = buildList(ops)
  const linearized = new Uint8Array(ops.length)
  const cache = new Set<string>()
  const stack: { node: Node; state: S }[] = []
  let state = model.init
  let entry = head.next
  let steps = 0
  while (head.next !== undefined) {
    if (++steps > budget) return 'budget'
    if (entry === undefined) return false
    if (entry.isCall) {
      const op = ops[entry.op]!
      const { ok, next } = model.step(state, op.input, op.output)
      if (ok) {
        linearized[entry.op] = 1
        const key = `${bitsKey(linearized)}|${model.key(next)}`
        if (!cache.has(key)) {
          cache.add(key)
          stack.push({ node: entry, state })
          state = next
          lift(entry)
          entry = head.next
          continue
        }
        linearized[entry.op] = 0
      }
      entry = entry.next
    } else {
      // A return with its call still in the list: something before it must be undone.
      const top = stack.pop()
      if (!top) return false
      state = top.state
      linearized[top.node.op] = 0
      unlift(top.node)
      entry = top.node.next
    }
  }
  return true
}

function buildList<I, O>(ops: readonly Operation<I, O>[]): Node {
  const events: Node[] = []
  ops.forEach((op, i) => {
    const call: Node = { op: i, isCall: true, time: op.call, match: undefined, prev: undefined, next: undefined }
    const ret: Node = { op: i, isCall: false, time: op.ret, match: undefined, prev: undefined, next: undefined }
    call.match = ret
    events.push(call, ret)
  })
  // At equal times calls come first: operations that touch in time are concurrent.
  events.sort((a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall))
  const head: Node = { op: -1, isCall: false, time: -Infinity, match: undefined, prev: undefined, next: undefined }
  let last = head
  for (const event of events) {
    last.next = event
    event.prev = last
    last = event
  }
  return head
}

function lift(call: Node): void {
  call.prev!.next = call.next
  if (call.next) call.next.prev = call.prev
  const ret = call.match!
  ret.prev!.next = ret.next
  if (ret.next) ret.next.prev = ret.prev
}

function unlift(call: Node): void {
  const ret = call.match!
  ret.prev!.next = ret
  if (ret.next) ret.next.prev = ret
  call.prev!.next = call
  if (call.next) call.next.prev = call
}

function bitsKey(bits: Uint8Array): string {
  let key = ''
  for (let i = 0; i < bits.length; i += 16) {
    let word = 0
    for (let j = i; j < Math.min(i + 16, bits.length); j++) word = (word << 1) | bits[j]!
    key += String.fromCharCode(word + 0x100)
  }
  return key
}

// ---- the model the simulator's clients use: a key-value store of registers ----

export type KvInput = { readonly kind: 'put'; readonly key: string; readonly value: string } | { readonly kind: 'get'; readonly key: string }
export type KvOutput = { readonly value: string | null }

export const kvModel: Model<string | null, KvInput, KvOutput> = {
  init: null,
  step(state, input, output) {
    if (input.kind === 'put') return { ok: true, next: input.value }
    return { ok: output === undefined || output.value === state, next: state }
  },
  key: (state) => state ?? '\u0000',
  partition(ops) {
    const byKey = new Map<string, Operation<KvInput, KvOutput>[]>()
    for (const op of ops) byKey.set(op.input.key, [...(byKey.get(op.input.key) ?? []), op])
    return [...byKey.values()]
  },
}
