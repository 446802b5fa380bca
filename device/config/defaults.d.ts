import type { DeviceDefaults } from './types.js';
/** Wire rule W1: device ids are safe in topics, file names and Prometheus labels. */
export declare const DEVICE_ID_PATTERN: RegExp;
/** A host name made into a valid device id: first DNS label, lower case, other characters as '-'. */
export declare function deviceIdFromHostname(name: string): string;
export declare const DEVICE_DEFAULTS: DeviceDefaults;
