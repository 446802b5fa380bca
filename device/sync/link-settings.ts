// The cloud link's settings as the device config gives them (the `cloud.*` keys, docs/device.md):
// the one place that maps config keys onto CloudLinkOptions, so the agent's start step passes
// only what it owns (store, clock, status, the down handlers).
import { readFileSync } from 'node:fs'
import type { DeviceConfig } from '../config/index.js'
import type { CloudLinkOptions } from './cloud-link.js'
import { UPLOAD_WINDOW } from './uploader.js'

/** What CloudLink.start takes from the config alone; the TLS files are read here (throws ENOENT naming one that is gone). */
export type CloudLinkSettings = Omit<CloudLinkOptions, 'store' | 'clock' | 'log' | 'status' | 'down' | 'random'>

/** The settings of `config.cloud`, which must have a `url`. */
export function cloudLinkSettings (config: DeviceConfig, url: string): CloudLinkSettings {
  const k = config.cloud
  const read = (f: string | undefined): Buffer | undefined => f === undefined ? undefined : readFileSync(f)
  return {
    url,
    deviceId: config.id,
    secret: k.password ?? '',
    ca: read(k.caFile),
    cert: read(k.certFile),
    key: read(k.keyFile),
    rejectUnauthorized: k.rejectUnauthorized,
    keepaliveSec: k.keepaliveSec,
    heartbeatMs: k.heartbeatMs,
    batchRecords: k.batchRecords,
    window: UPLOAD_WINDOW,
    ackTimeoutMs: k.ackTimeoutMs,
    uploadBytesPerSec: k.uploadBytesPerSec,
    dailyUploadBytes: k.dailyUploadBytes,
    uploadLogs: k.uploadLogs,
    logExclude: [...k.logExclude],
    reconnectMinMs: k.reconnectMs,
    reconnectMaxMs: Math.max(k.reconnectMs, k.reconnectMaxMs)
  }
}
