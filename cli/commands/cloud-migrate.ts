// `lambkin cloud migrate --db <url>`: brings a PostgreSQL database up to the registry's schema
// (cloud-sync/registry/pg/migrate.ts), printing each migration as it is applied. Idempotent;
// `lambkin cloud --db` does the same at every start, so this is for doing it ahead (a release
// step, a database role allowed DDL only here).
import { ErrorCodes, LambkinError } from '../../src/errors.js'
import type { CliIo } from '../io.js'
import { command, runProgram } from '../program.js'
import type { Run } from '../program.js'
import { dbFromEnv } from './cloud.js'

export async function cloudMigrateCommand (argv: string[], io: CliIo): Promise<number> {
  const run: Run = { code: 0 }
  let json = false
  const program = command('lambkin cloud migrate', io)
    .description('Creates or updates the cloud registry\'s tables in a PostgreSQL database (schema "lambkin"), applying each migration not applied yet, in order, each in one transaction, under an advisory lock so cloud instances starting at the same time wait for it. Safe to run again: an up-to-date database is left as it is.')
    .option('--db <url>', 'the database (postgres://user:password@host:5432/database; default LAMBKIN_DB_URL)')
    .option('--json', 'machine-readable output: { applied, version }')
    .action(async (f: { db?: string, json?: boolean }) => {
      json = f.json === true
      const url = dbFromEnv(f.db)
      if (url === undefined) throw new LambkinError(ErrorCodes.USAGE, 'which database? give --db postgres://user:password@host:5432/database or set LAMBKIN_DB_URL')
      const { migrateDatabase } = await import('../../cloud-sync/registry/pg/index.js')
      const r = await migrateDatabase(url, { progress: json ? undefined : (line) => io.stdout(line + '\n') })
      if (json) io.stdout(JSON.stringify(r) + '\n')
    })
  return await runProgram(program, argv, io, run, () => json)
}
