// The page's frame: the login until a token is accepted, then a header (views, live state,
// sign out) and the view the address names. The live stream runs while signed in.
import { useEffect } from 'preact/hooks'
import { liveProblem, liveState, startLive } from '../live.js'
import { loaded, resetFleet, summary } from '../fleet-store.js'
import { route } from '../route.js'
import { signOut, token } from '../session.js'
import { DevicePage } from './device-page.js'
import { DevicesTable } from './devices-table.js'
import { Login } from './login.js'
import { Rollouts } from './rollouts.js'
import { Summary } from './summary.js'

const LIVE_WORDS = { connecting: 'connecting…', live: '● live', reconnecting: '○ reconnecting…' }

function Shell () {
  useEffect(() => startLive(), [])
  const r = route.value
  const s = summary.value
  return (
    <>
      <a class='skip' href='#main'>Skip to content</a>
      <header class='top'>
        <h1><a href='#/'>lambkin fleet</a></h1>
        <nav aria-label='views'>
          <a href='#/' aria-current={r.view === 'fleet' ? 'page' : undefined}>Devices</a>
          <a href='#/rollouts' aria-current={r.view === 'rollouts' ? 'page' : undefined}>Rollouts{s !== null && s.rolloutsRunning > 0 ? ` (${s.rolloutsRunning} running)` : ''}</a>
        </nav>
        <span class={`live live-${liveState.value}`} role='status' title={liveProblem.value ?? ''}>{LIVE_WORDS[liveState.value]}</span>
        <button type='button' onClick={() => { resetFleet(); signOut(null) }}>Sign out</button>
      </header>
      <main id='main' tabIndex={-1}>
        {!loaded.value
          ? <p>Loading the fleet…{liveProblem.value !== null && ` (${liveProblem.value})`}</p>
          : r.view === 'device'
            ? <DevicePage key={r.id} id={r.id} />
            : r.view === 'rollouts'
              ? <Rollouts />
              : <>{s !== null && <Summary s={s} />}<DevicesTable /></>}
      </main>
    </>
  )
}

export function App () {
  return token.value === null ? <Login /> : <Shell />
}
