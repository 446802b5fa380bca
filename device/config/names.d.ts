export interface NameMapping {
    /** Env var name, or flag name without the leading "--". */
    name: string;
    /** Dotted config key it sets; 'file' for the config file path itself. */
    key: string;
    help: string;
}
export declare const CONFIG_FILE_KEY = "file";
/** Read in this order; a LAMBKIN_* variable listed neither here nor in OTHER_ENV_VARS is refused as a likely typo. */
export declare const ENV_VARS: readonly NameMapping[];
/** LAMBKIN_* variables that are not config keys but are read elsewhere (bin.ts), so they are not typos. */
export declare const OTHER_ENV_VARS: readonly NameMapping[];
/**
 * Flags as node:util parseArgs returns them. The camelCase spelling is accepted too, since a
 * parseArgs setup may name options either way. Flags not listed are not config and are ignored.
 */
export declare const FLAGS: readonly NameMapping[];
export declare function camelCase(flag: string): string;
