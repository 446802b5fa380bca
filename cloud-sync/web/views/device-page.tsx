// One device: its state and facts, what to do about a stream conflict, its functions (active against desired, with a rollback),
// charts per function over its metric snapshots, recent results and dead letters, a live log
// tail, and its deployment history. Everything reloads when the live stream says the device's
// row changed (new records move its high-water mark).
import { useEffect, useRef, useState } from 'preact/hooks'
import type { DeploymentsView, FleetRow, SeriesView } from '../../api/dashboard-types.js'
import { api, enc } from '../api.js'
import { ago, bytes, count, counted, version, when } from '../format.js'
import { now, rows, rowOf } from '../fleet-store.js'
import { Chart } from './chart.js'
import { ConflictPanel } from './conflict-panel.js'
import { LogTail } from './log-tail.js'
import { RollbackButton } from './rollouts.js'
import { StateBadge, TakeoverBadge } from './state-badge.js'

interface Rec { seq: number, kind: string, fn?: string, time: number, data: Record<string, unknown> | null }

/**
 * Loads `path` again whenever `key` changes, at most every 250 ms, and keeps the last answer.
 * A throttle, not a debounce: a key that changes more often than that (a busy device's row
 * moves with every refresh) must still reload, or the page would never show a new answer.
 */
function useReload<T> (path: string, key: string): { data: T | null, error: string | null } {
  const [state, setState] = useState<{ data: T | null, error: string | null }>({ data: null, error: null })
  const pending = useRef<{ timer: ReturnType<typeof setTimeout> | undefined, path: string }>({ timer: undefined, path })
  useEffect(() => {
    const p = pending.current
    const changedPath = p.path !== path
    p.path = path
    if (p.timer !== undefined && !changedPath) return
    if (p.timer !== undefined) clearTimeout(p.timer)
    p.timer = setTimeout(() => {
      p.timer = undefined
      const asked = p.path
      api<T>(asked).then(
        (data) => {
          if (p.path === asked) setState({ data, error: null })
        },
        (e: Error) => {
          if (p.path === asked) setState((s) => ({ data: s.data, error: e.message }))
        }
      )
    }, state.data === null ? 0 : 250)
  }, [path, key])
  useEffect(() => () => { if (pending.current.timer !== undefined) clearTimeout(pending.current.timer); pending.current.path = '' }, [])
  return state
}

function preview (r: Rec): string {
  const d = r.data
  if (r.kind === 'dead-letter') {
    const e = (d?.error ?? {}) as { code?: string, message?: string }
    return `${e.code ?? 'error'}: ${e.message ?? ''}`
  }
  const s = JSON.stringify(d !== null && 'result' in d ? d.result : d) ?? 'undefined'
  return s.length > 160 ? s.slice(0, 159) + '…' : s
}

function Facts ({ r }: { r: FleetRow }) {
  return (
    <dl class='facts'>
      <div>
        <dt>Status</dt>
        <dd>
          <StateBadge state={r.state} conflict={r.conflict} />
          {r.lastSeen !== null && (
            <>
              , last seen <span title={when(r.lastSeen)}>{ago(r.lastSeen, now.value)}</span>
            </>
          )}
        </dd>
      </div>
      {r.conflict !== null && (
        <div>
          <dt>Conflict</dt>
          <dd>{r.conflict}</dd>
        </div>
      )}
      {r.takeovers !== null && (
        <div>
          <dt>Takeovers of its connection</dt>
          <dd>
            <TakeoverBadge t={r.takeovers} now={now.value} />{r.takeovers.shared && <br />}
            {counted(r.takeovers.count, 'takeover')} in all, {count(r.takeovers.recent)} in the last 10 min, the last <span title={when(r.takeovers.lastAt)}>{ago(r.takeovers.lastAt, now.value)}</span>
          </dd>
        </div>
      )}
      <div>
        <dt>Group</dt>
        <dd>{r.group ?? '-'}</dd>
      </div>
      <div>
        <dt>Agent</dt>
        <dd>{r.agent ?? '-'}</dd>
      </div>
      <div>
        <dt>Outbox backlog</dt>
        <dd>{r.backlog === null ? '-' : `${counted(r.backlog.records, 'record')} (${bytes(r.backlog.bytes)})`}</dd>
      </div>
      <div>
        <dt>Uploaded today</dt>
        <dd>{bytes(r.uploadedToday)}</dd>
      </div>
      <div>
        <dt>Last hour</dt>
        <dd>
          {count(r.invocationsHour)} invocations, {count(r.errorsHour)} errors
        </dd>
      </div>
      <div>
        <dt>Deploying</dt>
        <dd>{r.applying ? 'yes: fetching, compiling or in a health window' : 'no'}</dd>
      </div>
    </dl>
  )
}

function Functions ({ r }: { r: FleetRow }) {
  if (r.functions.length === 0) return <p>No functions reported.</p>
  return (
    <div class='wide'>
      <table class='plain'>
      <thead><tr><th scope='col'>Function</th><th scope='col'>Active</th><th scope='col'>Desired</th><th scope='col'>Match</th><th scope='col'>Action</th></tr></thead>
      <tbody>{r.functions.map((f) => {
        const mismatch = f.desired !== null && f.desired !== f.version
        return (
          <tr key={f.name} class={mismatch ? 'row-mismatch' : undefined}>
            <th scope='row'>{f.name}</th>
            <td>{version(f.version, f.number)}{f.canary !== null && ` + canary ${f.canary.version.slice(0, 8)} at ${f.canary.weight}%`}</td>
            <td>{f.desired === null ? 'from the device’s folder' : version(f.desired, f.desiredNumber)}</td>
            <td>{mismatch ? <strong>⚠ mismatch</strong> : 'yes'}</td>
            <td>{f.desired !== null && <RollbackButton fn={f.name} to={r.id} />}</td>
          </tr>
        )
      })}
      </tbody>
      </table>
    </div>
  )
}

