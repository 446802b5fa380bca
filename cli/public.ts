// The package's public entry, `import { ... } from 'lambkin'`: the sandbox, function loading,
// errors and wire rules from the shared core, the device agent and the cloud side. It lives in
// cli/, the one layer allowed to import all three (docs/architecture.md, "Parts").
export { ErrorCodes, LambkinError, isLambkinError } from '../src/errors.js'
export type { ErrorCode } from '../src/errors.js'
export { SandboxPool, specOf } from '../src/sandbox/index.js'
export type { FunctionSpec, Outcome, InvokeOptions } from '../src/sandbox/index.js'
export { loadFunctionDir, loadFunctionsDir } from '../src/function/index.js'
export type { LoadedFunction, FunctionManifest } from '../src/function/index.js'
export { Agent } from '../device/index.js'
export type { AgentOptions, InvocationRecord } from '../device/index.js'
export { loadDeviceConfig } from '../device/config/index.js'
export type { DeviceConfig } from '../device/config/index.js'
export { Cloud } from '../cloud-sync/index.js'
export type { CloudOptions } from '../cloud-sync/index.js'
