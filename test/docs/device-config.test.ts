// The README's `lambkin device` section names every config key, environment variable and flag
// the agent takes, so no setting works without being documented.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ENV_VARS, FLAGS } from '../../device/config/index.js'
import { SCHEMA } from '../../device/config/schema.js'
import type { Field, Group } from '../../device/config/schema.js'

const README = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8')
const start = README.indexOf('\n## `lambkin device`')
const SECTION = README.slice(start, README.indexOf('\n## ', start + 1))

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

test('every config key is named in the README\'s `lambkin device` section', () => {
  assert.ok(start >= 0, 'no `lambkin device` section')
  const missing = keys(SCHEMA).filter((k) => !named(k))
  assert.equal(missing, [], `config keys the README does not name: ${missing.join(', ')}`)
})

test('every LAMBKIN_* variable and every flag is named there too', () => {
  const missing = [
    ...ENV_VARS.map((e) => e.name).filter((n) => !SECTION.includes(`\`${n}\``)),
    ...FLAGS.map((f) => `--${f.name}`).filter((n) => !SECTION.includes(`\`${n}`))
  ]
  assert.equal(missing, [], `not in the README: ${missing.join(', ')}`)
})

test.run()
