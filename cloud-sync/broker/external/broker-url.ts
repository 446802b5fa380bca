// The external broker's URL (`lambkin cloud --broker`, LAMBKIN_BROKER_URL): mqtt:// or mqtts://,
// with the cloud's own user and password in it, checked once here; logs and /v1/status only
// ever see it without the password.
import { ErrorCodes, LambkinError } from '../../../src/errors.js'

export interface BrokerUrl {
  /** protocol://host:port, no credentials. */
  url: string
  username?: string
  password?: string
  /** The URL as logs show it: the user, never the password. */
  shown: string
}

/** Parses and checks the URL; throws LAMBKIN_CONFIG_INVALID naming `--broker`. */
export function parseBrokerUrl (text: string): BrokerUrl {
  let u: URL
  try {
    u = new URL(text)
  } catch (err) {
    throw new LambkinError(ErrorCodes.CONFIG_INVALID, '--broker must be a URL like mqtts://lambkin-cloud:secret@broker.example.com:8883; got something that is not a URL', { cause: err, details: { key: 'broker' } })
  }
  if (u.protocol !== 'mqtt:' && u.protocol !== 'mqtts:') throw new LambkinError(ErrorCodes.CONFIG_INVALID, `--broker must start with mqtt:// or mqtts://; got ${u.protocol}//`, { details: { key: 'broker' } })
  if (u.hostname === '') throw new LambkinError(ErrorCodes.CONFIG_INVALID, '--broker has no host', { details: { key: 'broker' } })
  if (u.pathname !== '' && u.pathname !== '/') throw new LambkinError(ErrorCodes.CONFIG_INVALID, `--broker takes no path (${u.pathname}); give protocol://user:password@host:port`, { details: { key: 'broker' } })
  const port = u.port === '' ? (u.protocol === 'mqtts:' ? 8883 : 1883) : Number(u.port)
  const base = `${u.protocol}//${u.hostname}:${port}`
  const username = u.username === '' ? undefined : decodeURIComponent(u.username)
  const password = u.password === '' ? undefined : decodeURIComponent(u.password)
  return { url: base, username, password, shown: username === undefined ? base : `${u.protocol}//${encodeURIComponent(username)}@${u.hostname}:${port}` }
}
