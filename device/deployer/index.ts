// The deployer: desired state -> verified bundles -> swap -> health gate -> rollback (docs/architecture.md, "Deployer").
export { Deployer, FETCH_ATTEMPTS } from './deployer.js'
export type { DeployerOptions, DeploySettings, DeployTransport } from './deployer.js'
export { readActiveSet } from './active-set.js'
export type { ActiveSet, Aliases, DeployedFunction, VersionEntry } from './active-set.js'
export { CRASH_AT_ENV, CRASH_STEPS } from './crash-points.js'
export type { CrashStep } from './crash-points.js'
export { DEPLOY_METRICS } from './metrics.js'
export type { HealthSettings, HealthStats } from './health-gate.js'
