// The keys the agent keeps in the store's meta, built in one place: each names who owns it.

/** Meta keys by owner. Each is stable on disk: renaming one forgets what older agents wrote. */
export const META_KEYS = Object.freeze({
  /** The last fire time a schedule trigger handled (device/triggers/schedule). */
  scheduleLastRun: (trigger: string): string => `schedule:${trigger}`,
  /** A batched MQTT trigger's records taken but not yet run (device/triggers/mqtt). */
  mqttBatch: (fn: string, triggerIndex: number): string => `batch:${fn}:${triggerIndex}`,
  /** The filters the trigger link subscribed to last (device/triggers/mqtt, retainHandling 1). */
  mqttSubscribed: 'mqtt:subscribed',
  /** Bytes the cloud link uploaded on the current UTC day (device/sync). */
  uploadDay: 'sync:day',
  /** The deployed functions' active set: one write of it is a deployment's swap point (device/deployer). */
  deployActive: 'deploy:active'
})
