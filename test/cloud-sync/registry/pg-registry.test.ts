// The PostgreSQL registry against a real PostgreSQL server (test/helpers/postgres.ts): the
// abstract suite every backend passes, with the case only a shared database can have (two
// instances given the same batches), each case on a fresh database of one server.
import { PgRegistry } from '../../../cloud-sync/registry/pg/index.js'
import { startPostgres } from '../../helpers/postgres.js'
import type { PgServer } from '../../helpers/postgres.js'
import { postgresBin } from '../../helpers/postgres.js'
import { registrySuite } from './abstract-suite.js'

const found = postgresBin()
let server: PgServer | undefined

registrySuite('postgres', () => {
  let url: string | undefined
  return {
    // Retention off: the suite's records arrive at times near 1970.
    open: async () => {
      url ??= await (server as PgServer).createDatabase()
      return await PgRegistry.open({ url, retentionDays: 0 })
    },
    destroy: async () => {}
  }
}, {
  skip: 'skip' in found ? found.skip : undefined,
  supports: { sharedStorage: true },
  before: async () => {
    const s = await startPostgres()
    if ('skip' in s) throw new Error(s.skip)
    server = s
  },
  after: async () => { await server?.close() }
})
