// The live view: server-sent events from GET /v1/events. EventSource cannot send the token, so
// each connect first trades it for a one-use ticket (POST /v1/events/ticket), which also tells
// a revoked token apart from a cloud that is down. On `hello` the fleet is reloaded (changes
// that arrive meanwhile wait and are applied after it), so nothing between two connects is lost.
import { signal } from '@preact/signals'
import type { FleetChange } from '../api/dashboard-types.js'
import { ApiError, api } from './api.js'
import { applyChange, loadDone, loadFleet } from './fleet-store.js'

export type LiveState = 'connecting' | 'live' | 'reconnecting'
export const liveState = signal<LiveState>('connecting')
/** What went wrong with the last attempt, for the header. */
export const liveProblem = signal<string | null>(null)

const BACKOFF_MS = [500, 1000, 2000, 5000]

/** Opens the stream and keeps it open until the returned function is called. */
export function startLive (): () => void {
  let stopped = false
  let es: EventSource | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  let failures = 0

  const retry = (why: string): void => {
    es?.close()
    es = undefined
    if (stopped) return
    liveState.value = 'reconnecting'
    liveProblem.value = why
    timer = setTimeout(() => { void open() }, BACKOFF_MS[Math.min(failures++, BACKOFF_MS.length - 1)])
  }

  const open = async (): Promise<void> => {
    let ticket: string
    try {
      ticket = (await api<{ ticket: string }>('v1/events/ticket', { method: 'POST', body: {} })).ticket
    } catch (err) {
      // A refused token has signed the operator out already (api.ts); anything else is retried.
      if (err instanceof ApiError && err.code === 'LAMBKIN_UNAUTHORIZED') return
      retry((err as Error).message)
      return
    }
    if (stopped) return
    let pending: FleetChange[] | undefined = []
    const source = es = new EventSource(`v1/events?ticket=${encodeURIComponent(ticket)}`)
    source.addEventListener('hello', () => {
      pending = []
      loadFleet().then(() => {
        for (const c of pending ?? []) applyChange(c)
        loadDone()
        pending = undefined
        failures = 0
        liveState.value = 'live'
        liveProblem.value = null
      }, (err: Error) => { if (source === es) retry(err.message) })
    })
    source.addEventListener('fleet', (e) => {
      const c = JSON.parse((e as MessageEvent<string>).data) as FleetChange
      if (pending !== undefined) pending.push(c)
      else applyChange(c)
    })
    // The cloud could not refresh the fleet (its database down): say why, and start over.
    source.addEventListener('fault', (e) => {
      const f = JSON.parse((e as MessageEvent<string>).data) as { code: string, message: string }
      if (source === es) retry(`${f.code}: ${f.message}`)
    })
    // The ticket is spent, so EventSource's own reconnect cannot work: start over with a new one.
    source.onerror = () => { if (source === es) retry('the live connection dropped') }
  }

  void open()
  return () => {
    stopped = true
    clearTimeout(timer)
    es?.close()
  }
}
