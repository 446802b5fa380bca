#!/usr/bin/env bash
# Smoke test of lambkin on arm64 Node under qemu user-mode emulation, on an x86_64 Debian host.
# Slow (minutes) and needs root for apt: not part of npm test or .ci/run. See docs/boards.md, "Smoke test under emulation".
#
# Usage: sudo scripts/arm64-smoke.sh [--binfmt] [--no-build]
#   --binfmt    register a temporary binfmt_misc entry for aarch64 so the arm64 node can
#               exec itself: needed to test bin.js's re-exec with --disable-wasm-trap-handler.
#               Removed again on exit. Without it those checks are SKIPs.
#   --no-build  use dist/ as it is instead of running tsc first.
# Env: ARM64_SUITES (default "trixie forky"): Debian suites whose arm64 nodejs to test;
#      trixie has Node 20 (whose V8 has no arm64 Linux trap handler), forky Node 24 (has it).
# Userlands are unpacked from .debs (no chroot) into /tmp/arm64root (trixie) or
# /tmp/arm64root-<suite>, and reused on later runs. Nothing here is written into the repo.
set -uo pipefail

BINFMT=0
BUILD=1
for a in "$@"; do
  case "$a" in
    --binfmt) BINFMT=1 ;;
    --no-build) BUILD=0 ;;
    *) echo "usage: $0 [--binfmt] [--no-build]" >&2; exit 2 ;;
  esac
done

REPO=$(cd "$(dirname "$0")/.." && pwd)
SUITES=${ARM64_SUITES:-trixie forky}
QEMU=/usr/bin/qemu-aarch64-static
RESERVED=512G # the address space a 39-bit Raspberry Pi OS arm64 kernel leaves a process
BFM=/proc/sys/fs/binfmt_misc
BF_ENTRY=lambkin-arm64-smoke
WORK=$(mktemp -d /tmp/lambkin-arm64-smoke-XXXXXX)
PASS=0 FAIL=0 SKIP=0
MOUNTED_BFM=0 REGISTERED_BF=0 CAN_EXEC=0 DEV_PID=''

