// Whether an address is reachable only from this machine: the agent's embedded broker and the
// cloud's operator API warn or refuse when they listen beyond it.
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
