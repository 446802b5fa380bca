/**
 * Why a file's contents are not a reading: not a number at all, or a 1-Wire transfer the
 * kernel flagged (CRC NO) or that is a bus fault whatever its CRC (a scratchpad of all 00:
 * data held low; all ff: nothing answered, read as t=-62 on a DS18B20).
 */
export type UnreadableReason = 'unparseable' | 'crc' | 'all_zero' | 'all_ones';
export declare class UnreadableSample extends Error {
    readonly reason: UnreadableReason;
    constructor(reason: UnreadableReason, message: string);
}
/** A decimal number, surrounding whitespace allowed (sysfs ends values with a newline). */
export declare function parseNumber(text: string): number;
/**
 * A DS18B20-style w1_slave file, in millidegrees:
 *   72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
 *   72 01 4b 46 7f ff 0e 10 57 t=23125
 * The first line ends NO when the bus garbled the transfer; that sample is discarded, as is
 * a scratchpad of nine 00 bytes (which passes the CRC, t=0) or nine ff bytes: both are what
 * the bus reads when no sensor drives it (as w1thermsensor also refuses them).
 */
export declare function parseW1(text: string): number;
