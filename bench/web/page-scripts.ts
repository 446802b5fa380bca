// What the bench runs inside the page, as strings (the bench project has no DOM types): the
// browser's own clocks measure, the bench only reads the figures back.

/** Before any page script: the session token, and when the devices count first shows (performance.now()). */
export const prime = (token: string): string => `
  sessionStorage.setItem('lambkin.operatorToken', ${JSON.stringify(token)})
  window.__shown = null
  new MutationObserver((_, obs) => {
    if (window.__shown === null && /Showing [0-9,]+ of [0-9,]+ devices/.test(document.querySelector('.count')?.textContent ?? '')) {
      window.__shown = performance.now(); obs.disconnect()
    }
  }).observe(document, { subtree: true, childList: true, characterData: true })
`

/** Paint and load figures of the page's first load. */
export const LOAD_FIGURES = `(() => {
  const paint = Object.fromEntries(performance.getEntriesByType('paint').map((p) => [p.name, p.startTime]))
  const nav = performance.getEntriesByType('navigation')[0]
  const scripts = performance.getEntriesByType('resource').filter((r) => r.initiatorType === 'script' || r.name.endsWith('.js'))
  const css = performance.getEntriesByType('resource').filter((r) => r.name.endsWith('.css'))
  return {
    fcp: paint['first-contentful-paint'] ?? null,
    domContentLoaded: nav.domContentLoadedEventEnd,
    shown: window.__shown,
    jsEncoded: scripts.reduce((a, r) => a + r.encodedBodySize, 0),
    jsDecoded: scripts.reduce((a, r) => a + r.decodedBodySize, 0),
    cssEncoded: css.reduce((a, r) => a + r.encodedBodySize, 0)
  }
})()`

/**
 * Types `query` into the search box (or picks `status`) and measures, in the page, from the
 * input event to the frame after the table re-rendered: filter, render, layout and paint.
 */
export const filterOnce = (query: string, status: string): string => `new Promise((resolve) => {
  const search = document.querySelector('input[type="search"]')
  const select = [...document.querySelectorAll('select')].find((s) => s.closest('label')?.textContent.startsWith('Status'))
  const t0 = performance.now()
  search.value = ${JSON.stringify(query)}
  search.dispatchEvent(new Event('input', { bubbles: true }))
  select.value = ${JSON.stringify(status)}
  select.dispatchEvent(new Event('change', { bubbles: true }))
  requestAnimationFrame(() => setTimeout(() => resolve({ ms: performance.now() - t0, shown: document.querySelector('.count').textContent }), 0))
})`

/** The same search over the same rows with no page around it: Array.filter on the fleet's JSON. */
export const bareFilter = (query: string): string => `(async () => {
  const rows = (await (await fetch('v1/fleet', { headers: { authorization: 'Bearer ' + sessionStorage.getItem('lambkin.operatorToken') } })).json()).devices
  const times = []
  let n = 0
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now()
    n = rows.filter((r) => r.id.includes(${JSON.stringify(query)}) || (r.group ?? '').includes(${JSON.stringify(query)}) || (r.agent ?? '').includes(${JSON.stringify(query)}) || r.functions.some((f) => f.name.includes(${JSON.stringify(query)}))).length
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  return { ms: times[3], n }
})()`

/** From now on, when each "tick N" log line is first painted on the device page (wall clock, ms). */
export const RECORD_TICKS = `(() => {
  const marks = window.__ticks = {}
  new MutationObserver(() => {
    for (const li of document.querySelectorAll('.log-lines li')) {
      const m = /tick ([0-9]+)$/.exec(li.textContent)
      // Stamped after the frame that shows it is painted.
      if (m !== null && marks[m[1]] === undefined) { marks[m[1]] = 0; requestAnimationFrame(() => setTimeout(() => { marks[m[1]] = Date.now() }, 0)) }
    }
  }).observe(document.body, { subtree: true, childList: true, characterData: true })
})()`
