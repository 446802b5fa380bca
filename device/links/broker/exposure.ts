// Whether the embedded broker is reachable from other machines, and the rule that follows: an
// address beyond loopback needs users, unless the config asks for an open broker on purpose.
import net from 'node:net'

/** Is `host` reachable only from this machine (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104, localhost)? */
export function isLoopbackHost (host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  if (h === 'localhost' || h.endsWith('.localhost')) return true
  if (net.isIPv4(h)) return h.startsWith('127.')
  if (net.isIPv6(h)) {
    const list = new net.BlockList()
    list.addAddress('::1', 'ipv6')
    list.addSubnet('::ffff:127.0.0.0', 104, 'ipv6')
    return list.check(h, 'ipv6')
  }
  return false
}

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
