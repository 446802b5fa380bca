// The fleet summary: devices by state, functions running, invocations and errors per minute
// (with the last hour as a chart), the outbox backlog waiting to sync, and bytes uploaded today.
import type { FleetSummary } from '../../api/dashboard-types.js'
import { bytes, count, counted } from '../format.js'
import { Chart } from './chart.js'

function Figure ({ label, value, detail, href }: { label: string, value: string, detail?: string, href?: string }) {
  const body = (
    <>
      <span class='figure-value'>{value}</span>
      <span class='figure-label'>{label}</span>
      {detail !== undefined && <span class='figure-detail'>{detail}</span>}
    </>
  )
  return <li class='figure'>{href === undefined ? body : <a href={href}>{body}</a>}</li>
}

export function Summary ({ s }: { s: FleetSummary }) {
  const d = s.devices
  return (
    <section aria-labelledby='summary-h' class='summary'>
      <h2 id='summary-h'>Fleet</h2>
      <ul class='figures'>
        <Figure label='online' value={count(d.online)} detail={`of ${count(d.total)} devices`} />
        <Figure label='stale' value={count(d.stale)} detail='heartbeats stopped' />
        <Figure label='offline' value={count(d.offline)} detail={d.neverSeen + d.revoked > 0 ? `${count(d.neverSeen)} never seen, ${count(d.revoked)} revoked` : undefined} />
        <Figure label='in conflict' value={count(d.conflict)} detail='two boards on one id' />
        <Figure label='ids shared' value={count(d.shared)} detail='connections taking over each other' />
        <Figure label='functions running' value={count(s.functionsRunning)} detail={`${count(s.functionNames)} distinct`} />
        <Figure label='invocations / min' value={count(s.perMinute.invocations)} detail={`last ${s.perMinute.windowMinutes} min`} />
        <Figure label='errors / min' value={count(s.perMinute.errors)} detail={`last ${s.perMinute.windowMinutes} min`} />
        <Figure label='outbox backlog' value={counted(s.backlog.records, 'record')} detail={bytes(s.backlog.bytes)} />
        <Figure label='uploaded today' value={bytes(s.uploadedToday)} />
        <Figure label='rollouts running' value={count(s.rolloutsRunning)} href='#/rollouts' />
      </ul>
      <Chart title='Fleet invocations and errors per minute, last hour' t={s.series.minutes} lines={[{ label: 'invocations', values: s.series.invocations }, { label: 'errors', values: s.series.errors }]} unit='/min' height={120} />
    </section>
  )
}
