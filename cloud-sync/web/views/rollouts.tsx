// Rollouts: each with its progress (targeted, applied, failed, rolled back, waiting), rate and
// abort threshold, moving live; cancel a running one, or roll a function back on a device or a
// group, each behind a confirmation. The same API calls as lambkin rollout cancel / rollback.
import { useEffect, useState } from 'preact/hooks'
import type { RolloutLine } from '../../api/dashboard-types.js'
import { api, enc } from '../api.js'
import { ago, when } from '../format.js'
import { now, rollouts } from '../fleet-store.js'
import { deviceHref } from '../route.js'
import { ConfirmButton } from './confirm.js'

interface RolloutDevice { id: string, state: string, version?: string, code?: string, message?: string, at?: number, health?: string, watchLeftMs?: number }

/**
 * A rollout device's state in words: an applied one with its health verdict (in its health
 * window, healthy, or superseded: a newer rollout of the function came while its window was open).
 */
export function deviceStateText (d: RolloutDevice): string {
  if (d.state !== 'applied' || d.health === undefined) return d.state === 'rolled-back' ? 'rolled back' : d.state
  if (d.health === 'watching') return `applied, in health window${d.watchLeftMs === undefined ? '' : ` (${Math.ceil(d.watchLeftMs / 1000)} s left)`}`
  if (d.health === 'passed') return 'applied, healthy'
  return `applied, ${d.health === 'superseded' ? '↷ superseded in health window' : d.health}`
}
interface RolloutView extends RolloutLine { devices: RolloutDevice[], alreadyFinished?: boolean }

const STATE_WORDS: Record<string, string> = { running: '▶ running', done: '✓ done', aborted: '✗ aborted', cancelled: '■ cancelled', superseded: '↷ superseded' }

function waiting (r: RolloutLine): number {
  return r.counts.pending + r.counts.sent
}

export function progressText (r: RolloutLine): string {
  const c = r.counts
  const parts = [`${c.applied} of ${c.total} applied`, `${c.failed} failed`, `${c.rolledBack} rolled back`, `${waiting(r)} waiting`]
  if (c.offline > 0) parts.push(`${c.offline} offline`)
  if (c.skipped > 0) parts.push(`${c.skipped} skipped`)
  return parts.join(' · ')
}

function Bar ({ r }: { r: RolloutLine }) {
  const c = r.counts
  const pct = (n: number): string => `${c.total === 0 ? 0 : (n / c.total) * 100}%`
  return (
    <div class='bar' role='img' aria-label={progressText(r)}>
      <span class='seg seg-applied' style={{ width: pct(c.applied) }} />
      <span class='seg seg-failed' style={{ width: pct(c.failed) }} />
      <span class='seg seg-rolled' style={{ width: pct(c.rolledBack) }} />
      <span class='seg seg-offline' style={{ width: pct(c.offline) }} />
    </div>
  )
}

function Devices ({ r }: { r: RolloutLine }) {
  const [view, setView] = useState<RolloutView | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => { api<RolloutView>(`v1/rollouts/${enc(r.id)}`).then(setView, (e: Error) => setError(e.message)) }, [r.id, r.revision])
  if (error !== null) return <p class='error'>{error}</p>
  if (view === null) return <p>Loading…</p>
  return (
    <div class='wide'>
      <table class='plain'>
      <thead><tr><th scope='col'>Device</th><th scope='col'>State</th><th scope='col'>When</th><th scope='col'>Why</th></tr></thead>
      <tbody>{view.devices.slice(0, 500).map((d) => (
        <tr key={d.id}><td><a href={deviceHref(d.id)}>{d.id}</a></td><td class={`ro-state ro-${d.state}${d.health === undefined ? '' : ` ro-${d.health}`}`}>{deviceStateText(d)}</td><td title={when(d.at ?? null)}>{d.at === undefined ? '-' : ago(d.at, now.value)}</td><td>{d.code === undefined ? (d.message ?? '') : `${d.code}: ${d.message ?? ''}`}</td></tr>
      ))}
      </tbody>
      </table>
    </div>
  )
}

