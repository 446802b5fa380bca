// Where a config value came from (file, environment, flag, defaults), and the
// LAMBKIN_CONFIG_INVALID error that names the key and that source. Apart from schema.ts so
// parsers the schema calls (broker.ts) can raise it without importing the schema back.
import { ErrorCodes, LambkinError } from '../../src/errors.js'

export type Source =
  | { kind: 'file', name: string, baseDir: string }
  | { kind: 'env', name: string }
  | { kind: 'flag', name: string }
  | { kind: 'default', name: 'defaults' }

export function describeSource (s: Source): string {
  switch (s.kind) {
    case 'file': return `in config file ${s.name}`
    case 'env': return `from environment variable ${s.name}`
    case 'flag': return `from flag --${s.name}`
    default: return 'from the defaults'
  }
}

export function configError (key: string, what: string, source: Source, cause?: unknown): LambkinError {
  return new LambkinError(ErrorCodes.CONFIG_INVALID, `config key "${key}" ${what} (${describeSource(source)})`, {
    cause,
    details: { key, source: source.name, sourceKind: source.kind }
  })
}
