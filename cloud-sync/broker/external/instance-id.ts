// This instance's name on the external broker: a client id kept in the data folder, so a
// restarted instance takes its persistent session back and the broker sends it again the
// uploads it had not acknowledged (MQTT 5 section 4.4). Each instance needs its own --data.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'

/** The file under the data folder that holds the id. */
export const INSTANCE_ID_FILE = 'instance-id'

/** `lambkin-cloud-<12 hex digits>`, made on the first start with the external broker. */
export function instanceClientId (dataDir: string): string {
  const file = join(dataDir, INSTANCE_ID_FILE)
  if (existsSync(file)) {
    const id = readFileSync(file, 'utf8').trim()
    if (/^lambkin-cloud-[0-9a-f]{12}$/.test(id)) return id
  }
  const id = `lambkin-cloud-${randomBytes(6).toString('hex')}`
  writeFileSync(file, id + '\n', { mode: 0o600 })
  return id
}