function Rollout ({ r }: { r: RolloutLine }) {
  const [open, setOpen] = useState(false)
  const target = r.to.startsWith('group:') ? `group ${r.to.slice(6)}` : `device ${r.to}`
  return (
    <li class={`rollout rollout-${r.state}`} aria-labelledby={`ro-${r.id}`}>
      <div class='rollout-head'>
        <h3 id={`ro-${r.id}`}>{r.id}: {r.kind === 'rollback' ? 'rollback of' : 'deploy'} {r.fn} v{r.number} to {target}</h3>
        <span class='rollout-state'>{STATE_WORDS[r.state] ?? r.state}</span>
      </div>
      <Bar r={r} />
      <p class='progress'>{progressText(r)}</p>
      <p class='rollout-facts'>
        {r.alias === 'canary' ? `canary at ${r.weight ?? '?'}% · ` : ''}
        rate {r.ratePerMin === null ? 'all at once' : `${r.ratePerMin} device${r.ratePerMin === 1 ? '' : 's'}/min`} · abort {r.abortAtPercent >= 100 ? 'never' : `at ${r.abortAtPercent}% failed or rolled back`} · started <span title={when(r.createdAt)}>{ago(r.createdAt, now.value)}</span>
        {r.reason !== null && <> · {r.reason}</>}
      </p>
      <div class='actions'>
        {r.state === 'running' && (
          <ConfirmButton
            label={`Cancel ${r.id}`} title={`Cancel rollout ${r.id}?`} confirmLabel={`Cancel ${r.id}`} danger
            onConfirm={async () => { const v = await api<RolloutView>(`v1/rollouts/${enc(r.id)}/cancel`, { method: 'POST', body: {} }); return v.alreadyFinished === true ? `${r.id} had already finished (${v.state})` : `${r.id} ${v.state}` }}
          >
            <p>Devices not yet reached keep their version. The {r.counts.applied} already on v{r.number} stay on it; roll them back separately.</p>
          </ConfirmButton>
        )}
        {r.kind === 'deploy' && <RollbackButton fn={r.fn} to={r.to} />}
        <button type='button' aria-expanded={open} onClick={() => setOpen(!open)}>{open ? 'Hide devices' : 'Show devices'}</button>
      </div>
      {open && <Devices r={r} />}
    </li>
  )
}

export function RollbackButton ({ fn, to }: { fn: string, to: string }) {
  const target = to.startsWith('group:') ? `group ${to.slice(6)}` : `device ${to}`
  return (
    <ConfirmButton
      label={`Roll back ${fn} on ${target}`} title={`Roll back ${fn} on ${target}?`} confirmLabel='Roll back' danger
      onConfirm={async () => { const v = await api<RolloutView>('v1/rollbacks', { method: 'POST', body: { fn, to } }); return `rollback ${v.id} started` }}
    >
      <p>Each device goes back to the newest earlier version of {fn} it applied and kept. Devices with none are skipped.</p>
    </ConfirmButton>
  )
}

function RollbackForm () {
  const [fn, setFn] = useState('')
  const [to, setTo] = useState('')
  const ok = /^[a-z0-9][a-z0-9_-]{0,62}$/.test(fn) && /^(group:)?[a-z0-9][a-z0-9_-]{0,62}$/.test(to)
  return (
    <form class='rollback-form' onSubmit={(e) => e.preventDefault()}>
      <label>Function <input value={fn} onInput={(e) => setFn((e.target as HTMLInputElement).value.trim())} /></label>
      <label>Device or group:name <input value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value.trim())} /></label>
      {ok ? <RollbackButton fn={fn} to={to} /> : <button type='button' disabled>Roll back</button>}
    </form>
  )
}

export function Rollouts () {
  const list = rollouts.value
  return (
    <section aria-labelledby='rollouts-h' class='rollouts'>
      <h2 id='rollouts-h'>Rollouts</h2>
      {list.length === 0 ? <p>No rollouts yet: start one with lambkin deploy &lt;fn-dir&gt; --to &lt;device|group:name&gt;.</p> : <ol class='rollout-list'>{list.map((r) => <Rollout key={r.id} r={r} />)}</ol>}
      <h3>Roll back a function</h3>
      <RollbackForm />
    </section>
  )
}
