// A new site's Mosquitto dynamic-security file and config lines (`lambkin broker dynsec-init`,
// docs/brokers.md): the cloud's client with the cloud and admin roles of dynsec-roles.ts, and
// defaults that deny what no role grants. Device clients are added later by the cloud itself.
import { existsSync } from 'node:fs'
import { pbkdf2Sync, randomBytes } from 'node:crypto'
import { adminAcls, CLOUD_SHARE_GROUP, cloudAcls, DYNSEC_DEFAULT_ACCESS, DYNSEC_NAMES } from './dynsec-roles.js'
import type { DynsecAcl } from './dynsec-roles.js'

/**
 * How the plugin stores a password (Mosquitto 2.0 plugins/dynamic-security/auth.c and
 * src/password_mosq.h): PBKDF2-HMAC-SHA512 over a 12-byte salt, 64 bytes, both base64.
 * 101 iterations is Mosquitto's own default; the secrets here are 256 random bits, which no
 * work factor makes stronger.
 */
export const DYNSEC_PASSWORD = Object.freeze({ saltBytes: 12, hashBytes: 64, iterations: 101, digest: 'sha512' })

export interface DynsecClientEntry {
  username: string
  textname?: string
  /** PBKDF2 hash and salt, base64 (DYNSEC_PASSWORD). */
  password: string
  salt: string
  iterations: number
  roles: Array<{ rolename: string }>
}

/** A client entry of the plugin's file with `password` hashed as the plugin checks it. */
export function dynsecClientEntry (username: string, password: string, roles: string[], textname?: string): DynsecClientEntry {
  const salt = randomBytes(DYNSEC_PASSWORD.saltBytes)
  const hash = pbkdf2Sync(password, salt, DYNSEC_PASSWORD.iterations, DYNSEC_PASSWORD.hashBytes, DYNSEC_PASSWORD.digest)
  return { username, ...(textname === undefined ? {} : { textname }), password: hash.toString('base64'), salt: salt.toString('base64'), iterations: DYNSEC_PASSWORD.iterations, roles: roles.map((rolename) => ({ rolename })) }
}

export interface DynsecFile {
  defaultACLAccess: typeof DYNSEC_DEFAULT_ACCESS
  clients: DynsecClientEntry[]
  roles: Array<{ rolename: string, textname: string, acls: DynsecAcl[] }>
  groups: []
}

/** The plugin's file for a new site: the cloud client (`lambkin.cloud`, both roles) with `password`. */
export function dynsecFile (password: string, share = CLOUD_SHARE_GROUP): DynsecFile {
  return {
    defaultACLAccess: DYNSEC_DEFAULT_ACCESS,
    clients: [dynsecClientEntry(DYNSEC_NAMES.cloudClient, password, [DYNSEC_NAMES.cloudRole, DYNSEC_NAMES.adminRole], 'lambkin cloud instances')],
    roles: [
      { rolename: DYNSEC_NAMES.cloudRole, textname: 'lambkin cloud: device uploads in, downlinks out', acls: cloudAcls(share) },
      { rolename: DYNSEC_NAMES.adminRole, textname: 'lambkin cloud: manages device clients through dynamic security', acls: adminAcls() }
    ],
    groups: []
  }
}

/** Debian's and Raspberry Pi OS's paths of the plugin, by Node's arch; the first that exists wins. */
const PLUGIN_PATHS: Readonly<Record<string, string>> = Object.freeze({
  x64: '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so',
  arm64: '/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so',
  arm: '/usr/lib/arm-linux-gnueabihf/mosquitto_dynamic_security.so'
})

/** Where the plugin is on this machine (or would be, on Debian for this architecture). */
export function defaultPluginPath (arch: string = process.arch): string {
  const found = Object.values(PLUGIN_PATHS).find((p) => existsSync(p))
  return found ?? PLUGIN_PATHS[arch] ?? PLUGIN_PATHS.x64
}

export interface ConfOptions {
  /** The absolute path of the dynamic-security file Mosquitto reads and rewrites. */
  dynsecFile: string
  plugin: string
  /** The listener for devices and cloud instances; none: the config has its own. */
  listener?: { host: string, port: number }
}

/** Lines for mosquitto.conf (Mosquitto 2; a file in /etc/mosquitto/conf.d on Debian): a listener, no anonymous clients, the plugin. */
export function mosquittoConf (o: ConfOptions): string {
  return [
    '# lambkin: Mosquitto 2 with dynamic security (lambkin broker dynsec-init; docs/brokers.md).',
    '# Device clients are added, re-keyed and deleted by `lambkin cloud --broker-admin`.',
    '# A user name the plugin does not know is refused (and with it a revoked device).',
    'allow_anonymous false',
    ...(o.listener === undefined ? [] : [`listener ${o.listener.port} ${o.listener.host}`]),
    `plugin ${o.plugin}`,
    '# Mosquitto rewrites this file on every change: the broker\'s user must be able to write its folder.',
    `plugin_opt_config_file ${o.dynsecFile}`,
    '# Devices keep persistent sessions: keep Debian\'s `persistence true` in mosquitto.conf.',
    '# Small packets (a trigger\'s PUBACK, a QoS 0 publish) leave at once, not after the peer\'s',
    '# delayed ACK (up to 40 ms on Linux): a relay\'s QoS 0 replies stalled on it (docs/brokers.md).',
    'set_tcp_nodelay true',
    ''
  ].join('\n')
}
