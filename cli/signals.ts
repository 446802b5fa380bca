// Waiting for SIGINT/SIGTERM in the foreground commands (device, demo, cloud, logs -f).
import type { CliIo } from './io.js'
import { logLine } from './log.js'

/** The signals a foreground command stops on. Not SIGHUP: `nohup lambkin device` must outlive its terminal. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM']

/**
 * Resolves with the first of `signals` (SIGINT/SIGTERM), and keeps the process alive until then
 * (or until dispose). A second signal while closing quits at once: nothing acknowledged is lost
 * by that (the same as a kill -9), only the drain is cut short. `draining` names what a stop
 * waits for, in the line it prints.
 */
export function untilSignal (io: CliIo, draining = 'in-flight invocations', signals: readonly NodeJS.Signals[] = STOP_SIGNALS): { stopped: Promise<string>, dispose: () => void } {
  let count = 0
  let resolve: (sig: string) => void = () => {}
  const stopped = new Promise<string>((_resolve) => { resolve = _resolve })
  const on = (sig: NodeJS.Signals): void => {
    if (++count === 1) {
      logLine(io, `${sig}: stopping, draining ${draining} (again to quit at once)`, 'notice')
      resolve(sig)
    } else {
      logLine(io, `${sig}: quitting without draining`, 'warning')
      process.exit(130)
    }
  }
  for (const sig of signals) process.on(sig, on)
  // Signal listeners do not keep Node running: an agent with only schedule and sensor
  // triggers (unref'd timers) or none at all would otherwise exit 0 right after "ready".
  // The agent runs until it is told to stop, whatever its triggers (docs/architecture.md, "Parts").
  const keepAlive = setInterval(() => {}, 2 ** 31 - 1)
  return {
    stopped,
    dispose: () => {
      clearInterval(keepAlive)
      for (const sig of signals) process.off(sig, on)
    }
  }
}
