// The connection pool of the PostgreSQL registry and the one place its errors are named: every
// query and transaction goes through PgDb, which bounds how long each may take (connect,
// statement and read timeouts), turns a database that cannot be reached into
// LAMBKIN_DB_UNAVAILABLE (anything else it refuses into LAMBKIN_STORE_ERROR) and tells the
// availability tracker, so callers fail fast with a stable code instead of hanging.
import pg from 'pg'
import type { PoolClient, QueryResultRow } from 'pg'
import { ErrorCodes, errorMessage, isLambkinError, LambkinError } from '../../../src/errors.js'
import type { Availability } from './availability.js'

/** The schema every table lives in, so one database may hold other things too. */
export const SCHEMA = 'lambkin'

export interface DbOptions {
  url: string
  /** Connections at most (per instance). */
  poolSize: number
  /** How long a new connection may take, ms. */
  connectTimeoutMs: number
  /** How long one statement may run (server side) and its answer take (client side), ms. */
  statementTimeoutMs: number
}

// int8 and numeric come back as JS numbers: seqs, counts and ms times stay below 2^53.
const INT8 = 20
const NUMERIC = 1700
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8 || oid === NUMERIC) return (v: string) => Number(v)
    return pg.types.getTypeParser(oid, format)
  }) as typeof pg.types.getTypeParser
}

/** SQLSTATE classes and codes of a server that is gone, starting, stopping, full, or too slow. */
const UNAVAILABLE_STATES = /^(08...|57P0[1-5]|53300|57014)$/
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ENOENT'])
const UNAVAILABLE_TEXT = /connection terminated|timeout exceeded when trying to connect|query read timeout|not queryable|connection.*closed|terminating connection|the database system is (starting|shutting) up/i

/** True for an error that says the database cannot be reached now (it may come back). */
export function isUnavailable (err: unknown): boolean {
  const e = err as { code?: unknown, message?: unknown }
  if (typeof e?.code === 'string' && (UNAVAILABLE_STATES.test(e.code) || UNAVAILABLE_ERRNO.has(e.code))) return true
  return typeof e?.message === 'string' && UNAVAILABLE_TEXT.test(e.message)
}

/** The URL without its password, for messages. */
export function safeUrl (url: string): string {
  try {
    const u = new URL(url)
    if (u.password !== '') u.password = '***'
    return u.toString()
  } catch {
    return 'the database URL'
  }
}

export class PgDb {
  readonly pool: pg.Pool
  readonly #where: string
  readonly #health: Availability

  constructor (o: DbOptions, health: Availability) {
    this.#where = safeUrl(o.url)
    this.#health = health
    this.pool = new pg.Pool({
      connectionString: o.url,
      max: o.poolSize,
      connectionTimeoutMillis: o.connectTimeoutMs,
      statement_timeout: o.statementTimeoutMs,
      // The client's own bound: a server that stopped answering (a cut network) fails the query too.
      query_timeout: o.statementTimeoutMs + 1000,
      idle_in_transaction_session_timeout: o.statementTimeoutMs * 2,
      keepAlive: true,
      application_name: 'lambkin-cloud',
      options: `-c search_path=${SCHEMA}`,
      types
    })
    // An idle connection the server closed (a restart) is dropped from the pool; the next
    // query opens a new one. Without a listener this event would end the process.
    this.pool.on('error', () => {})
  }

  /** The error a caller sees: ours pass through; the database's are named with a code. */
  error (err: unknown, what: string): LambkinError {
    if (isLambkinError(err)) return err
    if (isUnavailable(err)) {
      this.#health.down(err)
      return new LambkinError(ErrorCodes.DB_UNAVAILABLE, `the cloud's PostgreSQL database (${this.#where}) cannot be reached while ${what}: ${errorMessage(err)}; uploads are not acknowledged (devices keep their records) until it answers again, which is checked by itself`, { cause: err })
    }
    return new LambkinError(ErrorCodes.STORE_ERROR, `the cloud's PostgreSQL database refused ${what}: ${errorMessage(err)}`, { cause: err })
  }

  async query<R extends QueryResultRow = QueryResultRow>(what: string, sql: string, params: unknown[] = []): Promise<R[]> {
    try {
      const r = await this.pool.query<R>(sql, params)
      this.#health.up()
      return r.rows
    } catch (err) {
      throw this.error(err, what)
    }
  }

  /**
   * A connection of the pool for several statements; `release` hands it back (closing it when it
   * failed). While it is out, a server that goes away (57P01 on a restart) is an error event on
   * it with no query to take it: heard here, and the next statement fails instead.
   */
  async client (what: string): Promise<{ c: PoolClient, release: (err?: Error) => void }> {
    let c: PoolClient
    try {
      c = await this.pool.connect()
    } catch (err) {
      throw this.error(err, what)
    }
    let lost: Error | undefined
    const onError = (err: Error): void => { lost = err }
    c.on('error', onError)
    return { c, release: (err) => { c.off('error', onError); c.release(err ?? lost) } }
  }

  /** Runs `fn` in one transaction (READ COMMITTED): committed when it resolves, rolled back when it throws. */
  async tx<T>(what: string, fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const { c: client, release } = await this.client(what)
    let broken: Error | undefined
    try {
      await client.query('BEGIN')
      const out = await fn(client)
      await client.query('COMMIT')
      this.#health.up()
      return out
    } catch (err) {
      if (isUnavailable(err)) broken = err as Error
      else await client.query('ROLLBACK').catch((e: Error) => { broken = e })
      // When the COMMIT's answer was lost, the caller does not know whether it held: it sends
      // no ack, and the device's next try is a duplicate of what did hold [W4].
      throw this.error(err, what)
    } finally {
      // A connection that failed is closed rather than handed to the next caller.
      release(broken)
    }
  }

  async close (): Promise<void> {
    await this.pool.end()
  }
}
