// The abstract outbox store suite on the in-memory backend (test/helpers/memory-store.ts): the
// second backend that shows the suite states the contract, not LevelDB's habits. What needs a
// disk (a kill -9 of the writer, a full file system) is skipped with its reason printed.
import { outboxStoreSuite } from './abstract-suite.js'
import { MemoryDisk, MemoryOutboxStore } from '../../helpers/memory-store.js'

const disk = new MemoryDisk()
outboxStoreSuite('memory', async (opts) => await MemoryOutboxStore.open(opts, disk))
