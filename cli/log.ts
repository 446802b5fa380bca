// How `lambkin device` and `lambkin cloud` print log lines on stderr: one event a line, no
// colour, and under systemd a priority per line. When stderr is the journal (JOURNAL_STREAM
// names its device and inode: systemd.exec(5)), each line starts with an sd-daemon(3) prefix,
// `<3>` for an error up to `<7>` for debug, which journald takes as the line's priority and
// strips; `journalctl -p warning` then shows warnings and errors only.
import { fstatSync } from 'node:fs'
import { PRIORITIES, priorityOf } from '../src/log-priority.js'
import type { Priority } from '../src/log-priority.js'
import type { CliIo } from './io.js'

/**
 * True when `fd` is the stream JOURNAL_STREAM names (`<dev>:<inode>`, decimal). A process
 * whose stderr was redirected elsewhere (a child of the service writing to a file) inherits
 * the variable but not the stream, so the numbers are compared, not just the variable's presence.
 */
export function isJournal (fd: number, env: Readonly<Record<string, string | undefined>>): boolean {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '')
  if (m === null) return false
  try {
    const st = fstatSync(fd, { bigint: true })
    return st.dev === BigInt(m[1] as string) && st.ino === BigInt(m[2] as string)
  } catch {
    return false
  }
}

/** `text` as lines for stderr: each physical line prefixed with `<n>` when `journal`. */
export function formatLog (text: string, priority: Priority, journal: boolean): string {
  const lines = text.replace(/\n+$/, '').split('\n')
  return lines.map((l) => journal ? `<${PRIORITIES[priority]}>${l}\n` : `${l}\n`).join('')
}

/**
 * Writes one event to `io`'s stderr. Without a priority the line's own text decides
 * (src/log-priority.ts: an error code makes it an error).
 */
export function logLine (io: CliIo, text: string, priority: Priority = priorityOf(text)): void {
  io.stderr(formatLog(text, priority, io.journal === true))
}
