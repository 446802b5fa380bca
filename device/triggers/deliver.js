// Hands an event to a trigger's callback without letting the callback's failure escape into
// a timer: throws and rejections become LambkinErrors passed to onError.
import { ErrorCodes, LambkinError } from '../../src/errors.js';
/** Calls onError, ignoring what it throws: a broken error sink must not stop a trigger. */
export function report(onError, err) {
    if (onError === undefined)
        return;
    try {
        onError(err);
    }
    catch { }
}
export function asLambkinError(err, what) {
    if (err instanceof LambkinError)
        return err;
    const msg = err instanceof Error ? err.message : String(err);
    return new LambkinError(ErrorCodes.FUNCTION_ERROR, `${what} failed: ${msg}`, { cause: err });
}
/**
 * Calls onEvent(event). Returns a promise that settles (never rejects) when the handler's
 * promise does, or undefined if the handler returned synchronously.
 */
export function deliver(onEvent, event, onError, what) {
    let r;
    try {
        r = onEvent(event);
    }
    catch (err) {
        report(onError, asLambkinError(err, what));
        return undefined;
    }
    if (typeof r !== 'object' || r === null || typeof r.then !== 'function')
        return undefined;
    return Promise.resolve(r).then(() => { }, (err) => { report(onError, asLambkinError(err, what)); });
}
//# sourceMappingURL=deliver.js.map