// What the operator API answers, as the CLI reads it (docs/cloud.md, "The operator API"). The rollout's shape
// is the cloud's own type (cloud-sync/rollouts), named here by the parts the CLI uses; the
// bundle upload's answer has no exported type there, so it is written out once, here; the
// remote invoke's answer is the wire's own frame.
import type { RolloutView } from '../cloud-sync/index.js'
import type { InvokeResultFrame } from '../src/wire/index.js'

export type { RolloutView }

/** One target device; `code`/`message` say why it failed, rolled back or was skipped. */
export type RolloutDevice = RolloutView['devices'][number]

/** Where one target device stands in a rollout. */
export type DeviceRolloutState = RolloutDevice['state']

/** Devices per state; `total` is every target. */
export type RolloutCounts = RolloutView['counts']

/** `POST /v1/bundles`' answer: `number` is the function's version number (1, 2, 3...). */
export interface UploadedBundle { sha256: string, name: string, version: string, number: number, size: number }

/** `POST /v1/devices/:id/invoke`'s answer [W7]: the device's `up/invoke-result` as the cloud passes it on. */
export type InvokeAnswer = InvokeResultFrame
