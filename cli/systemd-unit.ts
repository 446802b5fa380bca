// The systemd unit that runs `lambkin device` at boot (docs/boards.md, "Running as a service"): what
// `lambkin device install-service` writes and deploy/systemd/lambkin-device.service ships.
// Pure text, so the tests check it without systemd; systemd.service(5) and systemd.exec(5)
// are the references for every line.

/** The unit's name, its user, and the data folder systemd makes for it (StateDirectory). */
export const UNIT_NAME = 'lambkin-device'
export const SERVICE_USER = 'lambkin'
export const STATE_ROOT = '/var/lib'
export const DEFAULT_DATA_DIR = `${STATE_ROOT}/lambkin`
export const DEFAULT_FUNCTIONS_DIR = '/etc/lambkin/functions'
/** Where the secrets go (mode 0600, read by systemd as root), never into the unit. */
export const DEFAULT_ENV_FILE = '/etc/lambkin/device.env'

export interface UnitSpec {
  /** Absolute path of the node binary. */
  node: string
  /** Node's flags for this board (cli/node-runtime.ts), so bin.js runs the agent in this one process. */
  nodeFlags: readonly string[]
  /** Absolute path of dist/cli/bin.js. */
  bin: string
  /** What follows `device`: the config flags, paths absolute. */
  args: readonly string[]
  /** Variables beside the flags: the memory profile's (LAMBKIN_MEMORY, MALLOC_ARENA_MAX). */
  env: Readonly<Record<string, string>>
  user: string
  dataDir: string
  envFile: string
  /** Listens on a port below 1024 (brokerPort or metricsPort): needs CAP_NET_BIND_SERVICE. */
  lowPort: boolean
  /** Some path it reads lies under /home, /root or /run/user: ProtectHome=read-only then, else yes. */
  readsHome: boolean
  /**
   * Some path it reads or writes lies under /tmp or /var/tmp: PrivateTmp=no then, else yes
   * (PrivateTmp mounts an empty /tmp and /var/tmp for the service, systemd.exec(5)).
   */
  readsTmp: boolean
}

/**
 * One word of a command line as systemd reads it: `$` and `%` would expand (variables,
 * specifiers), so they are doubled; a word with spaces, quotes or backslashes is double-quoted
 * with C-style escapes, and a control character is \xNN in it (systemd.syntax(7)): a raw line
 * end would end the directive and start another.
 */
export function unitWord (word: string): string {
  const w = word.replace(/%/g, '%%').replace(/\$/g, '$$$$')
  if (/^[A-Za-z0-9_@%+=:,./$-]+$/.test(w)) return w
  return `"${w.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}"`
}

/** `KEY=value` for an Environment= line, quoted as a whole when the value needs it. */
function assignment (key: string, value: string): string {
  return unitWord(`${key}=${value}`)
}

/** The data folder as systemd should provide it: StateDirectory under /var/lib, else a writable path. */
function dataLines (dataDir: string): string[] {
  if (dataDir.startsWith(`${STATE_ROOT}/`) && !dataDir.includes('/../')) {
    return [
      `StateDirectory=${unitWord(dataDir.slice(STATE_ROOT.length + 1))}`,
      'StateDirectoryMode=0750',
      `WorkingDirectory=${unitWord(dataDir)}`
    ]
  }
  // Outside /var/lib systemd does not make it: it must exist and belong to the service's user.
  return [`ReadWritePaths=${unitWord(dataDir)}`, `WorkingDirectory=${unitWord(dataDir)}`]
}

