/** Parameters of one stored hash. N is the CPU/memory cost (a power of two), r the block size, p parallelism. */
export interface ScryptParams {
    N: number;
    r: number;
    p: number;
}
/**
 * The cost new hashes get: N=2^14, r=8 needs 16 MiB and ~50-100 ms on a Raspberry Pi 4, the
 * figures RFC 7914 section 2 and OWASP's password storage sheet give for interactive logins.
 */
export declare const SCRYPT_DEFAULTS: Readonly<ScryptParams>;
export interface ParsedHash extends ScryptParams {
    salt: Buffer;
    hash: Buffer;
}
/**
 * Reads `scrypt$N$r$p$salt$hash`. Throws an Error whose message says what is wrong (the config
 * loader puts it in a LAMBKIN_CONFIG_INVALID naming the key).
 */
export declare function parsePasswordHash(text: string): ParsedHash;
/** A new stored form for `password`, with a fresh random salt. */
export declare function hashPassword(password: string, params?: ScryptParams): Promise<string>;
/** True when `password` is the one `stored` was made from; compared in constant time. */
export declare function verifyPassword(password: Buffer | string, stored: ParsedHash): Promise<boolean>;
