// A queue's name appears in folder names, topics and protocol ids, so peers use a safe form of
// it. Names that are already safe are used as they are; others (PeerPrint allows "Test queue")
// get a readable slug plus a short hash of the whole name, so two names never share one slug.
import { createHash } from 'node:crypto'

const SAFE = /^[a-z0-9-]{1,63}$/

export function internalQueueName(displayName: string): string {
  if (SAFE.test(displayName)) return displayName
  const slug = displayName
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 54)
    .replace(/-+$/, '')
  const hash = createHash('sha256').update(displayName).digest('hex').slice(0, 8)
  return slug ? `${slug}-${hash}` : `queue-${hash}`
}
