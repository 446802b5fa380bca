// docs/device.md, the agent's reference, names every config key, environment variable and flag
// the agent takes, so no setting works without being documented.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ENV_VARS, FLAGS } from '../../device/config/index.js'
import { SCHEMA } from '../../device/config/schema.js'
import type { Field, Group } from '../../device/config/schema.js'

const SECTION = readFileSync(fileURLToPath(new URL('../../../docs/device.md', import.meta.url)), 'utf8')

/** Every leaf key of the config schema, dotted. */
function keys (g: Group, prefix = ''): string[] {
  return Object.entries(g.fields).flatMap(([name, f]: [string, Field | Group]) => {
    const key = prefix === '' ? name : `${prefix}.${name}`
    return f.kind === 'group' ? keys(f, key) : [key]
  })
}

/** Named in backquotes, itself or as a `group.*` wildcard of one of its groups. */
function named (key: string): boolean {
  const parts = key.split('.')
  const forms = [key, ...parts.slice(0, -1).map((_p, i) => `${parts.slice(0, i + 1).join('.')}.*`)]
  return forms.some((f) => SECTION.includes(`\`${f}\``))
}

test('every config key is named in docs/device.md', () => {
  assert.ok(SECTION.includes('\n## `lambkin device`\n'), 'docs/device.md has no `lambkin device` section')
  const missing = keys(SCHEMA).filter((k) => !named(k))
  assert.equal(missing, [], `config keys docs/device.md does not name: ${missing.join(', ')}`)
})

/** docs/device.md's rule for the names of keys it does not list: the words of the key's path. */
const RULE = '`outbox.ttlMs.dead-letter` is set by `--outbox-ttl-ms-dead-letter` and `LAMBKIN_OUTBOX_TTL_MS_DEAD_LETTER`'
const words = (key: string): string[] => key.split(/[.-]/).flatMap((p) => p.replace(/KiB/g, 'Kib').replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(' '))

test('every LAMBKIN_* variable and every flag is named there, or follows the rule it states', () => {
  assert.ok(SECTION.includes(RULE), `docs/device.md does not state the naming rule: ${RULE}`)
  const missing = [
    ...ENV_VARS.filter((e) => !SECTION.includes(`\`${e.name}\``) && e.name !== `LAMBKIN_${words(e.key).join('_').toUpperCase()}`).map((e) => e.name),
    ...FLAGS.filter((f) => !SECTION.includes(`\`--${f.name}`) && f.name !== words(f.key).join('-')).map((f) => `--${f.name}`)
  ]
  assert.equal(missing, [], `neither in docs/device.md nor named by its rule: ${missing.join(', ')}`)
})

test.run()
