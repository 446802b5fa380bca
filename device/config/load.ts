// Loads the agent's configuration: defaults < config file < LAMBKIN_* env vars < CLI flags,
// every value checked against its clamp, errors naming the key and where the value came from.
import { constants } from 'node:fs'
import { access } from 'node:fs/promises'
import { resolve } from 'node:path'
import { checkBrokerAccess } from './broker.js'
import { DEVICE_DEFAULTS, SMALL_RAM_DEFAULTS, deviceIdFromHostname } from './defaults.js'
import { memoryProfile } from './memory-profile.js'
import { ErrorCodes, errorMessage, LambkinError } from '../../src/errors.js'
import { readConfigFile, suggestion } from './file.js'
import type { Assignment } from './file.js'
import { camelCase, CONFIG_FILE_KEY, ENV_VARS, FLAGS, OTHER_ENV_VARS } from './names.js'
import { fieldAt, parseValue, refuseControl } from './schema.js'
import type { Field } from './schema.js'
import { configError } from './source.js'
import type { Source } from './source.js'
import type { BrokerConnectionConfig, DeviceConfig } from './types.js'
import { deepFreeze } from '../../src/deep-freeze.js'
import { readTrustedKey } from '../../src/bundle/index.js'

export interface LoadDeviceConfigOptions {
  /** Config file used when neither --config nor LAMBKIN_CONFIG names one. */
  file?: string
  /** Values from node:util parseArgs; flags that are not config keys are ignored. */
  flags?: Record<string, string | boolean | undefined>
  /** process.env by default; an empty value counts as unset. */
  env?: NodeJS.ProcessEnv
  /** Where relative paths from flags, env and the defaults resolve; process.cwd() by default. */
  cwd?: string
  /** The host name the default device id is made from; os.hostname() by default. */
  hostname?: string
  /** `--trust <file.pub>` (repeatable): added to trustedKeys, relative to cwd. */
  trust?: readonly string[]
  /** process.arch by default: on arm and arm64 the small-RAM profile's defaults apply (memory-profile.ts). */
  arch?: string
  /**
   * Set: the id must come from the file, env or a flag, not from the host name; the text says
   * why (container.ts: in a container the host name is the container's id).
   */
  idRequired?: string
}

/**
 * A LAMBKIN_* variable that sets nothing is most likely a typo (LAMBKIN_BROKER_PROT), which
 * would otherwise leave the default in force without a word: refused like an unknown key.
 */
function checkEnvNames (env: NodeJS.ProcessEnv): void {
  const known = [...ENV_VARS, ...OTHER_ENV_VARS].map((m) => m.name)
  for (const name of Object.keys(env)) {
    if (!name.startsWith('LAMBKIN_') || known.includes(name) || env[name] === undefined || env[name] === '') continue
    const reason = `is not a known variable${suggestion(name, known)} Known variables: ${known.join(', ')}`
    throw new LambkinError(ErrorCodes.CONFIG_INVALID, `environment variable ${name} ${reason}`, { details: { key: name, source: name, sourceKind: 'env', reason } })
  }
}

function fromEnv (env: NodeJS.ProcessEnv): Assignment[] {
  checkEnvNames(env)
  const out: Assignment[] = []
  for (const { name, key } of ENV_VARS) {
    const raw = env[name]
    if (raw !== undefined && raw !== '') out.push({ key, raw, source: { kind: 'env', name } })
  }
  return out
}

function fromFlags (flags: Record<string, string | boolean | undefined>): Assignment[] {
  const out: Assignment[] = []
  for (const { name, key } of FLAGS) {
    const raw = Object.hasOwn(flags, name) ? flags[name] : flags[camelCase(name)]
    if (raw === undefined) continue
    const source: Source = { kind: 'flag', name }
    // A bare boolean flag (`--broker-allow-anonymous`) means true.
    if (raw === true && key !== CONFIG_FILE_KEY && fieldAt(key)?.kind === 'bool') {
      out.push({ key, raw: 'true', source })
      continue
    }
    if (typeof raw !== 'string') throw configError(key === CONFIG_FILE_KEY ? 'config' : key, 'needs a value after the flag', source)
    out.push({ key, raw, source })
  }
  return out
}

type Mutable = Record<string, unknown>

function setAt (obj: Mutable, key: string, value: unknown): void {
  const parts = key.split('.')
  let node = obj
  for (const part of parts.slice(0, -1)) node = node[part] as Mutable
  node[parts[parts.length - 1] as string] = value
}

async function checkConnection (prefix: 'mqtt' | 'cloud', c: BrokerConnectionConfig, sources: Map<string, Source>): Promise<void> {
  if ((c.certFile === undefined) !== (c.keyFile === undefined)) {
    const set = c.certFile !== undefined ? 'certFile' : 'keyFile'
    const missing = set === 'certFile' ? 'keyFile' : 'certFile'
    throw configError(`${prefix}.${set}`, `is set but "${prefix}.${missing}" is not; a client certificate needs its private key`, sources.get(`${prefix}.${set}`) as Source)
  }
  for (const name of ['caFile', 'certFile', 'keyFile'] as const) {
    const path = c[name]
    if (path === undefined) continue
    try {
      await access(path, constants.R_OK)
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code ?? 'unreadable'
      throw configError(`${prefix}.${name}`, `names ${path}, which cannot be read (${code})`, sources.get(`${prefix}.${name}`) as Source, cause)
    }
  }
}

