// The priority of a log line of the agent or the cloud: syslog's severities (RFC 5424), which
// the systemd journal keeps per line (docs/boards.md, "Running as a service"). Printing is the CLI's
// (cli/log.ts); this file only names them and the rule for lines that carry none.

/** The severities lambkin uses, with their syslog numbers. */
export const PRIORITIES = Object.freeze({ err: 3, warning: 4, notice: 5, info: 6, debug: 7 } as const)
export type Priority = keyof typeof PRIORITIES

/** How the agent and the cloud log: one event per call, without a trailing newline. */
export type LogFn = (line: string, priority?: Priority) => void

/** A stable error code ahead of a message (`LAMBKIN_X: ...`, also after a prefix such as `[fn] `). */
const CODE = /(?:^|[\s[(])LAMBKIN_[A-Z_]+: /

/**
 * The priority of a line logged without one: a line carrying an error code is an error (the
 * codes are the public interface: docs/errors.md), one that starts with WARNING a
 * warning, anything else a notice.
 */
export function priorityOf (line: string): Priority {
  if (CODE.test(line)) return 'err'
  if (line.startsWith('WARNING')) return 'warning'
  return 'notice'
}
