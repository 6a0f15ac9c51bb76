// Registry errors in words an operator reads once: zod's own ("Too small: expected array to have
// >=1 items", "Invalid input") say what failed a check, not what the field wants. Messages the
// schema sets on a field come first; this covers the rest.
import type { z } from 'zod'

type Issue = z.core.$ZodRawIssue

const TYPE_WORDS: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'text',
  array: 'a list',
  object: 'a map of settings (key: value lines)',
  boolean: 'true or false',
}

export function plainWords(issue: Issue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `is required (${TYPE_WORDS[issue.expected] ?? issue.expected})`
      return `must be ${TYPE_WORDS[issue.expected] ?? issue.expected}, not ${describe(issue.input)}`
    case 'too_small':
      return issue.origin === 'array'
        ? `must list at least ${issue.minimum} item${Number(issue.minimum) === 1 ? '' : 's'}`
        : issue.origin === 'string'
          ? Number(issue.minimum) <= 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters`
          : `must be ${issue.inclusive ? 'at least' : 'more than'} ${issue.minimum}`
    case 'too_big':
      return issue.origin === 'array'
        ? `must list at most ${issue.maximum} items`
        : issue.origin === 'string'
          ? `must be at most ${issue.maximum} characters`
          : `must be ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}`
    case 'invalid_value':
      return `must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`
    case 'invalid_format':
      return issue.format === 'url' ? 'must be a URL (https://…)' : `must be ${issue.format === 'regex' ? 'in the expected form' : `a valid ${issue.format}`}`
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: check the spelling (keys are case-sensitive) against the registry reference in README.md`
    case 'invalid_union':
      return 'is none of the forms this field accepts'
    default:
      return undefined
  }
}

function describe(value: unknown): string {
  if (value === null) return 'empty (null)'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a map'
  if (typeof value === 'string') return `the text "${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`
  return `${typeof value} ${String(value)}`
}