cleanup () {
  if [ -n "$DEV_PID" ]; then kill -KILL "$DEV_PID" 2>/dev/null; fi
  if [ "$REGISTERED_BF" = 1 ]; then echo -1 > "$BFM/$BF_ENTRY"; fi
  if [ "$MOUNTED_BFM" = 1 ]; then umount "$BFM"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

pass () { PASS=$((PASS + 1)); echo "PASS  $1"; }
fail () { FAIL=$((FAIL + 1)); echo "FAIL  $1"; }
skip () { SKIP=$((SKIP + 1)); echo "SKIP  $1"; }
info () { echo "      $1"; }
secs () { echo $(( $(date +%s) - $1 ))s; }

# ---- host setup -------------------------------------------------------------------------
if [ ! -x "$QEMU" ]; then
  echo "installing qemu-user-static"
  apt-get update -qq && apt-get install -y -qq qemu-user-static >/dev/null || { fail "apt-get install qemu-user-static"; exit 1; }
fi
info "$($QEMU --version | head -1)"

if [ "$BUILD" = 1 ]; then
  t=$(date +%s)
  if (cd "$REPO" && node scripts/build.mjs >"$WORK/tsc.log" 2>&1); then pass "host build (tsc and the bundle) in $(secs "$t")"
  else fail "host build (tsc and the bundle): $(tail -3 "$WORK/tsc.log")"; exit 1; fi
fi

if [ "$BINFMT" = 1 ]; then
  if ! mountpoint -q "$BFM"; then mount -t binfmt_misc binfmt_misc "$BFM" && MOUNTED_BFM=1; fi
  if ls "$BFM" 2>/dev/null | grep -q aarch64; then CAN_EXEC=1; info "binfmt_misc already has an aarch64 entry; using it"
  elif echo ":$BF_ENTRY:M::\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:$QEMU:F" > "$BFM/register"; then
    REGISTERED_BF=1; CAN_EXEC=1; info "registered a temporary binfmt_misc entry $BF_ENTRY (removed on exit)"
  else info "could not register binfmt_misc; re-exec checks will be skipped"; fi
fi

# The helper programs live in $WORK only; they import the compiled lambkin from dist/.
cat > "$WORK/vas.mjs" <<'EOF'
// GiB of address space one WebAssembly.Memory like a sandbox's (256..320 pages) reserves.
import { readFileSync } from 'node:fs'
const mapped = () => readFileSync('/proc/self/maps', 'utf8').trim().split('\n').reduce((s, l) => { const [a, b] = l.split(' ')[0].split('-').map((h) => BigInt('0x' + h)); return s + (b - a) }, 0n)
const before = mapped()
const keep = []
for (let i = 0; i < 10; i++) keep.push(new WebAssembly.Memory({ initial: 256, maximum: 320 }))
console.log((Number(mapped() - before) / 10 / 2 ** 30).toFixed(2))
EOF
cat > "$WORK/load-many.mjs" <<'EOF'
// dist/test/e2e/fixtures/load-many.js with a timeoutMs that survives emulation (the fixture's
// 1000 ms is too short for a first load under qemu), plus per-load timings.
const [sandbox, countArg, timeoutArg] = process.argv.slice(2)
const { SandboxPool } = await import(sandbox)
const count = Number(countArg)
const timeoutMs = Number(timeoutArg)
const pool = await SandboxPool.create({ workers: 1, spares: 0 })
let loaded = 0
let error = ''
const times = []
for (let n = 0; n < count; n++) {
  const t0 = Date.now()
  try {
    const key = await pool.load({ name: `f${n}`, version: '1', files: { 'index.js': `export default () => ${n}` }, layers: {}, handler: 'index.js', limits: { memoryKiB: 16384, timeoutMs, instructions: 1e7, concurrency: 1, stackKiB: 64 }, env: {}, publish: [], provisioned: 0 })
    const o = await pool.invoke(key, {})
    if (!o.ok) throw new Error(`${o.error.code}: ${o.error.message}`)
    if (o.result !== n) throw new Error(`f${n} returned ${JSON.stringify(o.result)}`)
    loaded++
  } catch (err) {
    error = `${err.code ?? ''} ${err.message}`
    break
  }
  times.push(Date.now() - t0)
}
await pool.close()
const rest = times.slice(1).sort((a, b) => a - b)
process.stdout.write(JSON.stringify({ loaded, error, firstMs: times[0] ?? null, medianMs: rest[rest.length >> 1] ?? null }) + '\n')
EOF
cat > "$WORK/level.mjs" <<'EOF'
// One put/get/close through the level package the repo installed (classic-level prebuilds).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'
const { Level } = await import(createRequire(process.argv[2] + '/').resolve('level'))
const dir = mkdtempSync(join(tmpdir(), 'lambkin-arm64-'))
const db = new Level(dir, { valueEncoding: 'json' })
await db.put('k', { v: 1 })
const got = await db.get('k')
await db.close()
rmSync(dir, { recursive: true, force: true })
console.log(got?.v === 1 ? 'ok' : 'mismatch')
EOF
mkdir -p "$WORK/fns60"
for i in $(seq 0 59); do
  mkdir -p "$WORK/fns60/f$i"
  printf '{ "name": "f%s", "handler": "index.js", "limits": { "memoryKiB": 16384, "timeoutMs": 30000 } }\n' "$i" > "$WORK/fns60/f$i/function.json"
  echo "export default () => $i" > "$WORK/fns60/f$i/index.js"
done

# ---- arm64 userland from .debs ----------------------------------------------------------
# A private apt configuration (own lists, cache and empty dpkg status), so the host's apt and
# dpkg state are untouched. Check-Valid-Until is off because the mirror's testing suites can
# lag (signatures are still verified).
make_root () {
  local suite=$1 root=$2 apt=$2.apt
  if [ -x "$root/usr/bin/node" ]; then info "reusing $root"; return 0; fi
  mkdir -p "$apt/etc/apt/apt.conf.d" "$apt/etc/apt/preferences.d" "$apt/etc/apt/sources.list.d" \
    "$apt/state/lists/partial" "$apt/cache/archives/partial" "$root"
  : > "$apt/state/status"
  echo "deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" > "$apt/etc/apt/sources.list"
  cat > "$apt/apt.conf" <<EOF
APT::Architecture "arm64";
APT::Architectures { "arm64"; };
Dir::Etc "$apt/etc/apt";
Dir::State "$apt/state";
Dir::State::status "$apt/state/status";
Dir::Cache "$apt/cache";
APT::Install-Recommends "false";
Acquire::Check-Valid-Until "false";
Debug::NoLocking "true";
EOF
  APT_CONFIG=$apt/apt.conf apt-get update -qq >"$WORK/apt-$suite.log" 2>&1 &&
    APT_CONFIG=$apt/apt.conf apt-get install -y -qq --download-only nodejs >>"$WORK/apt-$suite.log" 2>&1 ||
    { cat "$WORK/apt-$suite.log" >&2; return 1; }
  local deb
  for deb in "$apt"/cache/archives/*.deb; do dpkg -x "$deb" "$root"; done
  # Debian is merged-/usr; base-files would make these links.
  ln -sfn usr/lib "$root/lib"
  ln -sfn usr/bin "$root/bin"
  info "unpacked $(ls "$apt"/cache/archives/*.deb | wc -l) packages into $root"
}

# ---- checks -------------------------------------------------------------------------------
# Direct runs go through $QEMU; QEMU_* variables (rather than -L/-R) also reach children that
# the kernel hands to qemu through binfmt_misc.
arm () { QEMU_LD_PREFIX=$ROOT QEMU_RESERVED_VA=$RESERVED "$@"; }
anode () { arm timeout 600 "$QEMU" "$ROOT/usr/bin/node" "$@"; }

# Starts `lambkin device` on the 60 functions and prints how many it reports ready.
device60 () {
  local data out=$WORK/dev.out err=$WORK/dev.err t
  data=$(mktemp -d "$WORK/data-XXXX")
  : > "$out"
  QEMU_LD_PREFIX=$ROOT QEMU_RESERVED_VA=$RESERVED "$@" "$ROOT/usr/bin/node" "$REPO/dist/cli/bin.js" device --id arm64 --functions "$WORK/fns60" \
    --data "$data" --broker-port 0 --metrics-port 0 --quiet >"$out" 2>"$err" &
  DEV_PID=$!
  t=$(date +%s)
  while ! grep -q ' ready: ' "$out" && kill -0 "$DEV_PID" 2>/dev/null && [ $(( $(date +%s) - t )) -lt 600 ]; do sleep 1; done
  kill -TERM "$DEV_PID" 2>/dev/null; wait "$DEV_PID" 2>/dev/null; DEV_PID=''
  DEV_SECS=$(( $(date +%s) - t ))
  DEV_LOADED=$(sed -n 's/.* ready: functions \([^;]*\);.*/\1/p' "$out" | tr ',' '\n' | grep -c .)
  DEV_NOSPACE=$(grep -c 'out of address space' "$err")
}

for suite in $SUITES; do
  if [ "$suite" = trixie ]; then ROOT=/tmp/arm64root; else ROOT=/tmp/arm64root-$suite; fi
  echo "== Debian $suite arm64 ($ROOT)"
  t=$(date +%s)
  if ! make_root "$suite" "$ROOT"; then fail "$suite: arm64 nodejs userland"; continue; fi

  v=$(anode -p 'process.arch + " " + process.version + " v8 " + process.versions.v8' 2>&1)
  major=$(echo "$v" | sed -n 's/^arm64 v\([0-9]*\)\..*/\1/p')
  if [ -n "$major" ] && [ "$major" -ge 20 ]; then pass "$suite: node runs: $v ($(secs "$t"))"
  else fail "$suite: node runs (need arm64, >= 20): $v"; continue; fi

  t=$(date +%s); r=$(anode "$WORK/level.mjs" "$REPO" 2>&1 | tail -1)
  if [ "$r" = ok ]; then pass "$suite: LevelDB round trip via classic-level's linux-arm64 prebuild ($(secs "$t"))"
  else fail "$suite: LevelDB: $r"; fi

  t=$(date +%s); r=$(cd "$REPO" && anode --disable-wasm-trap-handler dist/cli/bin.js invoke examples/hello --timeout 20000 2>&1)
  if echo "$r" | grep -q '"hello, world"'; then pass "$suite: lambkin invoke examples/hello ($(secs "$t"))"
  else fail "$suite: lambkin invoke examples/hello: $(echo "$r" | tail -2)"; fi

  no=$(anode "$WORK/vas.mjs" 2>&1); yes=$(anode --disable-wasm-trap-handler "$WORK/vas.mjs" 2>&1)
  info "$suite: address space per wasm memory: $no GiB without the flag, $yes GiB with it"
  guarded=$(awk -v g="$no" 'BEGIN { print (g > 1) ? 1 : 0 }')

  t=$(date +%s); r=$(anode "$WORK/load-many.mjs" "$REPO/dist/src/sandbox/index.js" 60 30000 2>/dev/null | tail -1)
  if [ "$guarded" = 1 ]; then
    if echo "$r" | grep -q 'out of address space'; then pass "$suite: -R $RESERVED, no flag: fails with lambkin's out-of-address-space message: $r ($(secs "$t"))"
    else fail "$suite: -R $RESERVED, no flag: expected out of address space, got $r"; fi
  else
    skip "$suite: -R $RESERVED, no flag: this Node reserves no guard regions, nothing to run out of: $r ($(secs "$t"))"
  fi
  t=$(date +%s); r=$(anode --disable-wasm-trap-handler "$WORK/load-many.mjs" "$REPO/dist/src/sandbox/index.js" 60 30000 2>/dev/null | tail -1)
  if echo "$r" | grep -q '"loaded":60,'; then pass "$suite: -R $RESERVED, --disable-wasm-trap-handler: 60 functions load: $r ($(secs "$t"))"
  else fail "$suite: -R $RESERVED, --disable-wasm-trap-handler: $r"; fi
  r=$(cd "$REPO" && anode --disable-wasm-trap-handler dist/test/e2e/fixtures/load-many.js 60 2>/dev/null | tail -1)
  info "$suite: unmodified fixture (timeoutMs 1000) with the flag: $r"

  t=$(date +%s); r=$(cd "$REPO" && anode --disable-wasm-trap-handler dist/cli/bin.js demo --seconds 5 2>&1)
  # The demo's last lines: "deployed 6 examples to both boards", then on stopping
  # "stopped the boards and the cloud; N readings were published" (N > 0: the boards ran).
  if echo "$r" | grep -q 'deployed .* examples to both boards' && echo "$r" | grep -Eq '; [1-9][0-9]* readings were published'; then
    pass "$suite: lambkin demo --seconds 5 ($(secs "$t") wall)"
    echo "$r" | grep -E 'deployed .* examples|readings were published' | sed 's/^/        /'
    echo "$r" | grep 'not loaded' | sed 's/^/        /'
  else fail "$suite: lambkin demo --seconds 5: $(echo "$r" | tail -5)"; fi

  if [ "$CAN_EXEC" = 1 ]; then
    t=$(date +%s); r=$(cd "$REPO" && arm timeout 600 "$ROOT/usr/bin/node" dist/cli/bin.js invoke examples/hello --timeout 20000 2>&1)
    if echo "$r" | grep -q '"hello, world"'; then pass "$suite: bin.js re-exec on arm64: invoke examples/hello ($(secs "$t"))"
    else fail "$suite: bin.js re-exec on arm64: $(echo "$r" | tail -2)"; fi
    device60
    if [ "$DEV_LOADED" = 60 ]; then pass "$suite: lambkin device, 60 functions, -R $RESERVED, bin.js adds the flag: $DEV_LOADED ready in ${DEV_SECS}s"
    else fail "$suite: lambkin device, 60 functions, bin.js adds the flag: $DEV_LOADED ready, $DEV_NOSPACE out of address space"; fi
    if [ "$guarded" = 1 ]; then
      device60 env LAMBKIN_WASM_TRAP_HANDLER=on
      if [ "$DEV_LOADED" -lt 60 ] && [ "$DEV_NOSPACE" -gt 0 ]; then pass "$suite: same with LAMBKIN_WASM_TRAP_HANDLER=on (no flag): $DEV_LOADED ready, $DEV_NOSPACE out of address space (${DEV_SECS}s)"
      else fail "$suite: with LAMBKIN_WASM_TRAP_HANDLER=on expected out of address space: $DEV_LOADED ready, $DEV_NOSPACE refused"; fi
    fi
  else
    skip "$suite: bin.js re-exec and lambkin device with 60 functions (need --binfmt)"
  fi
done

echo "arm64 smoke: $PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ]
