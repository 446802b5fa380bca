import { LambkinError } from '../../src/errors.js';
export type Field = {
    kind: 'int';
    min: number;
    max: number;
} | {
    kind: 'bool';
} | {
    kind: 'string';
    min: number;
    max: number;
    pattern?: RegExp;
    rule?: string;
    secret?: boolean;
} | {
    kind: 'host';
}
/** `file`: must name a readable file when the config is loaded (TLS material). */
 | {
    kind: 'path';
    file?: boolean;
} | {
    kind: 'url';
    protocols: readonly string[];
}
/** A JSON value checked by `parse`, which throws an Error saying what is wrong (files only). */
 | {
    kind: 'json';
    rule: string;
    parse: (raw: unknown) => unknown;
};
export interface Group {
    kind: 'group';
    fields: Readonly<Record<string, Field | Group>>;
}
export type Source = {
    kind: 'file';
    name: string;
    baseDir: string;
} | {
    kind: 'env';
    name: string;
} | {
    kind: 'flag';
    name: string;
} | {
    kind: 'default';
    name: 'defaults';
};
export declare const SCHEMA: Group;
/** The field at a dotted key, or undefined for keys that do not exist. */
export declare function fieldAt(key: string): Field | Group | undefined;
export declare function describeSource(s: Source): string;
export declare function configError(key: string, what: string, source: Source, cause?: unknown): LambkinError;
/** What a value of this field must be, in words (errors and the usage text share it). */
export declare function ruleOf(field: Field): string;
/**
 * Checks one value and returns it in its final form. Files must use the JSON type itself;
 * the environment and flags only have strings, so those are parsed. Relative paths resolve
 * against the config file's folder, or the working directory for the other sources.
 */
export declare function parseValue(key: string, field: Field, raw: unknown, source: Source, cwd: string): unknown;
