// Where a running agent answers on this machine: `<dataDir>/agent-http.json`, written when its
// local HTTP server (metricsPort) is up and removed at a clean stop. `lambkin outbox --data`
// reads it when the outbox store is locked by that agent, and asks the agent instead. The file
// holds a random token the /outbox route requires, so reading a running agent's outbox takes
// what reading its store takes: access to the (owner-only) data folder, not just to loopback.
import { randomBytes } from 'node:crypto'
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { PRIVATE_FILE_MODE } from '../../src/private-files.js'

export const ENDPOINT_FILE = 'agent-http.json'

/** What the file says. `url` is the server's base (`http://127.0.0.1:9464`). */
export interface AgentEndpoint { url: string, token: string, pid: number }

/** A fresh token for one agent run: 32 random bytes, hex. */
export function endpointToken (): string {
  return randomBytes(32).toString('hex')
}

/** Writes the file (temp + rename, mode 0600), so a reader never sees half of it. */
export function writeEndpoint (dataDir: string, e: AgentEndpoint): void {
  const file = path.join(dataDir, ENDPOINT_FILE)
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(e) + '\n', { mode: PRIVATE_FILE_MODE })
  renameSync(tmp, file)
}

/** Removes the file at a clean stop; a kill -9 leaves it, and readers then find no one answering. */
export function removeEndpoint (dataDir: string): void {
  rmSync(path.join(dataDir, ENDPOINT_FILE), { force: true })
}

/** The file's content, or undefined when it is missing or not what an agent writes. */
export function readEndpoint (dataDir: string): AgentEndpoint | undefined {
  try {
    const e = JSON.parse(readFileSync(path.join(dataDir, ENDPOINT_FILE), 'utf8')) as Partial<AgentEndpoint>
    if (typeof e.url !== 'string' || typeof e.token !== 'string' || typeof e.pid !== 'number') return undefined
    return { url: e.url, token: e.token, pid: e.pid }
  } catch {
    return undefined
  }
}
