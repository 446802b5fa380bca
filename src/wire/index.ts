// The device <-> cloud wire protocol (docs/wire.md): topics [W1], CBOR frames [W2], and the
// frames' validation [W3]-[W7]. Shared by device/sync and cloud-sync; loads no sandbox.
export * from './topics.js'
export * from './cbor.js'
export * from './frames.js'
export * from './deploy-frames.js'
export * from './record-data.js'
export * from './embedded-data.js'
export * from './batch-encode.js'
export * from './batch-decode.js'
