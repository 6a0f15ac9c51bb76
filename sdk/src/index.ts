// @peerqueue/sdk: what a handler module imports. Kept free of networking so a handler bundle
// stays small; the client lives at @peerqueue/sdk/client.
export {
  defineJob,
  type JobDefinition,
  type AnyJobDefinition,
  type JobContext,
  type JobLogger,
  type ChildResult,
  type FollowUpOptions,
  type RateLimit,
  type RetryPolicy,
  type Backoff,
  type PayloadOf,
  type ResultOf,
  type NameOf,
} from './job.js'
export { NonRetryableError, JobFailedError, JobCancelledError } from './errors.js'
