// How a followed rollout looks to a person: one line per device as it answers and, on a
// terminal, a progress bar with the counts kept as the last line (redrawn in place). Off a
// terminal the bar is left out (a log file gets the device lines and one summary).
import { printable } from './table.js'
import { countsText } from './rollout-events.js'
import type { DeviceEvent, EndEvent, RolloutEvent } from './rollout-events.js'
import type { RolloutCounts } from './rollout-view.js'

/** Width of the bar between its brackets, characters. */
export const BAR_WIDTH = 24

/** Erase the current terminal line (carriage return, then ECMA-48 "erase in line"). */
const CLEAR_LINE = '\r\x1b[K'

/**
 * `[#########---------------] 9/24  applied 7, failed 1, offline 1, waiting 15`: the share of
 * targets that answered (anything but pending and sent), then the counts.
 */
export function progressBar (c: RolloutCounts, width = BAR_WIDTH): string {
  const answered = c.total - c.pending - c.sent
  const filled = c.total === 0 ? width : Math.min(width, Math.floor(answered / c.total * width))
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${answered}/${c.total}  ${countsText(c)}`
}

const LABEL: Record<DeviceEvent['state'], string> = {
  pending: 'pending',
  sent: 'sent',
  applied: 'applied',
  failed: 'failed',
  'rolled-back': 'rolled back',
  offline: 'offline',
  skipped: 'skipped'
}

/**
 * One device's answer: `  gh-01  applied      version 1a2b3c4d5e6f7a8b, health window: 30 s left`,
 * then `  gh-01  healthy      version 1a2b...` once its window passed, or `  gh-01  superseded
 * version 1a2b..., superseded by rollout r2 while...` when a newer rollout came first; failures
 * with `CODE: message`.
 */
export function deviceLine (e: DeviceEvent, idWidth = 0): string {
  const why = e.code === undefined ? (e.message ?? '') : `${e.code}${e.message === undefined ? '' : `: ${e.message}`}`
  let detail: string
  const label = e.state === 'applied' && e.health === 'passed' ? 'healthy' : e.state === 'applied' && e.health === 'superseded' ? 'superseded' : LABEL[e.state]
  if (e.state === 'applied') {
    detail = e.version === undefined ? '' : `version ${e.version}`
    if (e.health === 'watching') detail += `${detail === '' ? '' : ', '}health window: ${Math.ceil((e.watchLeftMs ?? 0) / 1000)} s left`
    if (e.health === 'superseded') detail += `${detail === '' ? '' : ', '}${e.message ?? 'superseded while its health window was open'}`
  } else if (e.state === 'offline') detail = 'waiting: it gets the new desired state when it reconnects'
  else detail = why
  return printable(`  ${e.device.padEnd(idWidth)}  ${label.padEnd(11)}  ${detail}`).trimEnd()
}

/** Writes rollout events for a person; `tty` keeps a progress bar as the last line. */
export class ProgressPrinter {
  readonly #write: (s: string) => void
  readonly #writeErr: (s: string) => void
  readonly #tty: boolean
  readonly #idWidth: number
  #bar = ''

  /**
   * `write` gets the progress (stdout), `writeErr` the outcome of a rollout that did not
   * apply everywhere, as `CODE: message` like every command's errors. `idWidth`: pad device
   * ids to this many characters so the columns line up.
   */
  constructor (write: (s: string) => void, writeErr: (s: string) => void, tty: boolean, idWidth = 0) {
    this.#write = write
    this.#writeErr = writeErr
    this.#tty = tty
    this.#idWidth = idWidth
  }

  /** Shows one event: device lines above the bar; progress redraws the bar (terminal only). */
  show (e: RolloutEvent): void {
    if (e.event === 'device') {
      this.#write(`${this.#tty && this.#bar !== '' ? CLEAR_LINE : ''}${deviceLine(e, this.#idWidth)}\n${this.#tty ? this.#bar : ''}`)
    } else if (e.event === 'progress') {
      if (!this.#tty) return
      this.#bar = progressBar(e.counts)
      this.#write(`${CLEAR_LINE}${this.#bar}`)
    } else {
      this.end(e)
    }
  }

  /** The bar's last state (terminal) or the counts (elsewhere), then the outcome. */
  end (e: EndEvent): void {
    const last = this.#tty ? `${CLEAR_LINE}${progressBar(e.counts)}\n` : ''
    this.#bar = ''
    if (last !== '') this.#write(last)
    if (e.ok) this.#write(`${printable(e.message)}\n`)
    else this.#writeErr(`${e.code ?? ''}: ${printable(e.message)}\n`)
  }

  /** A line of its own above the bar, like a device line (the cloud stopped answering...). */
  note (text: string): void {
    this.#write(`${this.#tty && this.#bar !== '' ? CLEAR_LINE : ''}${printable(text)}\n${this.#tty ? this.#bar : ''}`)
  }

  /** Leaves the bar's line so later output starts on a fresh one. */
  interrupt (): void {
    if (this.#tty && this.#bar !== '') this.#write('\n')
    this.#bar = ''
  }
}
