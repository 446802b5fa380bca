// The usage text for `lambkin device`, generated from the flag and env tables, the schema and
// the defaults, so what it documents is what the loader accepts.
import { DEVICE_DEFAULTS } from './defaults.js'
import { ENV_VARS, FLAGS, OTHER_ENV_VARS, schemaKeys } from './names.js'
import type { NameMapping } from './names.js'
import { fieldAt, ruleOf } from './schema.js'
import type { Field } from './schema.js'

function defaultOf (key: string): string {
  if (key === 'mqtt.clientId') return 'lambkin-<id>'
  if (key === 'id') return `the host name (${DEVICE_DEFAULTS.id})`
  let node: unknown = DEVICE_DEFAULTS
  for (const part of key.split('.')) node = (node as Record<string, unknown> | undefined)?.[part]
  return node === undefined || typeof node === 'object' ? '' : String(node)
}

/** How a flag's value is shown: `--data <dir>`, `--broker-port <n>`, `--broker-allow-anonymous [bool]`. */
export function placeholder (key: string): string {
  if (key === 'file') return '<file>'
  const f = fieldAt(key) as Field
  return f.kind === 'int' || f.kind === 'number' ? '<n>' : f.kind === 'path' ? (f.file === true ? '<file>' : '<dir>') : f.kind === 'paths' ? '<files>' : f.kind === 'url' ? '<url>' : f.kind === 'bool' ? '[bool]' : f.kind === 'json' ? '<json>' : '<value>'
}

function table (list: Array<[string, string]>): string[] {
  const width = Math.max(...list.map(([a]) => a.length)) + 2
  return list.map(([a, b]) => `  ${a.padEnd(width)}${b}`)
}

export function deviceConfigUsage (): string {
  const flagOf = new Map(FLAGS.map((m) => [m.key, m]))
  const envOf = new Map(ENV_VARS.map((m) => [m.key, m]))
  const keys = schemaKeys().flatMap((key) => {
    const flag = flagOf.get(key) as NameMapping
    const env = envOf.get(key) as NameMapping
    const d = defaultOf(key)
    const rule = ruleOf(fieldAt(key) as Field)
    const help = flag.help === rule ? '' : `${flag.help}: `
    return [`  ${key}  --${flag.name} ${placeholder(key)}  ${env.name}`, `      ${help}${rule}${d === '' ? '' : `; default ${d}`}`]
  })
  return [
    'Configuration: defaults < config file < environment variables < flags.',
    '',
    '  --config <file>, LAMBKIN_CONFIG: the config file (JSON)',
    '',
    'Every key is set in the config file (JSON, nested by the dots), by its flag or by its',
    'variable. Empty variables count as unset (any other LAMBKIN_* variable is refused as a',
    'typo); integers are plain decimal digits; a bare boolean flag means true; <json> values',
    'are JSON text; lists of files are comma-separated.',
    '',
    ...keys,
    '',
    'Other variables:',
    ...table(OTHER_ENV_VARS.filter((m) => m.hidden !== true).map((m): [string, string] => [m.name, m.help])),
    '',
    'Relative paths in a config file resolve against the file\'s folder; from flags, the',
    'environment and the defaults, against the working directory. Flags are visible to other',
    'users in the process list: give passwords by variable or in the config file.'
  ].join('\n') + '\n'
}
