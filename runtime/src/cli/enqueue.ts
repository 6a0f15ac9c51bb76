import superjson from 'superjson'
import { assertEnqueued } from '../client/index.js'
import { PeerqueueError } from '../errors.js'
import { FINAL_STATES } from '../queue/job.js'
import type { JobView } from '../service/job-view.js'
import { int, printJson, str, type CliCommand } from './command.js'
import { clientOptionHelp, clientOptionSpec, withClient } from './client-options.js'

export const enqueue: CliCommand = {
  name: 'enqueue',
  summary: 'submit a job; with --wait, print its result',
  usage: `Usage: queue-runtime enqueue <job-name> <json-payload> [options]

Submits one job and prints its id once a majority of trusted peers stored it.

Options:
  --wait                  wait for the job to finish and print its result
  --priority <n>          higher runs first (default 0)
  --delay-ms <n>          run no earlier than this many ms from now
  --idempotency-key <k>   a second enqueue with the same key returns the first job
  --max-attempts <n>      attempts before the job is dead (default: the handler's)
  --version <n>           run on this deployed version, not the current one (queue-runtime versions)
  --on-saturated <mode>   when the queue is saturated: wait (default: try again after the
                          leader's hint, saying so on stderr) or throw (fail at once; with
                          --json, print the code and retryAfterMs)
  --max-wait-ms <n>       how long to wait for room (default: the registry's saturation.maxWaitMs)
${clientOptionHelp}`,
  options: {
    ...clientOptionSpec,
    wait: { type: 'boolean' },
    priority: { type: 'string' },
    'delay-ms': { type: 'string' },
    'idempotency-key': { type: 'string' },
    'max-attempts': { type: 'string' },
    version: { type: 'string' },
    'on-saturated': { type: 'string' },
    'max-wait-ms': { type: 'string' },
  },
  async run(values, positionals) {
    const [name, json] = positionals
    if (!name || json === undefined || positionals.length > 2) throw new PeerqueueError('E_USAGE', `expected a job name and a JSON payload\n\n${this.usage}`)
    let payload: unknown
    try {
      payload = JSON.parse(json)
    } catch (err) {
      throw new PeerqueueError('E_USAGE', `the payload is not valid JSON: ${(err as Error).message}`)
    }
    const options = {
      priority: int(values.priority, 'priority'),
      delayMs: int(values['delay-ms'], 'delay-ms'),
      idempotencyKey: str(values['idempotency-key']),
      maxAttempts: int(values['max-attempts'], 'max-attempts'),
      version: int(values.version, 'version'),
    }
    const onSaturated = str(values['on-saturated']) ?? 'wait'
    if (onSaturated !== 'wait' && onSaturated !== 'throw') throw new PeerqueueError('E_USAGE', `--on-saturated takes wait or throw, got "${onSaturated}"`)
    const maxWaitMs = int(values['max-wait-ms'], 'max-wait-ms')
    const saturation = {
      onSaturated,
      ...(maxWaitMs === undefined ? {} : { maxWaitMs }),
      onSaturatedWait: ({ delayMs, waitedMs }: { delayMs: number; waitedMs: number }) =>
        process.stderr.write(`queue-runtime: the queue is saturated (the network cannot host more jobs now); trying again in ${(delayMs / 1000).toFixed(1)} s (waited ${(waitedMs / 1000).toFixed(1)} s so far)\n`),
    } as const
    return withClient(values, async (client) => {
      const [outcome] = await client.enqueue([{ name, payload: superjson.stringify(payload), options: dropUndefined(options) }])
      if (outcome && !outcome.ok && outcome.code === 'E_QUEUE_SATURATED' && values.json) {
        printJson({ ok: false, code: outcome.code, message: outcome.message, retryAfterMs: outcome.retryAfterMs })
        return 1
      }
      const { id, created } = assertEnqueued(outcome)
      if (!values.wait) {
        if (values.json) printJson({ id, created })
        else process.stdout.write(`${id}${created ? '' : ' (existing job with this idempotency key)'}\n`)
        return 0
      }
      let view = await client.wait(id)
      while (!FINAL_STATES.has(view.state)) view = await client.wait(id)
      printOutcome(view, values.json === true)
      return view.state === 'completed' ? 0 : 1
    }, saturation)
  },
}

export function printOutcome(view: JobView, json: boolean): void {
  const result = view.result === null ? null : superjson.parse(view.result)
  if (json) {
    printJson({ ...view, result })
    return
  }
  if (view.state === 'completed') process.stdout.write(`${JSON.stringify(result)}\n`)
  else process.stdout.write(`job ${view.id} ${view.state} after ${view.attempt} attempt(s)${view.error ? `: ${view.error.name}: ${view.error.message}` : ''}\n`)
}

function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
