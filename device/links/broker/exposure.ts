// Whether the embedded broker is reachable from other machines, and the rule that follows: an
// address beyond loopback needs users, unless the config asks for an open broker on purpose.
import { isLoopbackHost } from '../../../src/loopback.js'

export { isLoopbackHost }

/** Whether clients without a user name may connect: `allowAnonymous` if set, else only when there are no users. */
export function anonymousAllowed (users: number, allowAnonymous: boolean | undefined): boolean {
  return allowAnonymous ?? users === 0
}

/**
 * What is wrong with this combination, or undefined: no users with allowAnonymous false (no
 * one could connect), or no users on a host beyond loopback without allowAnonymous: true.
 */
export function exposureProblem (host: string, users: number, allowAnonymous: boolean | undefined): string | undefined {
  if (users > 0) return undefined
  if (allowAnonymous === false) return 'is empty while broker.allowAnonymous is false: no client could connect; add users (`lambkin broker-passwd <name>` prints an entry)'
  if (allowAnonymous !== true && !isLoopbackHost(host)) {
    return `is empty but brokerHost is ${host}, which other machines can reach: anyone there could read every topic and trigger functions. Add users (\`lambkin broker-passwd <name>\` prints an entry), or set broker.allowAnonymous: true to run an open broker on purpose`
  }
  return undefined
}
