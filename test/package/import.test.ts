// The package can be imported by its name, as a user's code would (Node resolves a package's
// own name through its "exports" map), and its entry points carry what they promise.
import { test } from 'uvu'
import * as assert from 'uvu/assert'

test("import('lambkin') gives the sandbox, function loading, errors, the agent and the cloud", async () => {
  const lambkin = await import('lambkin' as string) as Record<string, unknown>
  for (const name of ['SandboxPool', 'specOf', 'loadFunctionDir', 'loadFunctionsDir', 'LambkinError', 'ErrorCodes', 'Agent', 'loadDeviceConfig', 'Cloud']) {
    assert.ok(lambkin[name] !== undefined, `lambkin exports ${name}`)
  }
  assert.is((lambkin.ErrorCodes as Record<string, string>).TIMEOUT, 'LAMBKIN_TIMEOUT')
})

test('the sub-path entries resolve', async () => {
  for (const sub of ['lambkin/sandbox', 'lambkin/function', 'lambkin/errors', 'lambkin/wire', 'lambkin/device', 'lambkin/cloud', 'lambkin/package.json']) {
    const m = await import(sub as string, sub.endsWith('.json') ? { with: { type: 'json' } } : undefined) as Record<string, unknown>
    assert.ok(Object.keys(m).length > 0, sub)
  }
})

test.run()
