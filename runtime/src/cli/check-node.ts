// Imported first by the CLI, so it runs before libp2p is loaded: on an old Node.js the user
// reads what to do instead of a stack trace.
import { nodeVersionProblem } from '../node-version.js'

const problem = nodeVersionProblem()
if (problem) {
  process.stderr.write(`error E_NODE_VERSION: ${problem}\n`)
  process.exit(1)
}