export function renderUnit (s: UnitSpec): string {
  const exec = [s.node, ...s.nodeFlags, s.bin, 'device', ...s.args].map(unitWord).join(' ')
  const env = Object.entries(s.env).map(([k, v]) => assignment(k, v)).join(' ')
  return [
    '# The lambkin agent (lambkin device), written by `lambkin device install-service`.',
    `#   start at boot and now: systemctl enable --now ${UNIT_NAME}`,
    `#   stop: systemctl stop ${UNIT_NAME}; logs: journalctl -u ${UNIT_NAME} -f`,
    '[Unit]',
    'Description=lambkin device agent: functions on this board',
    'Wants=network-online.target',
    'After=network-online.target time-sync.target',
    // A board has nobody to start it again: restarts are never given up.
    'StartLimitIntervalSec=0',
    '',
    '[Service]',
    'Type=exec',
    `User=${unitWord(s.user)}`,
    `Group=${unitWord(s.user)}`,
    ...dataLines(s.dataDir),
    ...(env === '' ? [] : [`Environment=${env}`]),
    // The secrets (cloud.password, mqtt.password) as LAMBKIN_* variables; optional.
    `EnvironmentFile=-${unitWord(s.envFile)}`,
    `ExecStart=${exec}`,
    'Restart=always',
    'RestartSec=5',
    // Exit 2 is bad usage: a wrong flag above, which no restart fixes.
    'RestartPreventExitStatus=2',
    // SIGTERM drains in-flight invocations (invocation.drainTimeoutMs, 10 s by default), a
    // second signal or SIGKILL cuts that short and loses nothing acknowledged.
    'KillSignal=SIGTERM',
    'TimeoutStopSec=30',
    `SyslogIdentifier=${UNIT_NAME}`,
    // Hardening that an agent on MQTT, LevelDB and sysfs sensors keeps working under. Not
    // MemoryDenyWriteExecute (V8's JIT writes code), nor a SystemCallFilter (not checked here
    // against Node's and libuv's system calls on every board).
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    `ProtectHome=${s.readsHome ? 'read-only' : 'yes'}`,
    `PrivateTmp=${s.readsTmp ? 'no' : 'yes'}`,
    'PrivateDevices=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'RestrictSUIDSGID=yes',
    'RestrictRealtime=yes',
    'RestrictNamespaces=yes',
    'LockPersonality=yes',
    'RemoveIPC=yes',
    // AF_NETLINK: Node lists the network interfaces (checking brokerHost) through it.
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
    ...(s.lowPort ? ['AmbientCapabilities=CAP_NET_BIND_SERVICE', 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE'] : ['CapabilityBoundingSet=']),
    'UMask=0027',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    ''
  ].join('\n')
}

/** The sysusers.d(5) line that makes the service's user, home the data folder, no login. */
export function renderSysusers (user: string, dataDir: string): string {
  return `# The user ${UNIT_NAME} runs as (systemd-sysusers makes it).\nu ${user} - "lambkin device agent" ${dataDir} -\n`
}

/**
 * An EnvironmentFile= holding `vars`: single-quoted values (verbatim in systemd's reading,
 * and in a POSIX shell's); a value with a single quote is double-quoted with escapes.
 */
export function renderEnvFile (vars: Readonly<Record<string, string>>): string {
  const quote = (v: string): string => v.includes("'") ? `"${v.replace(/[\\"$`]/g, (c) => `\\${c}`)}"` : `'${v}'`
  return ['# Secrets of lambkin-device (systemd reads this file as root; keep it mode 0600).', ...Object.entries(vars).map(([k, v]) => `${k}=${quote(v)}`), ''].join('\n')
}

/**
 * The unit shipped in the package (deploy/systemd/lambkin-device.service) for an arm64 board
 * with Debian's node and a global `npm install -g lambkin`; `install-service` writes one for
 * the machine it runs on instead. test/cli/systemd-unit.test.ts keeps the file equal to this.
 */
export function shippedUnitSpec (boardFlags: readonly string[], boardEnv: Readonly<Record<string, string>>): UnitSpec {
  return {
    node: '/usr/bin/node',
    nodeFlags: boardFlags,
    bin: '/usr/local/lib/node_modules/lambkin/dist/cli/bin.js',
    args: ['--data', DEFAULT_DATA_DIR, '--functions', DEFAULT_FUNCTIONS_DIR],
    env: { LAMBKIN_MEMORY: 'small', ...boardEnv },
    user: SERVICE_USER,
    dataDir: DEFAULT_DATA_DIR,
    envFile: DEFAULT_ENV_FILE,
    lowPort: false,
    readsHome: false,
    readsTmp: false
  }
}
