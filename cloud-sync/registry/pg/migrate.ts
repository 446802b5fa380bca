// Brings a PostgreSQL database up to the registry's schema (docs/postgres.md, "Migrations"):
// the files in ./migrations (NNNN_name.sql, copied beside this file by scripts/copy-sql.mjs),
// each applied once in its own transaction and recorded with its sha256 in
// lambkin.migrations, all under a session advisory lock so instances starting together apply
// each once. Run at every start and by `lambkin cloud migrate`; idempotent. A database a newer
// lambkin migrated, or whose recorded migration differs from the file, is refused.
import { createHash } from 'node:crypto'
import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import type { ClientBase } from 'pg'
import { ErrorCodes, errorMessage, isLambkinError, LambkinError } from '../../../src/errors.js'
import { SCHEMA, isUnavailable, safeUrl } from './db.js'
import { LOCKS } from './locks.js'

export interface Migration { version: number, name: string, sql: string, sha256: string }

const DIR = new URL('./migrations/', import.meta.url)
const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/

/** The migrations shipped with this lambkin, in order. */
export function migrations (): Migration[] {
  let names: string[]
  try {
    names = readdirSync(DIR)
  } catch (err) {
    throw new LambkinError(ErrorCodes.STORE_ERROR, `the registry's SQL migrations are missing from ${fileURLToPath(DIR)} (the build copies them: npm run build)`, { cause: err })
  }
  return names.flatMap((file) => {
    const m = FILE.exec(file)
    if (m === null) return []
    const sql = readFileSync(new URL(file, DIR), 'utf8')
    return [{ version: Number(m[1]), name: `${m[1]}_${m[2]}`, sql, sha256: createHash('sha256').update(sql).digest('hex') }]
  }).sort((a, b) => a.version - b.version)
}

export interface MigrateResult {
  /** The migrations this call applied (none when the database was up to date). */
  applied: string[]
  /** The schema version the database is at now. */
  version: number
}

/** Applies what is missing through a connected client (its session holds the lock meanwhile). */
export async function migrate (c: ClientBase, progress: (line: string) => void = () => {}): Promise<MigrateResult> {
  const all = migrations()
  // A migration may run longer than one registry statement may; waiting for another
  // instance's migration is bounded.
  await c.query("SET statement_timeout = 0; SET lock_timeout = '300s'")
  await c.query('SELECT pg_advisory_lock($1)', [LOCKS.migrate.toString()])
  try {
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`)
    await c.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.migrations (version integer PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
    const done = new Map((await c.query<{ version: number, name: string, sha256: string }>(`SELECT version, name, sha256 FROM ${SCHEMA}.migrations`)).rows.map((r) => [Number(r.version), r]))
    const known = new Map(all.map((m) => [m.version, m]))
    for (const [version, row] of done) {
      const m = known.get(version)
      if (m === undefined) throw new LambkinError(ErrorCodes.STORE_ERROR, `the database was migrated by a newer lambkin (migration ${row.name} is not known to this one); run that version, or a newer one, against it`)
      if (m.sha256 !== row.sha256) throw new LambkinError(ErrorCodes.STORE_ERROR, `migration ${row.name} was applied from another text than this lambkin's (sha256 ${row.sha256.slice(0, 12)}, here ${m.sha256.slice(0, 12)}); the schema may differ from what this version expects`)
    }
    const applied: string[] = []
    for (const m of all) {
      if (done.has(m.version)) continue
      const started = Date.now()
      progress(`migration ${m.name}: applying`)
      await c.query('BEGIN')
      try {
        await c.query(`SET LOCAL search_path = ${SCHEMA}`)
        await c.query(m.sql)
        await c.query(`INSERT INTO ${SCHEMA}.migrations (version, name, sha256) VALUES ($1, $2, $3)`, [m.version, m.name, m.sha256])
        await c.query('COMMIT')
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {})
        throw new LambkinError(ErrorCodes.STORE_ERROR, `migration ${m.name} failed and was rolled back: ${errorMessage(err)}`, { cause: err })
      }
      applied.push(m.name)
      progress(`migration ${m.name}: applied in ${Date.now() - started} ms`)
    }
    const version = Math.max(0, ...all.map((m) => m.version))
    progress(applied.length === 0 ? `the database is up to date (schema version ${version})` : `the database is at schema version ${version}`)
    return { applied, version }
  } finally {
    await c.query('SELECT pg_advisory_unlock($1)', [LOCKS.migrate.toString()]).catch(() => {})
    await c.query('RESET statement_timeout; RESET lock_timeout').catch(() => {})
  }
}

/**
 * `lambkin cloud migrate`: connects to `url`, migrates, disconnects. LAMBKIN_DB_UNAVAILABLE when
 * the database cannot be reached, LAMBKIN_STORE_ERROR when it refuses.
 */
export async function migrateDatabase (url: string, opts: { progress?: (line: string) => void, connectTimeoutMs?: number } = {}): Promise<MigrateResult> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000, application_name: 'lambkin-migrate' })
  c.on('error', () => {})
  try {
    await c.connect()
    return await migrate(c, opts.progress)
  } catch (err) {
    if (isLambkinError(err)) throw err
    if (isUnavailable(err)) throw new LambkinError(ErrorCodes.DB_UNAVAILABLE, `cannot reach the PostgreSQL database at ${safeUrl(url)}: ${errorMessage(err)}; check --db (or LAMBKIN_DB_URL) and that the server runs`, { cause: err })
    throw new LambkinError(ErrorCodes.STORE_ERROR, `the PostgreSQL database at ${safeUrl(url)} refused the migration: ${errorMessage(err)}`, { cause: err })
  } finally {
    await c.end().catch(() => {})
  }
}
