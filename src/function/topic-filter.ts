// MQTT topic filters and names: validity per MQTT 3.1.1/5 sections 1.5.4 and 4.7, lambkin's
// reserved trees, and matching (`+` one level, `#` this level and all below; a `$` topic is
// not matched by a leading wildcard). The rules here are the only copy: the sandbox prelude
// embeds topicProblem() and reservedTopicProblem() verbatim (see src/sandbox/prelude.ts), so
// they use nothing but string indexing, comparisons and the `codeAt` they are handed.

/**
 * Why `topic` is not a topic name (`filter` false) or topic filter (`filter` true) that a
 * broker accepts, or undefined when it is fine. Rules, MQTT 5.0 (3.1.1 has the same ones):
 * - 1.5.4: a UTF-8 string of at most 65,535 bytes, well-formed (no lone UTF-16 surrogates),
 *   no U+0000; the control characters U+0001-U+001F and U+007F-U+009F and the Unicode
 *   non-characters (U+FDD0-U+FDEF, U+nFFFE, U+nFFFF) "SHOULD NOT" appear and a receiver may
 *   drop the connection for them (Mosquitto does), so they are refused too;
 * - 4.7.3: at least one character;
 * - 3.3.2.1 / 4.7.1: a name carries no `+` or `#`; in a filter `#` stands alone as the last
 *   level and `+` stands alone in its level.
 * `codeAt(s, i)` is the UTF-16 unit at i (String.prototype.charCodeAt, or a copy taken before
 * user code ran when this runs inside a sandbox).
 */
export function topicProblem (topic: unknown, filter: boolean, codeAt: (s: string, i: number) => number): string | undefined {
  if (typeof topic !== 'string') return 'is not a string'
  const n = topic.length
  if (n === 0) return 'is empty (MQTT 5 section 4.7.3)'
  // Each UTF-16 unit is at least one UTF-8 byte: no need to look further.
  if (n > 65535) return 'is over the 65,535 UTF-8 bytes an MQTT string can hold (MQTT 5 section 1.5.4)'
  // A local, not a module constant: this function's source is embedded in the prelude alone.
  const CONTROL = 'contains a control character (U+0000-U+001F or U+007F-U+009F; MQTT 5 section 1.5.4)'
  let bytes = 0
  let levelStart = 0
  for (let i = 0; i < n; i++) {
    const ch = topic[i]
    if (ch < '\u0080') {
      bytes += 1
      if (ch < ' ' || ch === '\u007f') return CONTROL
      if (ch === '+' || ch === '#') {
        if (!filter) return 'contains the wildcard "' + ch + '"; a topic name may not (MQTT 5 section 3.3.2.1)'
        const alone = i === levelStart && (i + 1 === n || topic[i + 1] === '/')
        if (!alone || (ch === '#' && i + 1 !== n)) return 'has a misplaced "' + ch + '": "+" must fill a level and "#" must be the whole last level (MQTT 5 section 4.7.1)'
      } else if (ch === '/') levelStart = i + 1
      continue
    }
    const c = codeAt(topic, i)
    if (c <= 0x9f) return CONTROL
    if (c >= 0xd800 && c <= 0xdbff) {
      const lo = i + 1 < n ? codeAt(topic, i + 1) : 0
      if (lo < 0xdc00 || lo > 0xdfff) return 'is not well-formed UTF-16 (a lone surrogate at ' + i + '; MQTT 5 section 1.5.4)'
      // U+nFFFE and U+nFFFF of planes 1-16 end each run of 64 high surrogates.
      if ((c & 0x3f) === 0x3f && lo >= 0xdffe) return 'contains a Unicode non-character (MQTT 5 section 1.5.4)'
      bytes += 4
      i++
      continue
    }
    if (c >= 0xdc00 && c <= 0xdfff) return 'is not well-formed UTF-16 (a lone surrogate at ' + i + '; MQTT 5 section 1.5.4)'
    if ((c >= 0xfdd0 && c <= 0xfdef) || c >= 0xfffe) return 'contains a Unicode non-character (MQTT 5 section 1.5.4)'
    bytes += c < 0x800 ? 2 : 3
  }
  if (bytes > 65535) return 'is ' + bytes + ' UTF-8 bytes, over the 65,535 an MQTT string can hold (MQTT 5 section 1.5.4)'
  return undefined
}

/**
 * Why a function may not publish to `topic` whatever its grants say, or undefined. `$` topics
 * belong to the broker (MQTT 5 section 4.7.2: "applications cannot use a topic with a leading
 * $ character for their own purposes"); the `lambkin/` tree belongs to the agent's cloud link.
 */
export function reservedTopicProblem (topic: string): string | undefined {
  if (topic[0] === '$') return 'topics starting with "$" are reserved for the broker (MQTT 5 section 4.7.2)'
  if (topic.length >= 7 && topic[0] === 'l' && topic[1] === 'a' && topic[2] === 'm' && topic[3] === 'b' && topic[4] === 'k' &&
    topic[5] === 'i' && topic[6] === 'n' && (topic.length === 7 || topic[7] === '/')) {
    return 'the lambkin/ topic tree is reserved for the agent\'s cloud link'
  }
  return undefined
}

const charCodeAt = (s: string, i: number): number => s.charCodeAt(i)

/** A subscription filter a broker accepts (topicProblem() with filter rules). */
export function isValidTopicFilter (filter: unknown): filter is string {
  return topicProblem(filter, true, charCodeAt) === undefined
}

/** Why `filter` is not a subscription filter a broker accepts (topicProblem() with filter rules), or undefined. */
export function topicFilterProblem (filter: unknown): string | undefined {
  return topicProblem(filter, true, charCodeAt)
}

/** A topic name a broker accepts for PUBLISH (topicProblem() with name rules). */
export function isValidTopicName (topic: unknown): topic is string {
  return topicProblem(topic, false, charCodeAt) === undefined
}

/** topicProblem() for a name, with the host's charCodeAt. */
export function topicNameProblem (topic: unknown): string | undefined {
  return topicProblem(topic, false, charCodeAt)
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
