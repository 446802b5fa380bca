// device/store: the agent's durable LevelDB store (outbox records, function state, durable
// publishes, meta). Its abstract test suite lives in test/device/store/, so the agent never loads uvu.

export { OutboxStore } from './outbox-store.js'
export type { CommitDone, StoreStatus } from './outbox-store.js'
export { LevelOutboxStore } from './level-store.js'
export type { LevelStoreOptions } from './level-store.js'
export { STORE_DEFAULTS, resolveStoreOptions } from './options.js'
export type { StoreOptions } from './options.js'
export { storePath } from './level-open.js'
export { RECORD_KINDS, KIND_PRIORITY, isRecordKind } from './types.js'
export type {
  CommitResult, CommitUnit, EncodedRecord, KindStats, MetaWrite, NewPublish, NewRecord, OutboxRecord, PendingPublish,
  ReadOptions, RecordKind, StateWrite, StoreClock, StoreStats
} from './types.js'
export { newStreamId } from './stream-id.js'
