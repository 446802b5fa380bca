// Shared by the device config tests: awaits a load that must be refused.
import * as assert from 'uvu/assert'
import { LambkinError } from '../../src/errors.js'

/** Resolves with the LAMBKIN_CONFIG_INVALID error `p` rejects with; fails the test if it resolves. */
export async function configFailure (p: Promise<unknown>): Promise<LambkinError> {
  try {
    await p
  } catch (err) {
    assert.instance(err, LambkinError)
    assert.is((err as LambkinError).code, 'LAMBKIN_CONFIG_INVALID')
    return err as LambkinError
  }
  assert.unreachable('the config was accepted')
  throw new Error('unreachable')
}