/** The cloud link authenticates as the device itself [W1]: its user name is the id, its password the secret. */
function checkCloud (cfg: DeviceConfig, sources: Map<string, Source>): void {
  const c = cfg.cloud
  if (c.username !== undefined && c.username !== cfg.id) {
    throw configError('cloud.username', `is "${c.username}", but the cloud link always logs in as the device id "${cfg.id}"; remove cloud.username`, sources.get('cloud.username') as Source)
  }
  if (c.url !== undefined && (c.password === undefined || c.password === '')) {
    throw configError('cloud.url', 'is set but there is no cloud.password (or LAMBKIN_CLOUD_PASSWORD): give the secret `lambkin devices add` printed for this device', sources.get('cloud.url') as Source)
  }
}

/** Every trusted key file must hold an ed25519 public key (src/bundle/keys.ts), named in the error when not. */
function checkTrustedKeys (cfg: DeviceConfig, sources: Map<string, Source>): void {
  for (const file of cfg.trustedKeys) {
    try {
      readTrustedKey(file)
    } catch (err) {
      throw configError('trustedKeys', `names ${file}: ${errorMessage(err)}`, sources.get('trustedKeys') ?? { kind: 'default', name: 'defaults' }, err)
    }
  }
}

export async function loadDeviceConfig (opts: LoadDeviceConfigOptions = {}): Promise<DeviceConfig> {
  const cwd = resolve(opts.cwd ?? process.cwd())
  const env = fromEnv(opts.env ?? process.env)
  const flags = fromFlags(opts.flags ?? {})
  const fileRef = flags.find((a) => a.key === CONFIG_FILE_KEY) ?? env.find((a) => a.key === CONFIG_FILE_KEY)
  const file = fileRef?.raw as string | undefined ?? opts.file
  if (fileRef !== undefined) refuseControl('config', fileRef.raw as string, fileRef.source)
  const fromFile = file === undefined ? [] : await readConfigFile(file, cwd)

  const cfg = structuredClone(DEVICE_DEFAULTS) as unknown as DeviceConfig
  // The small-RAM profile (cli/node-runtime.ts; the default on ARM) changes defaults only: the
  // config file, env and flags still set these keys.
  if (memoryProfile(opts.env ?? process.env, opts.arch ?? process.arch) === 'small') {
    cfg.invocation = { ...cfg.invocation, ...SMALL_RAM_DEFAULTS.invocation }
    cfg.broker = { ...cfg.broker, ...SMALL_RAM_DEFAULTS.broker }
    cfg.outbox = { ...cfg.outbox, ...SMALL_RAM_DEFAULTS.outbox }
  }
  if (opts.hostname !== undefined) cfg.id = deviceIdFromHostname(opts.hostname)
  cfg.dataDir = resolve(cwd, cfg.dataDir)
  cfg.functionsDir = resolve(cwd, cfg.functionsDir)

  const sources = new Map<string, Source>()
  for (const a of [...fromFile, ...env, ...flags]) {
    if (a.key === CONFIG_FILE_KEY) continue
    const field = fieldAt(a.key) as Field
    setAt(cfg as unknown as Mutable, a.key, parseValue(a.key, field, a.raw, a.source, cwd))
    sources.set(a.key, a.source)
  }
  if (opts.idRequired !== undefined && !sources.has('id')) {
    throw configError('id', `is not set, and the host name cannot stand in for it: ${opts.idRequired}, so the host name is the container's id, which changes with every run. Set LAMBKIN_ID or --id to the id this device has in the cloud (lambkin devices add)`, { kind: 'default', name: 'defaults' })
  }
  // Derived after all sources, so --id also renames the trigger client.
  if (!sources.has('mqtt.clientId')) cfg.mqtt.clientId = `lambkin-${cfg.id}`

  if (opts.trust !== undefined && opts.trust.length > 0) {
    const source: Source = { kind: 'flag', name: 'trust' }
    const added = parseValue('trustedKeys', fieldAt('trustedKeys') as Field, [...opts.trust], source, cwd) as string[]
    cfg.trustedKeys = [...new Set([...cfg.trustedKeys, ...added])]
    if (!sources.has('trustedKeys')) sources.set('trustedKeys', source)
  }
  checkTrustedKeys(cfg, sources)
  await checkConnection('mqtt', cfg.mqtt, sources)
  await checkConnection('cloud', cfg.cloud, sources)
  checkCloud(cfg, sources)
  await checkBrokerAccess(cfg, sources)
  if (cfg.brokerPort !== undefined && cfg.brokerPort !== 0 && cfg.brokerPort === cfg.metricsPort) {
    throw configError('metricsPort', `is ${cfg.metricsPort}, the same port as brokerPort; give the metrics server its own port`, sources.get('metricsPort') as Source)
  }
  return deepFreeze(cfg)
}
