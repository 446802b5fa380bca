#!/usr/bin/env bash
# Installs the benchmarks' peers (bench/peers/package.json) into bench/peers/node_modules.
# isolated-vm compiles C++ here, which takes minutes and needs python3, make and g++; a failed
# install is reported and the benches compare against the peers that are there.
set -u
cd "$(dirname "$0")/../bench/peers"
if [ -d node_modules/isolated-vm ]; then exit 0; fi
echo "installing bench peers into bench/peers (isolated-vm builds from source; this takes a few minutes)"
npm install --no-audit --no-fund --no-package-lock || echo "bench peers could not be installed; benches compare against node:vm only"
exit 0
