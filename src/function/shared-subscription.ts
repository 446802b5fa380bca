// MQTT 5 shared subscriptions (section 4.8.2): `$share/{ShareName}/{filter}` splits one stream
// of messages among the sessions subscribed with the same share name. Mosquitto and EMQX also
// accept them from MQTT 3.1.1 clients.

const PREFIX = '$share/'

/** A `$share/...` filter taken apart: the share name and the filter messages are matched against. */
export interface SharedFilter { share: string, filter: string }

/** True when `filter` asks for a shared subscription (it starts with `$share/`). */
export function isSharedFilter (filter: string): boolean {
  return filter.startsWith(PREFIX)
}

/**
 * Splits `$share/{ShareName}/{filter}`. Returns undefined for a filter that is not shared, and
 * throws a plain Error saying what is wrong for a malformed one: the share name must be at least
 * one character without "/", "+" or "#", and a topic filter must follow (MQTT 5 section 4.8.2).
 * The caller checks the returned filter with isValidTopicFilter().
 */
export function splitSharedFilter (filter: string): SharedFilter | undefined {
  if (!isSharedFilter(filter)) return undefined
  const rest = filter.slice(PREFIX.length)
  const slash = rest.indexOf('/')
  const share = slash < 0 ? rest : rest.slice(0, slash)
  if (share.length === 0) throw new Error('the share name after "$share/" is empty')
  if (share.includes('+') || share.includes('#')) throw new Error(`the share name ${JSON.stringify(share)} must not contain "+" or "#"`)
  if (slash < 0 || slash === rest.length - 1) throw new Error(`a topic filter must follow "$share/${share}/"`)
  return { share, filter: rest.slice(slash + 1) }
}

/** The filter a message's topic is matched against: without the `$share/{ShareName}/` prefix. */
export function matchingFilter (filter: string): string {
  return splitSharedFilter(filter)?.filter ?? filter
}
