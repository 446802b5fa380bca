// The deployer's Prometheus series (lambkin_ prefix added by the registry).
import type { FunctionMetrics } from '../metrics/index.js'

export const DEPLOY_METRICS = Object.freeze({
  applied: 'deployments_applied_total',
  refused: 'deployments_refused_total',
  rolledBack: 'deployments_rolled_back_total',
  desiredRefused: 'desired_refused_total'
})

export function registerDeployMetrics (m: FunctionMetrics): void {
  m.register(DEPLOY_METRICS.applied, { type: 'counter', help: 'Deployed function versions swapped in, by function.', labelNames: ['function'] })
  m.register(DEPLOY_METRICS.refused, { type: 'counter', help: 'Deployments (per function) the device refused or could not apply, by error code; the running version kept running.', labelNames: ['code'] })
  m.register(DEPLOY_METRICS.desiredRefused, { type: 'counter', help: 'Desired states refused before anything was looked at: unsigned, signed by a key not trusted, or a signature that does not verify for this device (an older cloud, or something on the link altering it), by code.', labelNames: ['code'] })
  m.register(DEPLOY_METRICS.rolledBack, { type: 'counter', help: 'Deployed versions the health gate rolled back, by function.', labelNames: ['function'] })
}
