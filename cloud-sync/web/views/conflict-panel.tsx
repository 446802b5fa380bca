// A device in stream conflict [W4]: what it means, what to do, and the button that clears it
// once its cause is fixed (POST /v1/devices/:id/clear-conflict, as `lambkin devices
// clear-conflict` does). The rules behind it: docs/durability.md, "Two boards cloned from one image".
import { api, enc } from '../api.js'
import { ConfirmButton } from './confirm.js'

interface Cleared { id: string, cleared: { count: number } | null }

export function ConflictPanel ({ id, conflict }: { id: string, conflict: string }) {
  return (
    <section aria-labelledby='conflict-h' class='conflict-panel'>
      <h2 id='conflict-h'><span aria-hidden='true'>⚠ </span>Stream conflict</h2>
      <p>
        The cloud refuses this device's uploads (<code>LAMBKIN_STREAM_CONFLICT</code>: {conflict}): records came under
        sequence numbers it already holds with other contents. Two boards are using the id <strong>{id}</strong> (a cloned
        SD card), or a board runs on a copy of another's data folder. Nothing was deleted on either board: each keeps what
        the cloud refused, and the refused board tries again at most every 10 minutes.
      </p>
      <h3>What to do</h3>
      <ol>
        <li>
          Find the second board. Give it its own id: <code>lambkin devices add &lt;new-id&gt;</code>, then a new config (id and
          secret) on that board; its records then upload under the new id.
        </li>
        <li>A board running on a copied data folder: stop it, give it its own id the same way, or move the copy aside.</li>
        <li>Then clear the conflict. If both boards still run under this id, it shows again at the next refused batch.</li>
      </ol>
      <ConfirmButton
        label='Clear the conflict' title={`Clear the conflict of ${id}?`} confirmLabel='Clear the conflict'
        onConfirm={async () => {
          const r = await api<Cleared>(`v1/devices/${enc(id)}/clear-conflict`, { method: 'POST' })
          return r.cleared === null ? 'no conflict was held' : 'conflict cleared'
        }}
      >
        <p>
          Do this once the second board has its own id or is stopped. Records and streams stay as they are; the device stops
          showing the conflict until the cloud refuses another batch.
        </p>
      </ConfirmButton>
    </section>
  )
}
