// MQTT topic filters and names: validity per MQTT 3.1.1/5 section 4.7, and matching (`+` one
// level, `#` this level and all below; a `$` topic is not matched by a leading wildcard).

const MAX_TOPIC_BYTES = 65535

function sizeOk (s: string): boolean {
  // Cheap first: a string of at most 16383 UTF-16 units is at most 65535 UTF-8 bytes.
  return s.length <= 16383 || Buffer.byteLength(s) <= MAX_TOPIC_BYTES
}

/** A subscription filter: non-empty, no NUL, `#` only alone as the last level, `+` only alone in a level. */
export function isValidTopicFilter (filter: unknown): filter is string {
  if (typeof filter !== 'string' || filter.length === 0 || filter.includes('\u0000') || !sizeOk(filter)) return false
  const levels = filter.split('/')
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]
    if (l.includes('#') && (l !== '#' || i !== levels.length - 1)) return false
    if (l.includes('+') && l !== '+') return false
  }
  return true
}

/** A topic to publish to: non-empty, no wildcards, no NUL. */
export function isValidTopicName (topic: unknown): topic is string {
  return typeof topic === 'string' && topic.length > 0 && !topic.includes('+') && !topic.includes('#') &&
    !topic.includes('\u0000') && sizeOk(topic)
}

/**
 * True when `topic` is delivered to a subscription on `filter`. The filter is assumed valid
 * (manifests are checked on load); a topic that is not a valid name (wildcards, empty) matches
 * nothing, so a publish check built on this cannot be fooled by `ctx.publish('alarms/#')`.
 */
export function topicMatches (filter: string, topic: string): boolean {
  if (!isValidTopicName(topic)) return false
  return levelsMatch(filter.split('/'), topic.split('/'))
}

/**
 * topicMatches() on filter and topic already split at '/', for a router that matches one
 * topic against many filters: the caller checks the topic with isValidTopicName() once.
 */
export function levelsMatch (f: readonly string[], t: readonly string[]): boolean {
  if (t[0].startsWith('$') && (f[0] === '+' || f[0] === '#')) return false
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true
    if (i >= t.length) return false
    if (f[i] !== '+' && f[i] !== t[i]) return false
  }
  return f.length === t.length
}
