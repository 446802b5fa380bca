// Hands an event to a trigger's callback without letting the callback's failure escape into
// a timer: throws and rejections become LambkinErrors passed to onError.
import { ErrorCodes, LambkinError } from '../../src/errors.js'

export type EventHandler<E> = (event: E) => Promise<void> | void
export type ErrorHandler = (err: LambkinError) => void

/** Calls onError, ignoring what it throws: a broken error sink must not stop a trigger. */
export function report (onError: ErrorHandler | undefined, err: LambkinError): void {
  if (onError === undefined) return
  try {
    onError(err)
  } catch {}
}

export function asLambkinError (err: unknown, what: string): LambkinError {
  if (err instanceof LambkinError) return err
  const msg = err instanceof Error ? err.message : String(err)
  return new LambkinError(ErrorCodes.FUNCTION_ERROR, `${what} failed: ${msg}`, { cause: err })
}

/**
 * Calls onEvent(event). Returns a promise that settles (never rejects) when the handler's
 * promise does, or undefined if the handler returned synchronously.
 */
export function deliver<E> (onEvent: EventHandler<E>, event: E, onError: ErrorHandler | undefined, what: string): Promise<void> | undefined {
  let r: unknown
  try {
    r = onEvent(event)
  } catch (err) {
    report(onError, asLambkinError(err, what))
    return undefined
  }
  if (typeof r !== 'object' || r === null || typeof (r as { then?: unknown }).then !== 'function') return undefined
  return Promise.resolve(r as PromiseLike<unknown>).then(() => {}, (err: unknown) => { report(onError, asLambkinError(err, what)) })
}
