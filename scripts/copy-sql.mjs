#!/usr/bin/env node
// @ts-check
// Copies the PostgreSQL registry's migrations (cloud-sync/registry/pg/migrations/*.sql) beside
// the compiled code in dist/, where migrate.js reads them and the published package carries
// them. Runs after `tsc -b` in `npm run build`.
import { cpSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const FROM = join(ROOT, 'cloud-sync', 'registry', 'pg', 'migrations')
const TO = join(ROOT, 'dist', 'cloud-sync', 'registry', 'pg', 'migrations')
rmSync(TO, { recursive: true, force: true })
cpSync(FROM, TO, { recursive: true, filter: (src) => !src.endsWith('~') })
