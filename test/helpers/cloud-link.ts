// CloudLink options for tests that start a link against a real cloud: quick reconnects, a
// heartbeat that stays out of the way, nothing capped. `extra` overrides any of them.
import type { CloudLinkOptions } from '../../device/sync/index.js'
import type { LevelOutboxStore } from '../../device/store/index.js'
import { systemClock } from '../../src/clock.js'

export function linkOptions (url: string, store: LevelOutboxStore, secret: string, extra: Partial<CloudLinkOptions> = {}): CloudLinkOptions {
  return {
    url,
    deviceId: 'gh-01',
    secret,
    store,
    clock: systemClock,
    log: () => {},
    status: () => ({ agent: '0.1.0', functions: [{ name: 'f', version: '1' }] }),
    heartbeatMs: 60_000,
    batchRecords: 1000,
    window: 2,
    ackTimeoutMs: 5000,
    uploadBytesPerSec: 0,
    dailyUploadBytes: 0,
    uploadLogs: true,
    logExclude: [],
    reconnectMinMs: 50,
    reconnectMaxMs: 200,
    ...extra
  }
}
