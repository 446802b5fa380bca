import type { Source } from './schema.js';
export interface Assignment {
    key: string;
    raw: unknown;
    source: Source;
}
/** A config file may be at most this many bytes (a full one is a few KiB). */
export declare const CONFIG_MAX_BYTES: number;
/** Nesting deeper than this is refused before any key is looked at (the schema nests 3 deep). */
export declare const CONFIG_MAX_DEPTH = 16;
/** `; did you mean "x"?` for the nearest known name (case, or up to 2 edits), else `.`. */
export declare function suggestion(key: string, known: readonly string[]): string;
/**
 * Assignments in file order; relative paths in it resolve against the file's own folder.
 * The file is read as strict JSON (src/function/strict-json.ts): at most CONFIG_MAX_BYTES,
 * CONFIG_MAX_DEPTH deep, valid UTF-8, no key twice in one object.
 * @throws LambkinError LAMBKIN_CONFIG_INVALID naming the file and the position or key; never
 *   quoting the file's text, which may hold a password.
 */
export declare function readConfigFile(file: string, cwd: string): Promise<Assignment[]>;
