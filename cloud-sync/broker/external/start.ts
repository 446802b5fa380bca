// The cloud's step that joins an external broker (cloud.ts, step 6): this instance's client
// id from its data folder, presence read from the registry, then the client itself.
import type { Registry } from '../../registry/index.js'
import type { DeviceTraffic } from '../device-channel.js'
import { connectExternalBroker } from './external-broker.js'
import type { ExternalBroker } from './external-broker.js'
import { instanceClientId } from './instance-id.js'

export interface ExternalChannelOptions extends DeviceTraffic {
  url: string
  caFile?: string
  sessionExpirySec?: number
  dataDir: string
  registry: Registry
  /** Device ages (registry/pg/seen.ts), for presence. */
  lastSeen: { nowFor: (id: string, lastSeen: number | undefined) => number }
  log: (line: string) => void
}

export async function startExternalChannel (o: ExternalChannelOptions): Promise<ExternalBroker> {
  return await connectExternalBroker({
    ...o,
    clientId: instanceClientId(o.dataDir),
    presence: { registry: o.registry, nowFor: (id, seen) => o.lastSeen.nowFor(id, seen) }
  })
}
