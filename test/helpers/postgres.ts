// A real PostgreSQL server for tests, the one place that starts one: `initdb` and `pg_ctl` from
// Debian's packages (/usr/lib/postgresql/<version>/bin, not a service), run as the unprivileged
// `postgres` user when we are root (PostgreSQL refuses to run as root), in a temp folder that
// user owns, on a free TCP port on 127.0.0.1 with its unix socket in that folder. One server per
// test file; `createDatabase` gives each test a fresh, empty database. Where the binaries are
// missing it installs nothing and returns the reason to skip with (a failure under CI: pgCases).
import { execFileSync, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import type { Test } from 'uvu'
import { freePort } from './brokers.js'
import { underCi } from './ci.js'

export interface PgServer {
  port: number
  /** The folder holding the data, the socket and the log. */
  dir: string
  /** A URL for `database` (default `postgres`). */
  url: (database?: string) => string
  /** A new empty database with a unique name; resolves with its URL. */
  createDatabase: () => Promise<string>
  /** Stops the server (`pg_ctl stop`, fast: open sessions are cut); `start` brings it back on the same port and data. */
  stop: (mode?: 'fast' | 'immediate') => Promise<void>
  start: () => Promise<void>
  /** The server's log so far. */
  log: () => string
  /** Stops the server and removes its folder. */
  close: () => Promise<void>
}

/** The newest PostgreSQL binaries folder, or why there is none. */
export function postgresBin (): { bin: string } | { skip: string } {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : []
  for (const v of versions) {
    const bin = path.join(root, v, 'bin')
    if (existsSync(path.join(bin, 'initdb')) && existsSync(path.join(bin, 'pg_ctl'))) {
      if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0) return { skip: 'PostgreSQL refuses to run as root and there is no postgres user to run it as' }
      return { bin }
    }
  }
  return { skip: `PostgreSQL is not installed (no ${root}/<version>/bin/initdb; apt-get install postgresql)` }
}

/**
 * A case adder for tests that need PostgreSQL: with the binaries found, `add(title, fn)` adds
 * the case to `s`; without them it is skipped (counted by uvu) with `found`'s reason printed
 * once, except under CI, where each case fails with that reason.
 */
export function pgCases (s: Test, label: string, found: { bin: string } | { skip: string }): (title: string, fn: () => Promise<void>) => void {
  if (!('skip' in found)) return (title, fn) => { s(title, fn) }
  const why = found.skip
  if (underCi()) return (title) => { s(title, () => { throw new Error(`${label} cannot run under CI: ${why}`) }) }
  console.log(`${label} skipped: ${why}`)
  return (title) => { s.skip(title, () => {}) }
}

/** Runs a PostgreSQL program as the postgres user when we are root, else as ourselves. */
function asOwner (file: string, args: string[]): string[] {
  return process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', file, ...args] : [file, ...args]
}

function run (argv: string[], what: string): void {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 60_000 })
  if (r.status !== 0) throw new Error(`${what} failed (${r.status ?? r.signal ?? r.error?.message}): ${r.stderr}${r.stdout}`)
}

/**
 * Starts a server; `{ skip }` when PostgreSQL is not installed. `settings` are extra server
 * settings (`-c name=value`); fsync is off unless given (a test's data need not survive a power
 * cut, and a process crash keeps what was written to the OS either way).
 */
export async function startPostgres (settings: Record<string, string> = {}): Promise<PgServer | { skip: string }> {
  const found = postgresBin()
  if ('skip' in found) return found
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-pg-'))
  const data = path.join(dir, 'data')
  mkdirSync(data, { mode: 0o700 })
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
    chownSync(dir, uid, gid)
    chownSync(data, uid, gid)
  }
  const logFile = path.join(dir, 'server.log')
  const port = await freePort()
  const user = process.getuid?.() === 0 ? 'postgres' : userInfo().username
  run(asOwner(path.join(found.bin, 'initdb'), ['-D', data, '-U', user, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']), 'initdb')
  const opts = Object.entries({ fsync: 'off', ...settings }).map(([k, v]) => `-c ${k}=${v}`)
  const serverOpts = [`-p ${port}`, `-k ${dir}`, "-c listen_addresses='127.0.0.1'", ...opts].join(' ')
  const ctl = (args: string[]): string[] => asOwner(path.join(found.bin, 'pg_ctl'), ['-D', data, ...args])
  const start = async (): Promise<void> => { run(ctl(['-l', logFile, '-w', '-t', '60', '-o', serverOpts, 'start']), 'pg_ctl start') }
  const stop = async (mode: 'fast' | 'immediate' = 'fast'): Promise<void> => { run(ctl(['-w', '-t', '60', '-m', mode, 'stop']), 'pg_ctl stop') }
  let running = false
  const url = (database = 'postgres'): string => `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/${database}`
  // A server left behind by a test that threw past its cleanup is stopped when the process ends.
  const onExit = (): void => { if (running) spawnSync(ctl(['-m', 'immediate', 'stop'])[0], ctl(['-m', 'immediate', 'stop']).slice(1)) }
  process.once('exit', onExit)
  await start()
  running = true
  let n = 0
  return {
    port,
    dir,
    url,
    createDatabase: async () => {
      const name = `t${process.pid}_${++n}`
      const c = new pg.Client({ connectionString: url() })
      await c.connect()
      try { await c.query(`CREATE DATABASE ${name}`) } finally { await c.end() }
      return url(name)
    },
    stop: async (mode) => { await stop(mode); running = false },
    start: async () => { await start(); running = true },
    log: () => existsSync(logFile) ? readFileSync(logFile, 'utf8') : '',
    close: async () => {
      process.off('exit', onExit)
      if (running) await stop('immediate').catch(() => {})
      running = false
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
