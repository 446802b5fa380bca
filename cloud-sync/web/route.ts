// Which view is shown, from the address's hash: #/ (fleet), #/rollouts, #/device/<id>. A hash
// keeps every view on the one page the cloud serves, and the back button works.
import { signal } from '@preact/signals'

export type Route = { view: 'fleet' } | { view: 'rollouts' } | { view: 'device', id: string }

export function parseRoute (hash: string): Route {
  const h = hash.replace(/^#\/?/, '')
  if (h === 'rollouts') return { view: 'rollouts' }
  const m = /^device\/([a-z0-9][a-z0-9_-]{0,62})$/.exec(h)
  if (m !== null) return { view: 'device', id: m[1] }
  return { view: 'fleet' }
}

export const route = signal<Route>(parseRoute(location.hash))
addEventListener('hashchange', () => { route.value = parseRoute(location.hash) })

export const deviceHref = (id: string): string => `#/device/${id}`