function Charts ({ s }: { s: SeriesView }) {
  const names = Object.keys(s.functions).sort()
  if (names.length === 0) return <p>No metric snapshots yet: a device sends one every metricsSnapshotMs (a minute by default).</p>
  return (
    <>{names.map((name) => {
      const f = s.functions[name]
      return (
        <section class='fn-charts' aria-label={`${name} charts`} key={name}>
          <h3>{name}</h3>
          <div class='chart-grid'>
            <Chart title='Invocations per snapshot' t={f.t} lines={[{ label: 'invocations', values: f.invocations }]} unit='calls' />
            <Chart title='Error rate' t={f.t} lines={[{ label: 'errors', values: f.errorRate }]} unit='%' />
            <Chart title='Duration' t={f.t} lines={[{ label: 'p50', values: f.p50 }, { label: 'p95', values: f.p95 }, { label: 'p99', values: f.p99 }]} unit='ms' />
            <Chart title='Memory high-water' t={f.t} lines={[{ label: 'memory', values: f.memoryBytes.map((b) => b === null ? null : Math.round(b / 1024)) }]} unit='KiB' />
          </div>
        </section>
      )
    })}
    </>
  )
}

function History ({ h }: { h: DeploymentsView }) {
  return (
    <>
      <p>{h.reported === null ? 'The device has not reported its deployments yet.' : `Acted on deployment ${h.reported.deploymentId}${h.reported.applying ? ', applying one now' : ''}; desired deployment ${h.desiredDeploymentId ?? 'none'}.`}</p>
      {h.history.length === 0
        ? <p>No deployments.</p>
        : (
          <div class='wide'><table class='plain history'>
            <thead><tr><th scope='col'>When</th><th scope='col'>Function</th><th scope='col'>Step</th><th scope='col'>Version</th><th scope='col'>Rollout</th><th scope='col'>Why</th></tr></thead>
            <tbody>{h.history.map((e, i) => (
              <tr key={i} class={`step-${e.step}`}>
                <td title={when(e.at)}>{ago(e.at, now.value)}</td><td>{e.fn}</td><td>{e.step.replace('-', ' ')}</td><td>{version(e.version, e.number)}</td>
                <td>{e.rollout ?? 'by the device'}</td><td>{e.code === null ? '' : `${e.code}: ${e.message ?? ''}`}</td>
              </tr>
            ))}
            </tbody>
                            </table>
          </div>
          )}
    </>
  )
}

export function DevicePage ({ id }: { id: string }) {
  void rows.value
  const r = rowOf(id)
  const hw = String(r?.highWater ?? 0)
  const rowKey = r === undefined ? '' : `${r.state} ${r.applying} ${JSON.stringify(r.functions)}`
  const series = useReload<SeriesView>(`v1/devices/${enc(id)}/series`, hw)
  const results = useReload<{ records: Rec[] }>(`v1/devices/${enc(id)}/records?kind=result,dead-letter&limit=30`, hw)
  const deployments = useReload<DeploymentsView>(`v1/devices/${enc(id)}/deployments`, rowKey)
  if (r === undefined) {
    return <section><h2>Device {id}</h2><p role='alert'>{series.error ?? 'Loading…'}</p><p><a href='#/'>Back to the fleet</a></p></section>
  }
  return (
    <article aria-labelledby='device-h' class='device'>
      <p><a href='#/'>← Fleet</a></p>
      <h2 id='device-h'>Device {id}</h2>
      <Facts r={r} />
      {r.conflict !== null && <ConflictPanel id={id} conflict={r.conflict} />}
      <section aria-labelledby='fns-h'><h2 id='fns-h'>Functions</h2><Functions r={r} /></section>
      <section aria-labelledby='charts-h'><h2 id='charts-h'>Metrics</h2>{series.data === null ? <p>{series.error ?? 'Loading…'}</p> : <Charts s={series.data} />}</section>
      <section aria-labelledby='deploy-h'><h2 id='deploy-h'>Deployment history</h2>{deployments.data === null ? <p>{deployments.error ?? 'Loading…'}</p> : <History h={deployments.data} />}</section>
      <section aria-labelledby='results-h'>
        <h2 id='results-h'>Recent results and dead letters</h2>
        {results.data === null
          ? <p>{results.error ?? 'Loading…'}</p>
          : results.data.records.length === 0
            ? <p>None yet.</p>
            : (
              <div class='wide'><table class='plain results'>
                <thead><tr><th scope='col'>Seq</th><th scope='col'>When</th><th scope='col'>Function</th><th scope='col'>Version</th><th scope='col'>Kind</th><th scope='col'>Result or error</th></tr></thead>
                <tbody>{results.data.records.map((x) => (
                  <tr key={x.seq} class={x.kind === 'dead-letter' ? 'dead' : undefined}>
                    <td>{x.seq}</td><td title={when(x.time)}>{ago(x.time, now.value)}</td><td>{x.fn ?? '-'}</td><td>{typeof x.data?.version === 'string' ? x.data.version.slice(0, 8) : '-'}</td>
                    <td>{x.kind === 'dead-letter' ? '✗ dead letter' : '✓ result'}</td><td><code>{preview(x)}</code></td>
                  </tr>
                ))}
                </tbody>
                                </table>
              </div>
              )}
      </section>
      <LogTail id={id} highWater={r.highWater} />
    </article>
  )
}
