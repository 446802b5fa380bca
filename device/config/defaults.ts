// The agent's defaults in one frozen object (docs/architecture.md, "Configuration"), and the device id rule.
import { hostname } from 'node:os'
import { LIMIT_CAPS } from '../../src/function/index.js'
import type { DeviceDefaults } from './types.js'
import { deepFreeze } from '../../src/deep-freeze.js'
import { ID_PATTERN } from '../../src/ids.js'
import { DEFAULT_MAX_HOPS } from '../invoke/recursion-guard.js'
import { RECONNECT_MAX_MS } from '../sync/backoff.js'

/** Wire rule W1: device ids are safe in topics, file names and Prometheus labels. */
export const DEVICE_ID_PATTERN = ID_PATTERN

/** A host name made into a valid device id: first DNS label, lower case, other characters as '-'. */
export function deviceIdFromHostname (name: string): string {
  const id = (name.split('.')[0] ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 63)
  return id.length > 0 ? id : 'lambkin'
}

const MiB = 1024 * 1024

export const DEVICE_DEFAULTS: DeviceDefaults = deepFreeze({
  id: deviceIdFromHostname(hostname()),
  // Relative defaults resolve against the working directory at load time.
  dataDir: './.lambkin/data',
  functionsDir: './functions',
  // maxPacketBytes: 1 MiB, over the largest packet a function can publish (a 128 KiB payload and
  // a 64 KiB topic) and the sandbox's 256 KiB event cap, so nothing a board can use is refused,
  // while a broker or relay announcing a huge packet cannot make the board hold it
  // (docs/device.md, "The trigger link's protocol").
  mqtt: { rejectUnauthorized: true, keepaliveSec: 30, reconnectMs: 1000, protocolVersion: 5, maxPacketBytes: 1024 * 1024 },
  cloud: {
    rejectUnauthorized: true,
    keepaliveSec: 30,
    reconnectMs: 1000,
    reconnectMaxMs: RECONNECT_MAX_MS,
    heartbeatMs: 30_000,
    uploadBytesPerSec: 0,
    dailyUploadBytes: 0,
    uploadLogs: true,
    logExclude: [],
    batchRecords: 1000,
    ackTimeoutMs: 30_000
  },
  brokerHost: '127.0.0.1',
  // maxPacketBytes: the sandbox's 256 KiB event cap plus room for a topic of up to 64 KiB.
  broker: { users: [], maxPacketBytes: 320 * 1024, maxConnections: 64, connectTimeoutMs: 10_000, maxKeepaliveSec: 3600, maxTaken: 256 },
  metricsHost: '127.0.0.1',
  metricsSnapshotMs: 60_000,
  functionLogs: 'debug',
  watch: { functions: true, debounceMs: 300 },
  outbox: { quotaBytes: 64 * MiB, syncIntervalMs: 200, ttlMs: {}, writeBufferKiB: 4096 },
  invocation: { maxConcurrent: 256, queueDepth: 1000, workers: 2, drainTimeoutMs: 10_000, maxHops: DEFAULT_MAX_HOPS },
  // The function loader's own caps, so a device with no caps config checks what the CLI checks.
  caps: { ...LIMIT_CAPS },
  trustedKeys: [],
  deploy: { healthWindowMs: 30_000, maxErrorRate: 0.5, minInvocations: 3, fetchTimeoutMs: 30_000, retryMs: 30_000 }
})

/**
 * Defaults that differ under the small-RAM profile (LAMBKIN_MEMORY=small, the default on ARM):
 * one sandbox thread, which with 50 functions idles ~15 MiB below two (a V8 heap and a malloc
 * arena fewer; docs/performance.md, "The small-RAM profile"). CPU-heavy functions then share that thread.
 * 64 client publishes at once on the embedded broker instead of 256: the main heap peaks 4-6 MiB
 * lower under a sensor's 500 QoS 1 messages in flight, at the same CPU and msg/s (same section).
 * A 1 MiB LevelDB write buffer instead of 4: the memtable the outbox's writes fill between two
 * table files is held in malloc, so the peak under load is about 1 MiB lower (docs/performance.md,
 * "The memtable on board settings"), for more compaction writes to disk.
 */
export const SMALL_RAM_DEFAULTS = deepFreeze({ invocation: { workers: 1 }, broker: { maxTaken: 64 }, outbox: { writeBufferKiB: 1024 } })
