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
  constructor (readonly factory: StoreFactory, readonly supports: StoreSupports = {}) {}

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

/**
 * What a backend can do beyond the contract every backend has (as abstract-level's suite asks
 * `db.supports`). A case that needs a feature the backend lacks is skipped, counted as skipped
 * by uvu, and its reason printed: NEEDS says why.
 */
export interface StoreSupports {
  /**
   * Commits that resolved survive a kill -9 of the process that wrote them (the data is on a
   * disk). A child process opens the store with `open` exported as `exportName` by `module`.
   */
  persistence?: { module: string, exportName: string }
  /** The store lives on a real file system a test can fill, and trips src/store-fault.ts's fault on a failed write. */
  faultInjection?: boolean
}

export type Feature = keyof StoreSupports

/** Why a case is skipped on a backend without the feature it needs. */
export const NEEDS: Readonly<Record<Feature, string>> = Object.freeze({
  persistence: 'needs data that outlives the process (supports.persistence); this backend keeps it in the process only',
  faultInjection: 'needs a file system a test can fill (supports.faultInjection); this backend has none'
})

/** Adds a case; `needs` names the feature without which it is skipped (with NEEDS' reason). */
export type Case = (name: string, fn: (h: Harness) => Promise<void>, needs?: Feature) => void
