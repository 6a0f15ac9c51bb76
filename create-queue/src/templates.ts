// The project templates the scaffolder offers. Each is a real project under templates/<name>.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

export interface Template {
  readonly name: string
  readonly description: string
}

export const TEMPLATES: readonly Template[] = [{ name: 'default', description: 'a queue with one hello job and a client script' }]

/** templates/ ships inside the package; in this repository it sits at the root. */
export function templatesRoot(): string {
  const here = fileURLToPath(new URL('.', import.meta.url))
  const candidates = [join(here, '..', 'templates'), join(here, '..', '..', 'templates')]
  const found = candidates.find((dir) => existsSync(join(dir, 'default')))
  if (!found) throw new Error(`templates not found next to ${here}`)
  return found
}
