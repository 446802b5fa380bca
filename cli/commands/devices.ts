// `lambkin devices`: the fleet's devices through the operator API: list, add (prints the
// device's secret once; the cloud keeps only its scrypt hash), rotate (a new secret; the old one
// is cut off at once, the device keeps its id, records and deployments), clear-conflict (a
// stream conflict dealt with stops showing), revoke (cuts it off for good). With `lambkin cloud --broker-admin` the cloud does the same on an external
// Mosquitto's dynamic security (docs/brokers.md); a broker that does not follow is
// LAMBKIN_BROKER_ADMIN_FAILED with what to run.
import type { CliIo } from '../io.js'
import { ApiClient, pathPart } from '../api-client.js'
import type { ApiTarget } from '../api-client.js'
import { apiOptions, command, intOption, runProgram } from '../program.js'
import { DEVICE_PAGES } from '../../cloud-sync/api/device-pages.js'
import { PAGE_OPTIONS, nextHint, readDevices } from '../device-pages.js'
import type { PageAnswer, PageFlags } from '../device-pages.js'
import type { Run } from '../program.js'
import { table, when } from '../table.js'
import type { ClearConflictAnswer } from '../../cloud-sync/api/conflict-route.js'

interface DeviceView { id: string, group: string | null, state: string, lastSeen: number | null, agent: string | null, highWater: number }

export async function devicesCommand (argv: string[], io: CliIo): Promise<number> {
  const run: Run = { code: 0 }
  let json = false
  const program = command('lambkin devices', io)
    .description('Lists the devices the cloud knows, in id order, every page of them unless --limit or --after asks for one (or adds, rotates the secret of, clears a conflict of, and revokes them).')
    // Options after `add`, `rotate` or `revoke` belong to that subcommand.
    .enablePositionalOptions()
  apiOptions(program
    .option('--limit <n>', PAGE_OPTIONS.limit, intOption('--limit', 1, DEVICE_PAGES.maxLimit))
    .option('--after <id>', PAGE_OPTIONS.after)).action(async (f: ApiTarget & PageFlags & { json?: boolean }) => {
    json = f.json === true
    const { devices, next, paged } = await readDevices<DeviceView, PageAnswer<DeviceView>>(new ApiClient(f), '/v1/devices', f, io, 'lambkin devices')
    // One page asked for: `next` says where the following one starts (null: none).
    if (json) { io.stdout(JSON.stringify(paged ? { devices, next } : { devices }) + '\n'); return }
    io.stdout(table(['DEVICE', 'GROUP', 'STATE', 'LAST SEEN', 'AGENT', 'HIGH-WATER'], devices.map((d) => [d.id, d.group ?? '-', d.state, when(d.lastSeen), d.agent ?? '-', String(d.highWater)])))
    io.stderr(nextHint('lambkin devices', next, f.limit))
  })
  apiOptions(program.command('add <id>')
    .description('Registers a device and prints its secret once (configure it as the device\'s cloud.password / LAMBKIN_CLOUD_PASSWORD).')
    .option('--group <group>', 'the device group, for deployments to group:<name>'))
    .action(async (id: string, f: ApiTarget & { group?: string, json?: boolean }) => {
      json = f.json === true
      const d = await new ApiClient(f).call<{ id: string, group: string | null, secret: string }>('POST', '/v1/devices', { id, group: f.group })
      if (json) io.stdout(JSON.stringify(d) + '\n')
      else io.stdout(`device ${d.id} added${d.group === null ? '' : ` to group ${d.group}`}\nsecret: ${d.secret}\n(shown once: the cloud keeps only its hash)\n`)
    })
  apiOptions(program.command('rotate <id>')
    .description('Gives a device a new secret, printed once, and cuts the old one off at once: a connection using it is closed and its reconnects refused. The device keeps its id, records, history and deployments; configure the new secret on the board (cloud.password / LAMBKIN_CLOUD_PASSWORD).'))
    .action(async (id: string, f: ApiTarget & { json?: boolean }) => {
      json = f.json === true
      const r = await new ApiClient(f).call<{ id: string, secret: string, rotatedAt: number }>('POST', `/v1/devices/${pathPart(id, 'device id')}/rotate`)
      if (json) io.stdout(JSON.stringify(r) + '\n')
      else io.stdout(`device ${r.id}: new secret (the old one no longer works, and its connection was closed)\nsecret: ${r.secret}\n(shown once: the cloud keeps only its hash; set it as the board's cloud.password)\n`)
    })
  apiOptions(program.command('clear-conflict <id>')
    .description('Once a stream conflict is dealt with (the clone has its own id, or the copied data folder is gone), clears it so the device no longer shows conflict. Records and streams stay as they are; if both boards still run, the next batch the cloud refuses shows it again (docs/durability.md).'))
    .action(async (id: string, f: ApiTarget & { json?: boolean }) => {
      json = f.json === true
      const r = await new ApiClient(f).call<ClearConflictAnswer>('POST', `/v1/devices/${pathPart(id, 'device id')}/clear-conflict`)
      if (json) { io.stdout(JSON.stringify(r) + '\n'); return }
      const c = r.cleared
      io.stdout(c === null
        ? `device ${r.id} holds no conflict\n`
        : `device ${r.id}: conflict cleared (${c.count} batch${c.count === 1 ? '' : 'es'} of outbox stream ${c.stream} refused from ${when(c.firstAt)} to ${when(c.lastAt)}, seq ${c.seq} differing); if both boards still run, the next refused batch shows it again\n`)
    })
  apiOptions(program.command('revoke <id>')
    .description('Cuts a device off at once: its live connection is closed and its next connect refused (also on an external Mosquitto managed with lambkin cloud --broker-admin, where its client and role are deleted).'))
    .action(async (id: string, f: ApiTarget & { json?: boolean }) => {
      json = f.json === true
      const r = await new ApiClient(f).call<{ id: string, revokedAt: number }>('POST', `/v1/devices/${pathPart(id, 'device id')}/revoke`)
      io.stdout(json ? JSON.stringify(r) + '\n' : `device ${r.id} revoked\n`)
    })
  return await runProgram(program, argv, io, run, () => json)
}
