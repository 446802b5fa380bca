// The cloud link is not built yet (its wire rules are in docs/wire.md): until it is, a cloud
// setting is refused where it is given, rather than accepted and silently ignored.
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import type { DeviceConfig } from '../../device/config/index.js'
import { usageError } from '../io.js'

const NOT_YET = 'the cloud link is not built yet (see "Status" in the README); remove it until a release that has one'

/** Throws LAMBKIN_USAGE (exit 2) for `--cloud`, before anything is loaded. */
export function refuseCloudFlag (flags: Record<string, unknown>, usage: string): void {
  if (flags.cloud !== undefined) throw usageError(`--cloud is reserved for the cloud link: ${NOT_YET}`, usage)
}

/**
 * Throws LAMBKIN_CONFIG_INVALID when the loaded config sets a cloud broker (the config file's
 * `cloud.url` or LAMBKIN_CLOUD_URL). Other `cloud.*` keys only describe that connection, so
 * without a URL they do nothing and are let through.
 */
export function refuseCloudConfig (config: DeviceConfig): void {
  if (config.cloud.url === undefined) return
  throw new LambkinError(ErrorCodes.CONFIG_INVALID, `config key "cloud.url" is reserved for the cloud link (from the config file or LAMBKIN_CLOUD_URL): ${NOT_YET}`, { details: { key: 'cloud.url' } })
}
