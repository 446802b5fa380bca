// mqtt-packet's writer pre-builds a Buffer for every 16-bit number (65,536 two-byte Buffers,
// about 8 MiB of V8 heap) the first time it writes a packet, process-wide. MQTT.js turns it
// off with its `writeCache: false` option; aedes has no such option and writes through the same
// module, so its embedded broker built the cache on its first client. This turns it off in
// the copy aedes itself loads (found from aedes' own location, so no direct dependency).
import { createRequire } from 'node:module'

/** The one member of mqtt-packet's writeToStream this file uses (a setter, mqtt-packet 6+). */
interface Writer { cacheNumbers: boolean }

/**
 * Makes mqtt-packet, as aedes resolves it, allocate packet ids on the fly instead of from its
 * number cache. Returns false, changing nothing, when that module or the switch is not found
 * (then the cache costs memory, not correctness).
 */
export function disableNumberCache (): boolean {
  try {
    const fromAedes = createRequire(import.meta.resolve('aedes'))
    const writer = (fromAedes('mqtt-packet') as { writeToStream?: Partial<Writer> }).writeToStream
    if (writer === undefined || !('cacheNumbers' in writer)) return false
    writer.cacheNumbers = false
    return writer.cacheNumbers === false
  } catch {
    return false
  }
}
