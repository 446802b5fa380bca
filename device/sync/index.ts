// The device's cloud link: outbox -> wire batches, acks, status and heartbeats (docs/wire.md).
export { CloudLink } from './cloud-link.js'
export type { CloudLinkOptions, CloudLinkCounters, CloudLinkState } from './cloud-link.js'
export { cloudLinkSettings } from './link-settings.js'
export type { CloudLinkSettings } from './link-settings.js'
export { planBatch } from './upload-plan.js'
export { UploadBudget, utcDay } from './upload-budget.js'
export { DOWN_FRAME_MAX_BYTES, dispatchDown, parseDown } from './down-frames.js'
export type { CloudDownHandlers, DownFrame } from './down-frames.js'
