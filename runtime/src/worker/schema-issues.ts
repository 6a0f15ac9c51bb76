// One wording for a payload that fails its job's schema, wherever it is checked (client or worker).
import type { StandardSchemaV1 } from '@standard-schema/spec'

export function describeSchemaIssues(jobName: string, issues: readonly StandardSchemaV1.Issue[]): string {
  const details = issues.map((issue) => {
    const path = (issue.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.')
    return path ? `${path}: ${issue.message}` : issue.message
  })
  return `payload does not match the schema of "${jobName}": ${details.join('; ')}`
}
