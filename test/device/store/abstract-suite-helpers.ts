// Helpers of the abstract outbox store suite: per-test temp dirs that close what they open,
// a record maker, and a check that a promise rejects with a given code.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as assert from 'uvu/assert'
import type { OutboxStore } from '../../../device/store/outbox-store.js'
import type { StoreOptions } from '../../../device/store/options.js'
import type { NewRecord, RecordKind } from '../../../device/store/types.js'

/** Opens a store in dir; called again with the same dir to reopen it. */
export type StoreFactory = (opts: Partial<StoreOptions> & { dir: string }) => Promise<OutboxStore>

/** One test's temp dir and the stores it opened, all closed and removed by done(). */
export class Harness {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambkin-'))
  readonly #open: OutboxStore[] = []
  constructor (readonly factory: StoreFactory) {}

  async open (opts: Partial<StoreOptions> = {}, dir = this.dir): Promise<OutboxStore> {
    const s = await this.factory({ ...opts, dir })
    this.#open.push(s)
    return s
  }

  async done (): Promise<void> {
    for (const s of this.#open) await s.close()
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}

export const rec = (kind: RecordKind, data: unknown = { n: 1 }, more: Partial<NewRecord> = {}): NewRecord => ({ kind, fn: 'f', time: 1_700_000_000_000, data, ...more })

export async function rejects (p: Promise<unknown>, code: string, msg: string): Promise<Error & { code: string }> {
  try {
    await p
  } catch (err) {
    assert.is((err as { code?: string }).code, code, `${msg}: ${(err as Error).message}`)
    return err as Error & { code: string }
  }
  assert.unreachable(`${msg}: expected a rejection with ${code}`)
  return undefined as never
}

export type Case = (name: string, fn: (h: Harness) => Promise<void>) => void
