// A uvu suite whose cases need a real PostgreSQL (and, for the cloud's scale-out, a Mosquitto):
// the server is started once for the suite on a free port in a temp folder and stopped after.
// Where a binary is missing each case says why and passes as skipped, except under CI
// (helpers/ci.ts), where .ci/run has installed them and a missing one is a failure.
import { suite } from 'uvu'
import type { Test } from 'uvu'
import { mosquittoMissing } from './brokers.js'
import { underCi } from './ci.js'
import { postgresBin, startPostgres } from './postgres.js'
import type { PgServer } from './postgres.js'

export interface PgSuite {
  test: Test
  /** A case that runs only when the servers are there (see the file's head). */
  realTest: (title: string, fn: () => Promise<void>) => void
  /** The suite's PostgreSQL, started before the first case. */
  readonly server: PgServer
}

/** A suite on one PostgreSQL; `mosquitto: true` also needs the mosquitto binary. */
export function pgSuite (title: string, needs: { mosquitto?: boolean } = {}): PgSuite {
  const test = suite(title)
  const found = postgresBin()
  const skip = 'skip' in found ? found.skip : needs.mosquitto === true ? mosquittoMissing() : undefined
  let server: PgServer | undefined
  test.before(async () => {
    if (skip !== undefined) {
      if (underCi()) throw new Error(`under CI, and ${skip}`)
      return
    }
    const s = await startPostgres()
    if ('skip' in s) throw new Error(s.skip)
    server = s
  })
  test.after(async () => { await server?.close() })
  return {
    test,
    realTest: (name, fn) => {
      test(name, async () => {
        if (skip !== undefined) { console.log(`skipped: ${skip}`); return }
        await fn()
      })
    },
    get server (): PgServer {
      if (server === undefined) throw new Error('the suite\'s PostgreSQL is not started')
      return server
    }
  }
}
