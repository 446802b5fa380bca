// device/store: the agent's durable LevelDB store (outbox records, function state, durable
// publishes, meta). The abstract test suite lives in ./abstract-suite.js, kept out of here so
// the agent never loads uvu.
export { OutboxStore } from './outbox-store.js';
export { LevelOutboxStore } from './level-store.js';
export { STORE_DEFAULTS, resolveStoreOptions } from './options.js';
export { storePath } from './level-open.js';
export { RECORD_KINDS, KIND_PRIORITY, isRecordKind } from './types.js';
//# sourceMappingURL=index.js.map