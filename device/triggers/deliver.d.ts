import { LambkinError } from '../../src/errors.js';
export type EventHandler<E> = (event: E) => Promise<void> | void;
export type ErrorHandler = (err: LambkinError) => void;
/** Calls onError, ignoring what it throws: a broken error sink must not stop a trigger. */
export declare function report(onError: ErrorHandler | undefined, err: LambkinError): void;
export declare function asLambkinError(err: unknown, what: string): LambkinError;
/**
 * Calls onEvent(event). Returns a promise that settles (never rejects) when the handler's
 * promise does, or undefined if the handler returned synchronously.
 */
export declare function deliver<E>(onEvent: EventHandler<E>, event: E, onError: ErrorHandler | undefined, what: string): Promise<void> | undefined;
