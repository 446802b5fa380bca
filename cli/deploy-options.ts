// The flags of `lambkin deploy` and `lambkin rollback`, read into the operator API's rollout
// request (docs/cloud.md, "The operator API": POST /v1/rollouts: the cloud's DeployRequest). Pure: no I/O, so every rule is unit-tested.
import { InvalidArgumentError } from 'commander'
import type { DeployRequest } from '../cloud-sync/index.js'
import { ROLLOUT_DEFAULTS } from '../cloud-sync/rollouts/types.js'
import { PRIVATE_KEY_FILE } from '../src/bundle/index.js'
import { controlCharProblem } from '../src/control-chars.js'
import { parseDecimalInteger, parseDecimalNumber } from '../src/decimal.js'
import { ErrorCodes, LambkinError } from '../src/errors.js'
import { isValidId } from '../src/ids.js'

/** The signing key used when neither --key nor LAMBKIN_KEY names one: `lambkin keys generate`'s default output. */
export const DEFAULT_KEY_FILE = PRIVATE_KEY_FILE

/** Longest per-device timeout --timeout takes, seconds (an hour: a board on a slow link). */
export const MAX_TIMEOUT_S = 3600

/**
 * Reads `--to`: a device id, or `group:<name>` for every device of a group (ids per [W1]).
 * @throws InvalidArgumentError (commander shows it as LAMBKIN_USAGE).
 */
export function parseTarget (raw: string): string {
  const group = raw.startsWith('group:')
  const id = group ? raw.slice('group:'.length) : raw
  if (!isValidId(id)) {
    throw new InvalidArgumentError(`--to must be a device id or group:<name> (lower-case letters, digits, _ and -, at most 63), got "${raw}"`)
  }
  return raw
}

/** A commander parser for a decimal number in [min, max] (an integer when `integer`); never an exponent or a sign. */
export function numberOption (flag: string, min: number, max: number, integer = false): (raw: string) => number {
  return (raw) => {
    const n = integer ? parseDecimalInteger(raw) : parseDecimalNumber(raw)
    if (n === undefined || n < min || n > max) throw new InvalidArgumentError(`${flag} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got "${raw}"`)
    return n
  }
}

/** `--rate`: devices per minute, from one a year (ROLLOUT_DEFAULTS.minRatePerMin) to 1000000. */
export function parseRate (raw: string): number {
  const n = parseDecimalNumber(raw)
  if (n === undefined || n < ROLLOUT_DEFAULTS.minRatePerMin || n > 1_000_000) throw new InvalidArgumentError(`--rate must be a number of devices per minute from ${ROLLOUT_DEFAULTS.minRatePerMin.toPrecision(2)} (one a year) to 1000000, got "${raw}"`)
  return n
}

/** The deploy flags once commander has parsed each. */
export interface DeployFlags {
  to: string
  alias?: string
  canary?: number
  rate?: number
  abortAt?: number
  /** Seconds. */
  timeout?: number
}

/**
 * The rollout request for a bundle (without its sha256, which comes once it is packed):
 * `--canary <percent>` means alias `canary` with that weight; `--alias canary` needs it, and
 * `--alias live` refuses it.
 * @throws LambkinError LAMBKIN_USAGE on a combination that means nothing.
 */
export function rolloutRequest (f: DeployFlags): Omit<DeployRequest, 'sha256'> {
  const alias = f.alias ?? (f.canary === undefined ? 'live' : 'canary')
  if (alias !== 'live' && alias !== 'canary') throw new LambkinError(ErrorCodes.USAGE, `--alias must be live or canary, got "${alias}"`)
  if (alias === 'canary' && f.canary === undefined) throw new LambkinError(ErrorCodes.USAGE, '--alias canary needs --canary <percent>: the share of invocations (1-99) the new version takes')
  if (alias === 'live' && f.canary !== undefined) throw new LambkinError(ErrorCodes.USAGE, '--canary sends a share of invocations to the new version, so it cannot go with --alias live')
  return {
    to: f.to,
    alias,
    ...(f.canary === undefined ? {} : { weight: f.canary }),
    ...(f.rate === undefined ? {} : { ratePerMin: f.rate }),
    ...(f.abortAt === undefined ? {} : { abortAtPercent: f.abortAt }),
    ...(f.timeout === undefined ? {} : { timeoutMs: Math.round(f.timeout * 1000) })
  }
}

/**
 * Which private key signs: `--key`, else LAMBKIN_KEY, else `lambkin.key` in the current folder.
 * @throws LambkinError LAMBKIN_CONFIG_INVALID for a LAMBKIN_KEY holding a control character (a
 * CRLF env file's "\r"), which would read as a missing file.
 */
export function signingKeyFile (flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag !== undefined && flag !== '') return flag
  const fromEnv = env.LAMBKIN_KEY
  if (fromEnv === undefined || fromEnv === '') return DEFAULT_KEY_FILE
  const problem = controlCharProblem(fromEnv)
  if (problem !== undefined) throw new LambkinError(ErrorCodes.CONFIG_INVALID, `environment variable LAMBKIN_KEY ${problem}`, { details: { key: 'LAMBKIN_KEY' } })
  return fromEnv
}
