// The PostgreSQL advisory lock keys lambkin's cloud instances take, in one list so no two uses
// share a key (pg_advisory_lock and pg_advisory_xact_lock take one bigint). 0x6c616d62 is "lamb".
export const LOCKS = Object.freeze({
  /** Held while migrations run (session lock): two instances starting together apply each once. */
  migrate: 0x6c616d62_0001n,
  /** Held while a records partition is made or dropped (transaction lock). */
  partitions: 0x6c616d62_0002n,
  /** Held by the instance that drives every rollout (session lock on its coordination connection, coord/pg-coordinator.ts). */
  rollouts: 0x6c616d62_0003n
})
