// Bundle files under the data folder, `<dataDir>/bundles/<sha256>.bundle`: written to a temp
// file, fsynced, renamed into place and the folder fsynced, so a kill -9 or a power cut leaves
// either no file or the whole one; a file is read back checked against its name's hash [W6].
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { SHA256_PATTERN, sha256Hex } from '../../src/bundle/index.js'

const SUFFIX = '.bundle'

export class BundleFiles {
  readonly dir: string

  constructor (dataDir: string) {
    this.dir = join(dataDir, 'bundles')
  }

  #path (sha256: string): string {
    if (!SHA256_PATTERN.test(sha256)) throw new TypeError(`not a sha256: ${sha256}`)
    return join(this.dir, sha256 + SUFFIX)
  }

  /** The bytes stored under `sha256`, or undefined when absent or when they no longer hash to it. */
  async read (sha256: string): Promise<Uint8Array | undefined> {
    let bytes: Buffer
    try {
      bytes = await readFile(this.#path(sha256))
    } catch {
      return undefined
    }
    return sha256Hex(bytes) === sha256 ? bytes : undefined
  }

  /** Stores bytes under their sha256 durably (temp + fsync + rename + fsync of the folder). */
  async write (sha256: string, bytes: Uint8Array): Promise<void> {
    await mkdir(this.dir, { recursive: true })
    const tmp = join(this.dir, `.${sha256}.${randomUUID()}.tmp`)
    try {
      const fh = await open(tmp, 'w', 0o644)
      try {
        await fh.writeFile(bytes)
        await fh.sync()
      } finally {
        await fh.close()
      }
      await rename(tmp, this.#path(sha256))
    } catch (err) {
      // A full disk leaves a partial temp file: remove it at once, so the space it took is free for the retry.
      await rm(tmp, { force: true }).catch(() => {})
      throw err
    }
    await syncDir(this.dir)
  }

  /** Removes bundle files (and temp files a crash left) not in `keep`. Errors are ignored: it runs again next time. */
  async prune (keep: ReadonlySet<string>): Promise<void> {
    let names: string[]
    try {
      names = await readdir(this.dir)
    } catch {
      return
    }
    for (const n of names) {
      const sha = n.endsWith(SUFFIX) ? n.slice(0, -SUFFIX.length) : undefined
      if (sha !== undefined && keep.has(sha)) continue
      await rm(join(this.dir, n), { force: true }).catch(() => {})
    }
  }
}

/** fsync of a folder, so a rename in it survives a power cut (POSIX rename(2) durability). */
async function syncDir (dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } catch {
    // Some file systems refuse fsync on a folder (EINVAL); the rename is still atomic there.
  } finally {
    await fh.close()
  }
}
