import { createKeyFile } from '../net/identity.js'
import { PeerqueueError } from '../errors.js'
import { printJson, str, type CliCommand } from './command.js'

export const keygen: CliCommand = {
  name: 'keygen',
  summary: 'create an Ed25519 key file and print its peer id',
  usage: `Usage: queue-runtime keygen --out <file> [--json]

Creates a new key file (mode 0600) and prints the peer id to put in the registry.

Options:
  --out <file>   where to write the key; an existing file is never overwritten
  --json         print {"peerId", "file"} instead of the bare peer id`,
  options: { out: { type: 'string' }, json: { type: 'boolean' } },
  async run(values) {
    const out = str(values.out)
    if (!out) throw new PeerqueueError('E_USAGE', `--out is required\n\n${this.usage}`)
    const { peerId } = await createKeyFile(out)
    if (values.json) printJson({ peerId, file: out })
    else process.stdout.write(`${peerId}\n`)
  },
}
