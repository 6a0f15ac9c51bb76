import { defineJob } from '@peerqueue/sdk'

// The benchmark's handler: does nothing, so the figures measure the queue, not the work.
export default defineJob({
  name: 'noop',
  async run() {
    return null
  },
})
