// Query and body checks the API routes share; each refusal is LAMBKIN_REQUEST_INVALID naming the field.
import { ErrorCodes, LambkinError } from '../../src/errors.js'

export function bad (message: string): LambkinError {
  return new LambkinError(ErrorCodes.REQUEST_INVALID, message)
}

/** A query string integer from min to max, or undefined when absent. */
export function intParam (v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined || v === '') return undefined
  if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw bad(`${name} must be an integer from ${min} to ${max}`)
  return Number(v)
}

/** Strict base64 (RFC 4648 section 4): Buffer.from alone skips characters it does not know. */
export function base64Param (v: unknown, name: string): Buffer {
  if (typeof v !== 'string' || v.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw bad(`${name} must be base64`)
  return Buffer.from(v, 'base64')
}
