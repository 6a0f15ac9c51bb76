// Bearer tokens for the HTTP API, from a file the operator controls on this peer (never the
// registry, which every peer reads). Each token names who holds it and what it may do.
import { createHash, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'
import { z } from 'zod'
import { PeerqueueError, errorMessage } from '../errors.js'

export const RIGHTS = ['read', 'submit', 'cancel', 'redrive'] as const
export type Right = (typeof RIGHTS)[number]

export interface TokenHolder {
  readonly name: string
  readonly rights: ReadonlySet<Right>
}

const tokensFile = z.strictObject({
  tokens: z.array(
    z.strictObject({
      name: z.string().min(1).max(100),
      token: z.string().min(24, { message: 'a token must be at least 24 characters (e.g. `openssl rand -hex 32`)' }).max(512),
      rights: z.array(z.enum(RIGHTS)).min(1),
    }),
  ),
})

export class TokenStore {
  private constructor(private readonly entries: readonly { digest: Buffer; holder: TokenHolder }[]) {}

  static empty(): TokenStore {
    return new TokenStore([])
  }

  static async load(file: string): Promise<TokenStore> {
    let data: unknown
    try {
      data = parse(await readFile(file, 'utf8'))
    } catch (err) {
      throw new PeerqueueError('E_USAGE', `cannot read the HTTP token file ${file}: ${errorMessage(err)}`)
    }
    const result = tokensFile.safeParse(data)
    if (!result.success) {
      const problems = result.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`)
      throw new PeerqueueError('E_USAGE', `invalid HTTP token file ${file}:\n  ${problems.join('\n  ')}`)
    }
    return new TokenStore(result.data.tokens.map((t) => ({ digest: digest(t.token), holder: { name: t.name, rights: new Set(t.rights) } })))
  }

  static fromList(list: readonly { name: string; token: string; rights: readonly Right[] }[]): TokenStore {
    return new TokenStore(list.map((t) => ({ digest: digest(t.token), holder: { name: t.name, rights: new Set(t.rights) } })))
  }

  get size(): number {
    return this.entries.length
  }

  /** The holder of a token, compared in constant time; undefined for an unknown token. */
  holderOf(token: string): TokenHolder | undefined {
    const wanted = digest(token)
    let found: TokenHolder | undefined
    for (const entry of this.entries) if (timingSafeEqual(entry.digest, wanted)) found = entry.holder
    return found
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest()
}
