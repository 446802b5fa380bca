// The one owner of the identifier rule shared by devices, functions, groups and triggers.

/**
 * Device ids, function names, group names and sensor ids: lower-case letters, digits, `_` and
 * `-`, starting with a letter or digit, at most 63 characters (wire rule W1, docs/wire.md).
 * Safe as one MQTT topic level, a file name and a LevelDB key part.
 */
export const ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/

/** True when `s` is a valid id (see ID_PATTERN). */
export function isValidId (s: unknown): s is string {
  return typeof s === 'string' && ID_PATTERN.test(s)
}
