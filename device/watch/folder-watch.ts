// Watching the local functions folder (watch.functions): fs.watch over the whole tree, and one
// call once the folder has been quiet for watch.debounceMs, since an editor's save is several
// events (write, rename, chmod) and a `cp -r` many. What changed is not passed on: the reload
// reads the folder again and compares content versions, which is exact where events are not
// (inotify coalesces, renames arrive as two events, and editors differ).
import { errorMessage } from '../../src/errors.js'
import { existsSync, watch } from 'node:fs'
import type { FSWatcher } from 'node:fs'
import type { Clock } from '../../src/clock.js'

export interface FolderWatchOptions {
  dir: string
  debounceMs: number
  clock: Clock
  /** Called after a burst of changes has settled; not called again until it resolves. */
  onSettled: () => Promise<void>
  log: (line: string) => void
}

export interface FolderWatch { close: () => void }

/**
 * Starts watching `dir` recursively. Node 20's recursive watch on Linux fails with ENOENT when
 * a folder under `dir` is removed while it adds or drops that folder's inotify watch (a
 * function's folder deleted): the watch is then made again and a reload armed, so the removal
 * is seen. A watch that fails otherwise (`dir` itself removed, inotify's `max_user_watches`
 * reached) is logged once and ends; the functions keep running as they are.
 */
export function watchFolder (o: FolderWatchOptions): FolderWatch {
  let timer: unknown
  let running = false
  let again = false
  let closed = false
  const settle = async (): Promise<void> => {
    timer = undefined
    if (closed) return
    if (running) { again = true; return }
    running = true
    // Node 20's recursive watch on Linux watches each file's inode: a file replaced by a rename
    // (an editor's safe save, `sed -i`) is seen once, then never again. Watching the tree
    // afresh after each burst watches the files as they are now.
    restart()
    try {
      await o.onSettled()
    } finally {
      running = false
      if (again && !closed) { again = false; arm() }
    }
  }
  const arm = (): void => {
    if (timer !== undefined) o.clock.clearTimeout(timer)
    timer = o.clock.setTimeout(() => settle(), o.debounceMs)
  }
  let watcher: FSWatcher | undefined
  const stop = (): void => {
    closed = true
    if (timer !== undefined) o.clock.clearTimeout(timer)
    watcher?.close()
  }
  const start = (): void => {
    try {
      watcher = watch(o.dir, { recursive: true, persistent: false }, () => { if (!closed) arm() })
      watcher.on('error', (err: NodeJS.ErrnoException) => {
        if (closed) return
        if (err.code === 'ENOENT' && existsSync(o.dir)) {
          watcher?.close()
          start()
          arm()
          return
        }
        o.log(`stopped watching ${o.dir} for changes (${err.code ?? err.message}): edits take effect at the next start`)
        stop()
      })
    } catch (err) {
      o.log(`cannot watch ${o.dir} for changes (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}): edits take effect at the next start`)
    }
  }
  const restart = (): void => {
    watcher?.close()
    watcher = undefined
    start()
  }
  start()
  return { close: stop }
}
