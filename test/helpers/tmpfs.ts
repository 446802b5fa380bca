// A small tmpfs for tests of a full disk: mounted on a temp folder (root only), filled with a
// file until writes fail with ENOSPC, freed again. Tests that get `skip` print it and pass.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

export interface Tmpfs {
  dir: string
  /** Fills the disk, leaving about `leaveBytes` free. */
  fill: (leaveBytes?: number) => void
  /** Removes the filler: the disk has room again. */
  free: () => void
  unmount: () => void
}

/** Mounts a tmpfs of `bytes`, or says why it cannot (not root, no mount). */
export function mountTmpfs (bytes: number): Tmpfs | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'needs root to mount a tmpfs (a full disk is simulated with one)' }
  const dir = mkdtempSync(path.join(tmpdir(), 'lambkin-tmpfs-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'pipe' })
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    return { skip: `cannot mount a tmpfs: ${(err as Error).message.split('\n')[0]}` }
  }
  const filler = path.join(dir, 'filler')
  return {
    dir,
    fill: (leaveBytes = 0) => {
      // One chunk at a time until the disk refuses, then give back what was asked.
      const chunk = Buffer.alloc(64 * 1024)
      let n = 0
      for (;;) {
        try {
          writeFileSync(filler, chunk, { flag: 'a' })
          n++
        } catch {
          break
        }
      }
      if (leaveBytes > 0) execFileSync('truncate', ['-s', String(Math.max(0, n * chunk.length - leaveBytes)), filler])
    },
    free: () => { rmSync(filler, { force: true }) },
    unmount: () => {
      try { execFileSync('umount', ['-l', dir], { stdio: 'pipe' }) } catch {}
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
