// Asks for what the flags left open. Skipped entirely with --yes or without a terminal.
import * as p from '@clack/prompts'
import { TEMPLATES } from './templates.js'
import { UsageError, type Answers, type Flags } from './args.js'

const DEFAULTS = { dir: 'my-queue', template: 'default', trusted: 1, basePort: 4101 }

export async function complete(flags: Flags, interactive: boolean): Promise<Answers> {
  if (!interactive) {
    return {
      dir: flags.dir ?? DEFAULTS.dir,
      template: flags.template ?? DEFAULTS.template,
      trusted: flags.trusted ?? DEFAULTS.trusted,
      basePort: flags.basePort ?? DEFAULTS.basePort,
      link: flags.link,
      tarballs: flags.tarballs,
    }
  }
  p.intro('create-queue')
  const dir = flags.dir ?? answer<string>(await p.text({ message: 'Project directory', placeholder: DEFAULTS.dir, defaultValue: DEFAULTS.dir }))
  const template =
    flags.template ??
    answer<string>(await p.select({ message: 'Template', options: TEMPLATES.map((t) => ({ value: t.name, label: t.name, hint: t.description })) }))
  const trusted =
    flags.trusted ??
    Number(
      answer(
        await p.text({
          message: 'How many trusted peers (they keep the queue; 3 survives the loss of one)?',
          defaultValue: String(DEFAULTS.trusted),
          placeholder: String(DEFAULTS.trusted),
          validate: (v) => (v === undefined || v === '' || (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 15) ? undefined : 'a number from 1 to 15'),
        }),
      ),
    )
  return { dir, template, trusted, basePort: flags.basePort ?? DEFAULTS.basePort, link: flags.link, tarballs: flags.tarballs }
}

function answer<T>(value: T | symbol): T {
  if (typeof value === 'symbol') throw new UsageError('cancelled')
  return value
}
