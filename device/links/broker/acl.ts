// Topic filter rules for the embedded broker's per-user grants: whether a grant allows a
// publish to a topic, and whether it covers every topic a requested subscription could match.
// Matching follows MQTT 3.1.1 section 4.7 (wildcards) including 4.7.2: a filter starting with
// a wildcard never matches a topic starting with `$`, so `#` does not grant `$SYS/#`.
import { isValidTopicFilter, topicMatches } from '../../../src/function/index.js'

/** Why a filter is not a valid MQTT topic filter (section 4.7.1), or undefined when it is. */
export function filterProblem (filter: string): string | undefined {
  return isValidTopicFilter(filter) ? undefined : 'is not a valid MQTT topic filter (non-empty, at most 65,535 bytes, no NUL, "#" only as the whole last level, "+" only as a whole level)'
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
