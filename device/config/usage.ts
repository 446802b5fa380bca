// The usage text for `lambkin device`, generated from the flag and env tables, the schema and
// the defaults, so what it documents is what the loader accepts.
import { DEVICE_DEFAULTS } from './defaults.js'
import { ENV_VARS, FLAGS, OTHER_ENV_VARS } from './names.js'
import type { NameMapping } from './names.js'
import { fieldAt, ruleOf, SCHEMA } from './schema.js'
import type { Field, Group } from './schema.js'

function defaultOf (key: string): string {
  if (key === 'mqtt.clientId') return 'lambkin-<id>'
  if (key === 'id') return `the host name (${DEVICE_DEFAULTS.id})`
  let node: unknown = DEVICE_DEFAULTS
  for (const part of key.split('.')) node = (node as Record<string, unknown> | undefined)?.[part]
  return node === undefined || typeof node === 'object' ? '' : String(node)
}

function placeholder (m: NameMapping): string {
  if (m.key === 'file') return '<file>'
  const f = fieldAt(m.key) as Field
  return f.kind === 'int' ? '<n>' : f.kind === 'path' ? '<dir>' : f.kind === 'url' ? '<url>' : '<value>'
}

function table (list: Array<[string, string]>): string[] {
  const width = Math.max(...list.map(([a]) => a.length)) + 2
  return list.map(([a, b]) => `  ${a.padEnd(width)}${b}`)
}

function leaves (g: Group, prefix: string, out: Array<[string, Field]>): Array<[string, Field]> {
  for (const [name, f] of Object.entries(g.fields)) {
    if (f.kind === 'group') leaves(f, `${prefix}${name}.`, out)
    else out.push([prefix + name, f])
  }
  return out
}

export function deviceConfigUsage (): string {
  const mapped = (m: NameMapping): string => m.key === 'file' ? m.help : `${m.help} (${m.key})`
  const keys = leaves(SCHEMA, '', []).map(([key, f]): [string, string] => {
    const d = defaultOf(key)
    return [key, `${ruleOf(f)}${d === '' ? '' : `; default ${d}`}`]
  })
  return [
    'Configuration: defaults < config file < environment variables < flags.',
    '',
    'Flags:',
    ...table(FLAGS.map((m) => [`--${m.name} ${placeholder(m)}`, mapped(m)])),
    '',
    'Environment (empty means unset; any other LAMBKIN_* variable is refused as a typo;',
    'integers in plain decimal digits):',
    ...table([...ENV_VARS.map((m): [string, string] => [m.name, mapped(m)]), ...OTHER_ENV_VARS.filter((m) => m.hidden !== true).map((m): [string, string] => [m.name, m.help])]),
    '',
    'Config file keys (JSON, nested by the dots; unknown keys are refused):',
    ...table(keys),
    '',
    'Relative paths in a config file resolve against the file\'s folder; from flags, the',
    'environment and the defaults, against the working directory.'
  ].join('\n') + '\n'
}
