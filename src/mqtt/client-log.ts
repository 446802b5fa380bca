// MQTT.js logs through the `debug` package about four times per packet it sends or receives,
// and each of those is a call and a namespace check even when nothing is printed: 1-2% of the
// agent's main-thread CPU under the relay bench (docs/performance.md, "The relay job").

/** A logger that drops everything. */
const silent = (): void => {}

/**
 * MQTT.js's `log` client option: a no-op when the DEBUG environment variable is unset or
 * empty (then `debug` could print nothing anyway), undefined otherwise so MQTT.js keeps its
 * own `debug('mqttjs:client')` and `DEBUG=mqttjs*` works as MQTT.js documents it.
 */
export function mqttClientLog (env: NodeJS.ProcessEnv = process.env): ((...args: unknown[]) => void) | undefined {
  return (env.DEBUG ?? '') === '' ? silent : undefined
}
