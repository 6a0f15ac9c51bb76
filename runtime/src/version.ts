// The runtime's version, as its package.json states it (one level above both src/ and dist/).
import { readFileSync } from 'node:fs'

export const RUNTIME_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version
