// Topic filter rules for the embedded broker's per-user grants: whether a grant allows a
// publish to a topic, and whether it covers every topic a requested subscription could match.
// Matching follows MQTT 3.1.1 section 4.7 (wildcards) including 4.7.2: a filter starting with
// a wildcard never matches a topic starting with `$`, so `#` does not grant `$SYS/#`.

/** Why a filter is not a valid MQTT topic filter (section 4.7.1), or undefined when it is. */
export function filterProblem (filter: string): string | undefined {
  if (filter.length === 0) return 'is empty'
  if (Buffer.byteLength(filter) > 65_535) return 'is over 65,535 bytes'
  if (filter.includes('\0')) return 'contains NUL'
  const levels = filter.split('/')
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i] as string
    if (l.includes('#') && (l !== '#' || i !== levels.length - 1)) return 'has "#" that is not the whole last level'
    if (l.includes('+') && l !== '+') return 'has "+" that is not a whole level'
  }
  return undefined
}

/** Does `filter` match the topic name `topic` (no wildcards in `topic`)? */
export function topicMatches (filter: string, topic: string): boolean {
  const f = filter.split('/')
  const t = topic.split('/')
  if (topic.startsWith('$') && (f[0] === '#' || f[0] === '+')) return false
  for (let i = 0; i < f.length; i++) {
    const level = f[i]
    if (level === '#') return true
    if (i >= t.length) return false
    if (level !== '+' && level !== t[i]) return false
  }
  return f.length === t.length
}

/**
 * Does `grant` match every topic that `requested` can match? `a/#` covers `a`, `a/+/b` and
 * `a/#`; `a/+` covers `a/b` but not `a/#`; `#` covers everything except `$`-topics.
 */
export function filterCovers (grant: string, requested: string): boolean {
  const g = grant.split('/')
  const r = requested.split('/')
  // A filter reaches `$` topics only by naming them, and then needs a grant that names them.
  if (requested.startsWith('$') && (g[0] === '#' || g[0] === '+')) return false
  for (let i = 0; i < g.length; i++) {
    const gl = g[i] as string
    if (gl === '#') return true
    if (i >= r.length) return false
    const rl = r[i] as string
    if (rl === '#') return false
    if (gl === '+') continue
    if (rl === '+' || rl !== gl) return false
  }
  return g.length === r.length
}

/** What one client may do once authenticated. */
export interface Grants {
  publish: readonly string[]
  subscribe: readonly string[]
  /** May set the RETAIN flag on a PUBLISH (or its will). */
  retain: boolean
}

/** Everything, including `$SYS/#`: the open broker of `broker.allowAnonymous` and of loopback without users. */
export const ALL_GRANTS: Grants = Object.freeze({ publish: Object.freeze(['#']), subscribe: Object.freeze(['#', '$SYS/#']), retain: true })

export function mayPublish (g: Grants, topic: string): boolean {
  return g.publish.some((f) => topicMatches(f, topic))
}

export function maySubscribe (g: Grants, filter: string): boolean {
  return g.subscribe.some((f) => filterCovers(f, filter))
}
