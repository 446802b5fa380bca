// A folder option pointed at /proc or /sys (a typo, a copied command line): `lambkin keys
// generate --out`, `lambkin broker dynsec-init --out` and `lambkin demo --data` hung in a
// recursive mkdir there (it spins) until Ctrl-C. They now refuse it at once with
// LAMBKIN_CONFIG_INVALID, as `lambkin device --data` and `lambkin cloud --data` did
// (src/data-dir.ts makeFolder). Real `lambkin` processes; a hang is killed after 20 s and fails.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runLambkin } from './fixtures/lambkin-process.js'

const CASES: Array<[string[], string]> = [
  [['keys', 'generate', '--out', '/proc/lambkin-keys'], '--out /proc/lambkin-keys is on proc'],
  [['keys', 'generate', '--out', '/sys/lambkin/keys'], '--out /sys/lambkin/keys is on sysfs'],
  [['broker', 'dynsec-init', '--out', '/proc/lambkin-dynsec'], '--out /proc/lambkin-dynsec is on proc'],
  [['demo', '--data', '/proc/lambkin-demo'], '--data /proc/lambkin-demo is on proc']
]

for (const [args, says] of CASES) {
  test(`lambkin ${args.join(' ')}: LAMBKIN_CONFIG_INVALID at once, not a hang`, async () => {
    const r = await runLambkin(args, { timeoutMs: 20_000 })
    assert.is(r.code, 1, `exit ${String(r.code)} (null: killed after 20 s)\n${r.stderr}`)
    assert.match(r.stderr, `LAMBKIN_CONFIG_INVALID: ${says}, a virtual file system that cannot hold data`)
  })
}

test.run()
