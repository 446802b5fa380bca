// The PostgreSQL registry: its public surface (docs/postgres.md). Loaded only when the cloud
// runs with --db, so the embedded cloud never loads the pg client.
export { PgRegistry } from './pg-registry.js'
export { PG_DEFAULTS, MAX_RETENTION_DAYS } from './defaults.js'
export type { PgRegistryOptions } from './pg-registry.js'
export { migrateDatabase, migrations } from './migrate.js'
export type { MigrateResult } from './migrate.js'
export { DbLastSeen } from './seen.js'
export { dayOf, partitionName, DAY_MS } from './partitions.js'
