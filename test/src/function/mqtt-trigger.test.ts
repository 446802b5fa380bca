// The mqtt trigger's message keys (`payload`, `retainHandling`) and `$share/` filters (MQTT 5
// section 4.8.2): kept when valid, refused naming the key when not.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { matchingFilter, splitSharedFilter, validateManifest } from '../../../src/function/index.js'
import type { Trigger } from '../../../src/function/index.js'
import { refusedBy } from './fixtures.js'

const one = (t: unknown): Trigger => validateManifest({ name: 'x', triggers: [t] }).triggers[0]
const refused = (t: unknown, key: string): void => { refusedBy(() => validateManifest({ name: 'x', triggers: [{ mqtt: 'ok' }, t] }), key) }

test('payload and retainHandling are kept when given, absent otherwise', () => {
  assert.equal(one({ mqtt: 'a' }), { mqtt: 'a', qos: 1 })
  for (const payload of ['auto', 'json', 'text', 'bytes']) assert.equal(one({ mqtt: 'a', payload }), { mqtt: 'a', qos: 1, payload })
  for (const retainHandling of [0, 1, 2]) assert.equal(one({ mqtt: 'a', retainHandling }), { mqtt: 'a', qos: 1, retainHandling })
  assert.equal(one({ mqtt: 'a', payload: 'bytes', batch: { size: 2, windowMs: 10 } }), { mqtt: 'a', qos: 1, payload: 'bytes', batch: { size: 2, windowMs: 10 } })
})

test('bad payload format or retainHandling is refused naming the key', () => {
  refused({ mqtt: 'a', payload: 'binary' }, 'triggers[1].payload')
  refused({ mqtt: 'a', payload: 1 }, 'triggers[1].payload')
  refused({ mqtt: 'a', retainHandling: 3 }, 'triggers[1].retainHandling')
  refused({ mqtt: 'a', retainHandling: true }, 'triggers[1].retainHandling')
  refused({ mqtt: 'a', rh: 2 }, 'triggers[1].rh')
})

test('[MQTT 5 4.8.2] $share filters: a share name without "/", "+", "#", then a valid filter', () => {
  assert.equal(one({ mqtt: '$share/workers/jobs/+/run' }), { mqtt: '$share/workers/jobs/+/run', qos: 1 })
  assert.equal(splitSharedFilter('$share/workers/jobs/+/run'), { share: 'workers', filter: 'jobs/+/run' })
  assert.equal(splitSharedFilter('$share/g/#'), { share: 'g', filter: '#' })
  assert.is(splitSharedFilter('jobs/+'), undefined)
  assert.is(matchingFilter('$share/g/a/b'), 'a/b')
  assert.is(matchingFilter('a/b'), 'a/b')
  for (const bad of ['$share/', '$share//a', '$share/g', '$share/g/', '$share/+/a', '$share/#/a', '$share/g+/a', '$share/g/a/#/b']) {
    refused({ mqtt: bad }, 'triggers[1].mqtt')
  }
})

test.run()
