// Estimates from census polls. In a poll with probability p, each of N peers answers
// independently with probability p, so the number of answers k is Binomial(N, p): N̂ = k / p.
// Over a window of polls, K = Σk_i has mean N·Σp_i and variance N·Σp_i(1 − p_i); the score
// interval solves (K − N·P)² = z²·N·Q for N, which stays honest when k is small.
// Totals of a per-peer quantity (free slots) use the same sums, weighted by the quantity.

export interface PollCount {
  readonly p: number
  /** Answers counted (of all peers, or of those in one state). */
  readonly count: number
}

export interface PollTotal extends PollCount {
  /** Σ x over the answers. */
  readonly sum: number
  /** Σ x² over the answers. */
  readonly sumOfSquares: number
}

export interface Interval {
  readonly estimate: number
  readonly low: number
  readonly high: number
}

export const Z95 = 1.959963984540054

/** Population estimate with a 95% score interval from one or more polls of a population taken as constant. */
export function estimatePopulation(polls: readonly PollCount[], z = Z95): Interval {
  const K = polls.reduce((sum, poll) => sum + poll.count, 0)
  const { P, Q } = weights(polls)
  if (P <= 0) return { estimate: 0, low: 0, high: Infinity }
  const estimate = K / P
  if (Q === 0) return { estimate, low: estimate, high: estimate }
  // P²N² − (2KP + z²Q)N + K² = 0
  const b = 2 * K * P + z * z * Q
  const root = Math.sqrt(Math.max(0, b * b - 4 * P * P * K * K))
  return { estimate, low: (b - root) / (2 * P * P), high: (b + root) / (2 * P * P) }
}

/**
 * The total X = Σx of a non-negative per-peer quantity (free slots). The answers' sum T has mean
 * X·P and variance X₂·Q, where X₂ = Σx²; writing X₂ = r·X with r = Σx²/Σx taken from the
 * answers, the score interval of the count carries over: (T − X·P)² = z²·r·Q·X. For x in {0, 1}
 * r is 1 and this is the count's interval.
 */
export function estimateTotal(polls: readonly PollTotal[], z = Z95): Interval {
  const answers = polls.reduce((s, poll) => s + poll.count, 0)
  const sum = polls.reduce((s, poll) => s + poll.sum, 0)
  const squares = polls.reduce((s, poll) => s + poll.sumOfSquares, 0)
  if (answers === 0) return { ...estimatePopulation(polls, z), low: 0, high: Infinity }
  const r = sum > 0 ? squares / sum : 1
  const scaled = estimatePopulation(polls.map((poll) => ({ p: poll.p, count: poll.sum / r })), z)
  return { estimate: scaled.estimate * r, low: scaled.low * r, high: scaled.high * r }
}

/**
 * The probability for the next poll, aiming at `target` answers: target / N̂ from the latest
 * estimate, never more than `maxGrowth` times the last p (a small first sample can be far off).
 */
export function nextProbability(estimate: number | undefined, lastP: number, target: number, maxGrowth = 16): number {
  const wanted = estimate === undefined || estimate <= 0 ? lastP * maxGrowth : target / estimate
  return Math.min(1, Math.max(Number.MIN_VALUE, Math.min(wanted, lastP * maxGrowth)))
}

function weights(polls: readonly { readonly p: number }[]): { P: number; Q: number } {
  let P = 0
  let Q = 0
  for (const poll of polls) {
    P += poll.p
    Q += poll.p * (1 - poll.p)
  }
  return { P, Q }
}
