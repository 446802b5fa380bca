// The deployment and remote-invoke frames [W5]-[W7]: valid frames pass through typed, and a
// frame breaking a rule is refused as LAMBKIN_WIRE_INVALID naming the field [W2][W8].
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { decodeFrame, encodeFrame, parseBundleFrame, parseDesired, parseFetch, parseInvoke, parseInvokeResult, parseReported } from '../../../src/wire/index.js'

const H = 'a'.repeat(64)
const version = { version: '0123456789abcdef', number: 3, sha256: H, size: 900, signature: new Uint8Array(64), keyId: 'fedcba9876543210' }
const roundTrip = (f: Record<string, unknown>): Record<string, unknown> => decodeFrame(encodeFrame(f), 1 << 20)

function refused (p: () => unknown, fieldName: string): void {
  try {
    p()
  } catch (err) {
    assert.is((err as { code?: string }).code, 'LAMBKIN_WIRE_INVALID')
    assert.match((err as Error).message, fieldName)
    return
  }
  assert.unreachable(`accepted a frame with a bad ${fieldName}`)
}

test('[W5] desired state: live and canary versions survive CBOR; bad ids, hashes, signatures, weights and duplicates are refused', () => {
  const d = parseDesired(roundTrip({ deploymentId: 7, functions: [{ name: 'alarm', live: version, canary: { ...version, version: 'ffffffffffffffff', weight: 10 } }], extra: 'ignored' }))
  assert.is(d.deploymentId, 7)
  assert.is(d.functions[0].canary?.weight, 10)
  assert.is(d.functions[0].live.signature.byteLength, 64)
  refused(() => parseDesired({ deploymentId: 0, functions: [] }), 'deploymentId')
  refused(() => parseDesired({ deploymentId: 1, functions: [{ name: 'Bad Name', live: version }] }), 'name')
  refused(() => parseDesired({ deploymentId: 1, functions: [{ name: 'a', live: version }, { name: 'a', live: version }] }), 'name')
  refused(() => parseDesired({ deploymentId: 1, functions: [{ name: 'a', live: { ...version, sha256: 'abc' } }] }), 'sha256')
  refused(() => parseDesired({ deploymentId: 1, functions: [{ name: 'a', live: { ...version, signature: new Uint8Array(10) } }] }), 'signature')
  refused(() => parseDesired({ deploymentId: 1, functions: [{ name: 'a', live: version, canary: { ...version, weight: 100 } }] }), 'weight')
  refused(() => parseDesired({ deploymentId: 1, functions: 'x' }), 'functions')
})

test('[W5] reported state: functions, failures and rollbacks; control characters in messages are replaced', () => {
  const r = parseReported(roundTrip({ deploymentId: 4, applying: false, time: 1, functions: [{ name: 'alarm', version: '0123456789abcdef', sha256: H, canary: { version: 'ffffffffffffffff', weight: 5 } }, { name: 'local', version: 'abc' }], failures: [{ deploymentId: 4, name: 'alarm', code: 'LAMBKIN_SIGNATURE_INVALID', message: 'bad\u001b[31m', at: 2 }], rollbacks: [{ deploymentId: 3, name: 'alarm', from: 'x', to: 'y', code: 'LAMBKIN_HEALTH_CHECK_FAILED', message: 'm', at: 3 }] }))
  assert.is(r.functions.length, 2)
  assert.is(r.functions[0].canary?.weight, 5)
  assert.is(r.failures[0].message, 'bad [31m')
  assert.is(r.rollbacks[0].to, 'y')
  refused(() => parseReported({ deploymentId: -1, applying: false, time: 1, functions: [] }), 'deploymentId')
  refused(() => parseReported({ deploymentId: 1, applying: 'no', time: 1, functions: [] }), 'applying')
  refused(() => parseReported({ deploymentId: 1, applying: false, time: 1, functions: [], failures: Array(21).fill({ deploymentId: 1, name: 'a', code: 'X', at: 1 }) }), 'failures')
})

test('[W6] fetch and bundle frames; [W7] invoke and its result', () => {
  assert.equal(parseFetch({ sha256: H }), { sha256: H })
  refused(() => parseFetch({ sha256: H.toUpperCase() }), 'sha256')
  assert.is(parseBundleFrame(roundTrip({ sha256: H, bundle: new Uint8Array([1, 2]) })).bundle?.byteLength, 2)
  assert.is(parseBundleFrame({ sha256: H, error: { code: 'LAMBKIN_BUNDLE_INVALID', message: 'gone' } }).error?.code, 'LAMBKIN_BUNDLE_INVALID')
  refused(() => parseBundleFrame({ sha256: H }), 'bundle')
  const inv = parseInvoke(roundTrip({ id: 'r-1', fn: 'alarm', event: { value: 80 } }))
  assert.equal(inv, { id: 'r-1', fn: 'alarm', event: { value: 80 }, timeoutMs: 10_000 })
  assert.is(parseInvoke({ id: 'r', fn: 'a', timeoutMs: 10_000_000 }).timeoutMs, 300_000)
  refused(() => parseInvoke({ id: '', fn: 'a' }), 'id')
  refused(() => parseInvoke({ id: 'x\n', fn: 'a' }), 'id')
  const ok = parseInvokeResult(roundTrip({ id: 'r-1', fn: 'alarm', ok: true, result: { alarm: true }, durationMs: 1.5, version: '0123456789abcdef' }))
  assert.equal(ok.result, { alarm: true })
  const failed = parseInvokeResult({ id: 'r-1', fn: 'alarm', ok: false, error: { code: 'LAMBKIN_TIMEOUT', message: 'slow' }, durationMs: 5 })
  assert.is(failed.error?.code, 'LAMBKIN_TIMEOUT')
  refused(() => parseInvokeResult({ id: 'r-1', fn: 'alarm', ok: false, durationMs: 5 }), 'error')
})

test.run()
