// The operator API beyond this machine: whoever reaches its port and learns the token controls
// the fleet (deploys, invokes, revokes), so listening beyond loopback is said loudly at start,
// and without TLS the token would cross the network in the clear.
import { isLoopbackHost } from '../../src/loopback.js'

/** The warning for an API on `host`, or undefined when only this machine can reach it. */
export function apiExposureWarning (host: string, tls: boolean): string | undefined {
  if (isLoopbackHost(host)) return undefined
  const base = `WARNING: the operator API listens on ${host}, which other machines can reach; anyone who gets the operator token there controls the fleet (deploys, invokes, revokes).`
  return tls
    ? `${base} Keep the token secret and the port firewalled to operators.`
    : `${base} Without --api-tls-cert/--api-tls-key the token and everything else cross the network in the clear: add them, or keep --api-host 127.0.0.1 behind a TLS proxy.`
}
