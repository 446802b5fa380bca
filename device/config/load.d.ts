import type { DeviceConfig } from './types.js';
export interface LoadDeviceConfigOptions {
    /** Config file used when neither --config nor LAMBKIN_CONFIG names one. */
    file?: string;
    /** Values from node:util parseArgs; flags that are not config keys are ignored. */
    flags?: Record<string, string | boolean | undefined>;
    /** process.env by default; an empty value counts as unset. */
    env?: NodeJS.ProcessEnv;
    /** Where relative paths from flags, env and the defaults resolve; process.cwd() by default. */
    cwd?: string;
    /** The host name the default device id is made from; os.hostname() by default. */
    hostname?: string;
}
export declare function loadDeviceConfig(opts?: LoadDeviceConfigOptions): Promise<DeviceConfig>;
