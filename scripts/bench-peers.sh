#!/usr/bin/env bash
# Installs the benchmarks' peers on demand, never through `npm ci`:
#  - bench/peers/package.json (isolated-vm) into bench/peers/node_modules. isolated-vm compiles
#    C++ here, which takes minutes and needs python3, make and g++;
#  - bench/peers/node-red/package.json (Node-RED 4) into bench/peers/node-red/node_modules, a
#    scratch folder of its own (~280 packages), for bench/relay.
# A failed install is reported and the benches compare against the peers that are there.
set -u
peers="$(dirname "$0")/../bench/peers"
if [ ! -d "$peers/node_modules/isolated-vm" ]; then
  echo "installing bench peers into bench/peers (isolated-vm builds from source; this takes a few minutes)"
  (cd "$peers" && npm install --no-audit --no-fund --no-package-lock) || echo "bench peers could not be installed; benches compare against node:vm only"
fi
if [ ! -f "$peers/node-red/node_modules/node-red/red.js" ]; then
  echo "installing Node-RED into bench/peers/node-red (for bench/relay)"
  (cd "$peers/node-red" && npm install --no-audit --no-fund --no-package-lock) || echo "Node-RED could not be installed; bench/relay runs without it"
fi
exit 0
