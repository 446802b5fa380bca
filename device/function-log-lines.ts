// Function log lines on the agent's console: what a function wrote with `ctx.log` or
// `console.*`, one line each, `[name] level: text`, at the line's own syslog priority so
// `journalctl -p warning` keeps a function's warnings and errors (cli/log.ts). The text is the
// function's: the agent's log sink escapes its control characters (src/log-text.ts), so a
// newline in it cannot forge a line of the agent's own.
import type { LogFn, Priority } from '../src/log-priority.js'
import type { LogEntry, LogLevel } from '../src/sandbox/index.js'
import type { FunctionLogLevel } from './config/index.js'

/** Levels from lowest to highest; `functionLogs` shows its own and those after it. */
const ORDER: readonly LogLevel[] = Object.freeze(['debug', 'info', 'warn', 'error'])

/** The journal priority of a function's log level. */
export const LOG_PRIORITY: Readonly<Record<LogLevel, Priority>> = Object.freeze({ debug: 'debug', info: 'info', warn: 'warning', error: 'err' })

/** One function log line as the console shows it. */
export function functionLogLine (fn: string, entry: LogEntry): string {
  return `[${fn}] ${entry.level}: ${entry.msg}`
}

/**
 * A printer for the lines of one invocation at or above `lowest` (nothing for `off`), or
 * undefined when nothing is ever shown, so the agent need not listen at all.
 */
export function functionLogPrinter (lowest: FunctionLogLevel, log: LogFn): ((fn: string, logs: readonly LogEntry[] | undefined) => void) | undefined {
  if (lowest === 'off') return undefined
  const from = ORDER.indexOf(lowest)
  return (fn, logs) => {
    if (logs === undefined) return
    for (const e of logs) {
      // A level the sandbox would never send is shown as info rather than dropped.
      const level: LogLevel = ORDER.includes(e.level) ? e.level : 'info'
      if (ORDER.indexOf(level) >= from) log(functionLogLine(fn, { ...e, level }), LOG_PRIORITY[level])
    }
  }
}
