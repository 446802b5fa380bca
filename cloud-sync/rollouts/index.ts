// Rollouts (docs/deploy.md, DESIGN section 7): the engine, desired state out to devices, and how devices are judged.
export { RolloutEngine } from './engine.js'
export type { EngineOptions } from './engine.js'
export { DesiredPublisher, deployEntry, desiredFrame, versionOf } from './desired.js'
export type { DeviceLink } from './desired.js'
export { abortReason, countDevices, judge } from './judge.js'
export { ROLLOUT_DEFAULTS, rolloutView } from './types.js'
export type { DeployRequest, RollbackRequest, RolloutView } from './types.js'
