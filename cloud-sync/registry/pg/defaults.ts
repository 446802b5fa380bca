// The PostgreSQL registry's defaults, apart from the code that loads the pg client, so the
// command line can show them in --help without loading it.
export const PG_DEFAULTS = Object.freeze({
  /** Days records are kept: a month of results, logs and metrics; 0 keeps them for ever. */
  retentionDays: 30,
  /** Connections per cloud instance. */
  poolSize: 10,
  /** How long a new connection may take, ms. */
  connectTimeoutMs: 5000,
  /** How long one statement may run, ms: past it the call fails with LAMBKIN_DB_UNAVAILABLE. */
  statementTimeoutMs: 15_000
})

/** The largest retention taken, days (100 years). */
export const MAX_RETENTION_DAYS = 36_500
