// Turns the text of a sysfs-style sensor file into a number: plain numbers (thermal zones,
// IIO channels, hwmon) and the two-line 1-Wire w1_slave format. Failures say why.
export class UnreadableSample extends Error {
    reason;
    constructor(reason, message) {
        super(message);
        this.name = 'UnreadableSample';
        this.reason = reason;
    }
}
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
function preview(text) {
    const t = text.trim();
    return JSON.stringify(t.length > 40 ? `${t.slice(0, 40)}...` : t);
}
/** A decimal number, surrounding whitespace allowed (sysfs ends values with a newline). */
export function parseNumber(text) {
    const t = text.trim();
    if (!NUMBER.test(t))
        throw new UnreadableSample('unparseable', `expected a number, found ${preview(text)}`);
    const n = Number(t);
    if (!Number.isFinite(n))
        throw new UnreadableSample('unparseable', `expected a finite number, found ${preview(text)}`);
    return n;
}
/**
 * A DS18B20-style w1_slave file, in millidegrees:
 *   72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
 *   72 01 4b 46 7f ff 0e 10 57 t=23125
 * The first line ends NO when the bus garbled the transfer; that sample is discarded, as is
 * a scratchpad of nine 00 bytes (which passes the CRC, t=0) or nine ff bytes: both are what
 * the bus reads when no sensor drives it (as w1thermsensor also refuses them).
 */
export function parseW1(text) {
    const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    if (lines.length < 2)
        throw new UnreadableSample('unparseable', `expected two lines from a 1-Wire w1_slave file, found ${preview(text)}`);
    const verdict = /\b(YES|NO)$/.exec(lines[0])?.[1];
    if (verdict === undefined)
        throw new UnreadableSample('unparseable', `expected the first line to end YES or NO, found ${preview(lines[0])}`);
    const pad = /^((?:[0-9a-f]{2}\s+){8}[0-9a-f]{2})\s*:/i.exec(lines[0])?.[1].toLowerCase().split(/\s+/);
    if (pad?.every((b) => b === '00') === true)
        throw new UnreadableSample('all_zero', `the 1-Wire scratchpad is all zeros (${lines[0]}): the data line is held low, not a reading`);
    if (pad?.every((b) => b === 'ff') === true)
        throw new UnreadableSample('all_ones', `the 1-Wire scratchpad is all ones (${lines[0]}): no sensor answered, not a reading`);
    if (verdict === 'NO')
        throw new UnreadableSample('crc', `the 1-Wire CRC check failed (${lines[0]})`);
    const m = /\bt=(-?\d+)$/.exec(lines[1]);
    if (m === null)
        throw new UnreadableSample('unparseable', `expected the second line to end t=<millidegrees>, found ${preview(lines[1])}`);
    return Number(m[1]);
}
//# sourceMappingURL=parse.js.map