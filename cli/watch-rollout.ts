// A rollout the command just started, followed to its end on the operator's screen (progress
// bar and device lines) or as JSON lines, with Ctrl-C leaving it running. The exit code says
// whether every online target applied.
import type { CliIo } from './io.js'
import { isPassingOutage } from './api-client.js'
import type { ApiClient } from './api-client.js'
import { LambkinError, errorMessage } from '../src/errors.js'
import { followRollout } from './follow-rollout.js'
import { ProgressPrinter } from './rollout-progress.js'
import type { RolloutView } from './rollout-view.js'
import { untilSignal } from './signals.js'

/** Exit code after Ctrl-C stopped the following (128 + SIGINT, as shells report it). */
export const EXIT_INTERRUPTED = 130

/**
 * Follows `first` through the API until it ends; prints as it goes (`json`: one event per line
 * on stdout, starting with a `rollout` event, the view without its devices, and ending with
 * `end`, or `detached` after Ctrl-C). `verdict`: wait for every online target's health verdict
 * (follow-rollout.ts). Returns the end event's exit code (rollout-events.ts, EXIT_CODES; the
 * outcome's code on stderr, or in the `end` event), 130 after Ctrl-C.
 */
export async function watchRollout (api: ApiClient, first: RolloutView, io: CliIo, json: boolean, verdict = false): Promise<number> {
  const idWidth = Math.max(0, ...first.devices.map((d) => d.id.length))
  const printer = new ProgressPrinter(io.stdout, io.stderr, io.isTTY === true && !json, idWidth)
  // The dummy io keeps untilSignal's agent-shaped "draining" message off the screen.
  const signals = untilSignal({ stdout: () => {}, stderr: () => {} })
  // Ctrl-C also ends the long-poll in flight, so the command exits at once, not when it returns.
  const stop = new AbortController()
  void signals.stopped.then(() => stop.abort())
  const { devices: _devices, ...head } = first
  if (json) io.stdout(JSON.stringify({ event: 'rollout', ...head, rollout: first.id }) + '\n')
  else io.stdout(rolloutHeadline(first) + '\n')
  try {
    const r = await followRollout(first, {
      fetchView: async (since, waitMs) => await api.call<RolloutView>('GET', `/v1/rollouts/${encodeURIComponent(first.id)}?since=${since}&wait=${waitMs}`, undefined, waitMs + 10_000, stop.signal),
      onEvent: (e) => { if (json) io.stdout(JSON.stringify(e) + '\n'); else printer.show(e) },
      stopped: signals.stopped,
      verdict,
      onOutage: (lost, err, waitMs) => {
        if (json) return
        printer.note(lost
          ? `the cloud API stopped answering (${errorMessage(err)}); rollout ${first.id} goes on in the cloud, waiting up to ${Math.round(waitMs / 1000)} s for the API to come back`
          : 'the cloud API answers again; following on')
      }
    }).catch((err: unknown) => {
      // Following gave up, not the rollout: say where to look once the cloud is back.
      if (!isPassingOutage(err) || !(err instanceof LambkinError)) throw err
      throw new LambkinError(err.code, `${err.message}; stopped following rollout ${first.id}, which goes on in the cloud: \`lambkin rollout status ${first.id}\` shows it once the API answers`, { cause: err })
    })
    if (r.interrupted) {
      const message = `stopped following rollout ${first.id}; it goes on in the cloud. See it with \`lambkin rollouts\`, stop it with \`lambkin rollout cancel ${first.id}\``
      if (json) io.stdout(JSON.stringify({ event: 'detached', rollout: first.id, message }) + '\n')
      else { printer.interrupt(); io.stderr(message + '\n') }
      return EXIT_INTERRUPTED
    }
    return r.end?.exitCode ?? 1
  } finally {
    signals.dispose()
  }
}

/** A one-line description of a rollout as it starts: what goes where, at what pace. */
export function rolloutHeadline (v: RolloutView): string {
  const what = v.kind === 'rollback' ? `rollback of ${v.fn}` : `${v.fn} version ${v.number} (${v.version})`
  const alias = v.alias === 'canary' ? ` as canary taking ${v.weight ?? '?'}% of invocations` : ''
  const pace = v.ratePerMin === undefined ? 'all at once' : `${v.ratePerMin} device${v.ratePerMin === 1 ? '' : 's'}/min`
  const abort = v.abortAtPercent >= 100 ? 'never aborts' : `aborts at ${v.abortAtPercent}% failures`
  return `rollout ${v.id}: ${what} to ${v.to}${alias}, ${v.counts.total} device${v.counts.total === 1 ? '' : 's'}, ${pace}, ${abort}, ${Math.round(v.timeoutMs / 1000)} s per device`
}
