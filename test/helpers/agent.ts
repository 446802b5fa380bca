// Starts real agents for tests: functions written to a temp folder, a config file beside them,
// real LevelDB, QuickJS and aedes; and reads back what the outbox holds after a close.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Agent } from '../../device/index.js'
import type { AgentOptions, InvocationRecord } from '../../device/index.js'
import { loadDeviceConfig } from '../../device/config/index.js'
import { LevelOutboxStore } from '../../device/store/index.js'
import type { OutboxRecord } from '../../device/store/index.js'

export interface Fixture {
  root: string
  dataDir: string
  functionsDir: string
  start: (config?: Record<string, unknown>, opts?: AgentOptions) => Promise<Agent>
  records: (kind?: OutboxRecord['kind']) => Promise<OutboxRecord[]>
  pendingPublishes: () => Promise<number>
  cleanup: () => void
}

/** functions: name -> { manifest (without name), code }. */
export function fixture (functions: Record<string, { manifest?: Record<string, unknown>, code: string }>): Fixture {
  const root = mkdtempSync(path.join(tmpdir(), 'lambkin-agent-'))
  const functionsDir = path.join(root, 'functions')
  const dataDir = path.join(root, 'data')
  for (const [name, f] of Object.entries(functions)) {
    mkdirSync(path.join(functionsDir, name), { recursive: true })
    writeFileSync(path.join(functionsDir, name, 'function.json'), JSON.stringify({ name, ...f.manifest }))
    writeFileSync(path.join(functionsDir, name, 'index.js'), f.code)
  }
  let n = 0
  return {
    root,
    dataDir,
    functionsDir,
    start: async (config = {}, opts = {}) => {
      const file = path.join(root, `device-${n++}.json`)
      writeFileSync(file, JSON.stringify({ id: 'test-device', dataDir, functionsDir, ...config }))
      return await Agent.create(await loadDeviceConfig({ file, env: {} }), opts)
    },
    records: async (kind) => {
      const store = await LevelOutboxStore.open({ dir: dataDir })
      try {
        return await store.read({ limit: 100_000, kinds: kind === undefined ? undefined : [kind] })
      } finally {
        await store.close()
      }
    },
    pendingPublishes: async () => {
      const store = await LevelOutboxStore.open({ dir: dataDir })
      try {
        return (await store.pendingPublishes()).length
      } finally {
        await store.close()
      }
    },
    cleanup: () => rmSync(root, { recursive: true, force: true })
  }
}

/** Resolves once `count` invocations matching `where` have committed. */
export function invocations (
  agent: Agent,
  count: number,
  where: (r: InvocationRecord) => boolean = () => true,
  timeoutMs = 20_000
): Promise<InvocationRecord[]> {
  const seen: InvocationRecord[] = []
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`saw ${seen.length} of ${count} invocations`)), timeoutMs)
    const on = (r: InvocationRecord): void => {
      if (!where(r)) return
      seen.push(r)
      if (seen.length === count) {
        clearTimeout(timer)
        agent.off('invocation', on)
        resolve(seen)
      }
    }
    agent.on('invocation', on)
  })
}
