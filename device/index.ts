// Public surface of the device agent.
export { Agent } from './agent.js'
export type { AgentOptions } from './agent.js'
export type { InvocationRecord } from './invoke/invoker.js'
export { Deployer, CRASH_AT_ENV, CRASH_STEPS, readActiveSet } from './deployer/index.js'
export type { ActiveSet, DeploySettings, DeployTransport } from './deployer/index.js'
export { FunctionTable } from './invoke/function-table.js'
export { pickVersion, seededRandom } from './invoke/aliases.js'
export type { Registered, VersionRoute } from './invoke/aliases.js'
