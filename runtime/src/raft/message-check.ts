// The shape of a Raft message from the network, checked before the core sees it. Members are
// trusted, but a bug or a corrupted frame must not crash the core with a TypeError.
import type { Message } from './types.js'

const isIndex = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0
const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 200
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

export function isMessage(value: unknown): value is Message {
  if (!isRecord(value)) return false
  const m = value
  if (!isId(m.group) || !isId(m.from) || !isId(m.to) || !isIndex(m.term)) return false
  switch (m.type) {
    case 'vote':
      return typeof m.preVote === 'boolean' && isIndex(m.lastIndex) && isIndex(m.lastTerm) && typeof m.transfer === 'boolean'
    case 'voteResp':
      return typeof m.preVote === 'boolean' && typeof m.reject === 'boolean'
    case 'append':
      return isIndex(m.prevIndex) && isIndex(m.prevTerm) && isIndex(m.commit) && Array.isArray(m.entries) && entriesFollow(m.entries, m.prevIndex)
    case 'appendResp':
      return typeof m.reject === 'boolean' && isIndex(m.index) && isIndex(m.hintIndex) && isIndex(m.hintTerm)
    case 'heartbeat':
      return isIndex(m.commit) && (m.readCtx === undefined || typeof m.readCtx === 'string')
    case 'heartbeatResp':
      return m.readCtx === undefined || typeof m.readCtx === 'string'
    case 'snapshot':
      return isSnapshot(m.snapshot)
    case 'timeoutNow':
      return true
    default:
      return false
  }
}

function entriesFollow(entries: unknown[], prevIndex: number): boolean {
  return entries.every((e, i) => isRecord(e) && e.index === prevIndex + 1 + i && isIndex(e.term) && isPayload(e))
}

function isPayload(e: Record<string, unknown>): boolean {
  if (e.kind === 'noop') return true
  if (e.kind === 'data') return 'data' in e
  if (e.kind === 'conf') return isRecord(e.change) && ['addVoter', 'addLearner', 'remove'].includes(e.change.type as string) && isId(e.change.node)
  return false
}

function isSnapshot(s: unknown): boolean {
  if (!isRecord(s) || !isIndex(s.index) || !isIndex(s.term) || !isRecord(s.membership)) return false
  const { voters, learners } = s.membership
  return Array.isArray(voters) && voters.every(isId) && Array.isArray(learners) && learners.every(isId)
}
