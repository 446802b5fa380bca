import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { LevelRegistry } from '../../../cloud-sync/registry/index.js'
import { registrySuite } from './abstract-suite.js'

registrySuite('level', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-registry-'))
  return {
    open: async () => await LevelRegistry.open(dir),
    destroy: async () => { rmSync(dir, { recursive: true, force: true }) }
  }
})
