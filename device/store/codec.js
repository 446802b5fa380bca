// How stored values are encoded: cbor-x with plain maps (no record extension), as bytes.
import { Encoder } from 'cbor-x';
import { ErrorCodes, LambkinError } from '../../src/errors.js';
// useRecords off: records would tie the bytes to this encoder's in-memory structure table.
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true });
export function encodeValue(value, what) {
    try {
        return cbor.encode(value);
    }
    catch (err) {
        throw new LambkinError(ErrorCodes.STORE_ERROR, `${what} cannot be stored: ${err.message}; use plain objects, arrays, strings, numbers, booleans, null and bytes`, { cause: err, details: { what } });
    }
}
export function decodeValue(bytes, what) {
    try {
        return cbor.decode(bytes);
    }
    catch (err) {
        throw new LambkinError(ErrorCodes.STORE_ERROR, `${what} in the store cannot be decoded: ${err.message}; the data dir may be damaged`, { cause: err, details: { what } });
    }
}
//# sourceMappingURL=codec.js.map