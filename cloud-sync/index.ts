// The cloud side's public surface: Cloud.create and the parts a custom deployment may reuse.
export { Cloud, CLOUD_DEFAULTS, operatorToken } from './cloud.js'
export type { CloudOptions } from './cloud.js'
export * from './registry/index.js'
export { Ingest } from './ingest/ingest.js'
export { deviceState, summarizeMetrics } from './api/views.js'
export * from './rollouts/index.js'
export { RemoteInvoker, INVOKE_DEFAULTS } from './invoke/remote-invoke.js'
export { SILENCE_DEFAULTS } from './broker/silence.js'
