// Which commands run with umask 077 (cli/private-umask.ts): those that keep data, and not the
// unit writer, whose system files have modes of their own.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { keepsData } from '../../cli/private-umask.js'

test('device, cloud and demo keep data; device install-service and the operator commands do not', () => {
  for (const a of [['device'], ['device', '--config', 'x.json'], ['cloud', '--data', 'd'], ['demo'], ['outbox', '--data', 'd']]) assert.ok(keepsData(a), a.join(' '))
  for (const a of [['device', 'install-service'], ['status'], ['deploy', 'fn'], ['keys', 'generate'], []]) assert.not.ok(keepsData(a), a.join(' '))
})

test.run()
