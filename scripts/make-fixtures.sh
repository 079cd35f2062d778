#!/usr/bin/env bash
# Build the real-image test fixtures with real tools (umoci, skopeo, debootstrap), as root.
#
#   scripts/make-fixtures.sh [OUTDIR]      (default: test/fixtures/build, git-ignored)
#
# Produces, each as an OCI layout tagged `latest`:
#   OUTDIR/layers                 small image exercising every whiteout / link / mode case
#                                 (spec in scripts/fixtures/layers.ts)
#   OUTDIR/layers-docker.tar      the same image as a docker-archive (skopeo copy)
#   OUTDIR/layers-oci.tar         the same image as an oci-archive (skopeo copy)
#   OUTDIR/debian                 debootstrap --variant=minbase bookworm in three layers
#   OUTDIR/multiarch, OUTDIR/wasi registry test images (scripts/fixtures/registry-images.sh)
# Every fixture has a stamp holding a hash of the scripts that make it; a fixture whose stamp matches
# is skipped, so reruns are instant. The debootstrap rootfs is cached in OUTDIR/.cache and kept across
# script changes (delete it to fetch again). MIRROR=... overrides the Debian mirror.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
OUT=${1:-$REPO/test/fixtures/build}
mkdir -p "$OUT/.stamps" "$OUT/.cache" "$OUT/.work"
OUT=$(cd "$OUT" && pwd)
NODE=(node --import tsx)
FIXED_DATE=2020-09-13T12:26:40Z

say() { echo "make-fixtures: $*"; }
need() { command -v "$1" >/dev/null || { echo "make-fixtures: $1 is required ($2)" >&2; exit 1; }; }
inputs_hash() { cat "$@" | sha256sum | cut -c1-16; }
fresh() { [[ -f "$OUT/.stamps/$1" && "$(cat "$OUT/.stamps/$1")" == "$2" ]]; }
stamp() { echo "$2" >"$OUT/.stamps/$1"; }

# Cut a tar's two zero end-of-archive blocks off, as some real layers lack them.
strip_end_blocks() {
  local size; size=$(stat -c %s "$1")
  if [[ $(tail -c 1024 "$1" | tr -d '\0' | wc -c) != 0 ]]; then echo "$1 does not end in zero blocks" >&2; exit 1; fi
  truncate -s $((size - 1024)) "$1"
}

build_layers() {
  local work="$OUT/.work/layers" img="$OUT/.work/layers/oci"
  rm -rf "$work" && mkdir -p "$work"
  say "layers: writing tars from scripts/fixtures/layers.ts"
  "${NODE[@]}" "$HERE/fixtures/layers.ts" "$work"
  strip_end_blocks "$work/layer-2.tar"
  umoci init --layout "$img"
  umoci new --image "$img:latest"
  say "layers: layer 1 (gzip), layer 2 (gzip, no end-of-archive blocks)"
  umoci raw add-layer --image "$img:latest" --history.created "$FIXED_DATE" "$work/layer-1.tar"
  umoci raw add-layer --image "$img:latest" --history.created "$FIXED_DATE" "$work/layer-2.tar"
  say "layers: layer 3 (uncompressed)"
  "${NODE[@]}" "$HERE/fixtures/add-raw-layer.ts" "$img" latest "$work/layer-3.tar" >/dev/null
  say "layers: layer 4 (umoci insert: unpadded data, no end-of-archive blocks)"
  printf 'inserted by umoci insert\n' >"$work/inserted.txt"
  touch -d @1600000400 "$work/inserted.txt"
  umoci insert --image "$img:latest" --history.created "$FIXED_DATE" "$work/inserted.txt" /data/inserted.txt
  umoci config --image "$img:latest" --no-history --config.env PATH=/bin --config.env GREETING=hello \
    --config.workingdir /data --config.user 1000:1000 --config.cmd /bin/sh
  umoci gc --layout "$img"
  rm -rf "$OUT/layers" && mv "$img" "$OUT/layers"
}

build_archives() {
  rm -f "$OUT/layers-docker.tar" "$OUT/layers-oci.tar"
  say "archives: skopeo copy to docker-archive and oci-archive"
  skopeo copy --quiet "oci:$OUT/layers:latest" "docker-archive:$OUT/layers-docker.tar:wasmbox/layers:latest"
  skopeo copy --quiet "oci:$OUT/layers:latest" "oci-archive:$OUT/layers-oci.tar:latest"
}

debian_mirror() {
  if [[ -n "${MIRROR:-}" ]]; then echo "$MIRROR"; return; fi
  local uri
  uri=$(grep -hoE '(URIs:|^deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
    head -1 | awk '{print $2}') || true
  echo "${uri:-http://deb.debian.org/debian}"
}

debian_rootfs() {
  local rootfs="$OUT/.cache/debian-rootfs"
  if [[ -f "$rootfs.stamp" ]]; then say "debian: rootfs cached in $rootfs"; return; fi
  need debootstrap 'apt-get install debootstrap'
  local mirror; mirror=$(debian_mirror)
  say "debian: debootstrap --variant=minbase bookworm from $mirror (a few minutes)"
  rm -rf "$rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$OUT/.cache/debootstrap.log" 2>&1 ||
    { tail -20 "$OUT/.cache/debootstrap.log" >&2; exit 1; }
  touch "$rootfs.stamp"
}

build_debian() {
  debian_rootfs
  local work="$OUT/.work/debian" img="$OUT/.work/debian/oci"
  rm -rf "$work" && mkdir -p "$work"
  bash "$HERE/fixtures/debian-layers.sh" "$OUT/.cache/debian-rootfs" "$work"
  umoci init --layout "$img"
  umoci new --image "$img:latest"
  for n in 1 2 3; do
    say "debian: adding layer $n ($(du -h "$work/layer-$n.tar" | cut -f1) uncompressed, gzip by umoci)"
    umoci raw add-layer --image "$img:latest" --history.created "$FIXED_DATE" "$work/layer-$n.tar"
  done
  umoci config --image "$img:latest" --no-history --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --config.cmd bash
  umoci gc --layout "$img"
  rm -rf "$OUT/debian" && mv "$img" "$OUT/debian" && rm -rf "$work"
  say "debian: $(du -sh "$OUT/debian" | cut -f1) in $OUT/debian"
}

build_registry() {
  bash "$HERE/fixtures/registry-images.sh" "$OUT"
}

# Runs `build_$1` unless its stamp matches the hash of the given input files.
fixture() {
  local name=$1; shift
  local hash; hash=$(inputs_hash "$@")
  if fresh "$name" "$hash"; then say "$name: up to date"; return; fi
  "build_$name"
  stamp "$name" "$hash"
}

[[ $(id -u) == 0 ]] || { echo "make-fixtures: run as root (umoci unpack/debootstrap need it)" >&2; exit 1; }
need umoci 'apt-get install umoci'
need skopeo 'apt-get install skopeo'
fixture layers "${BASH_SOURCE[0]}" "$HERE/fixtures/layers.ts" "$HERE/fixtures/add-raw-layer.ts"
fixture archives "${BASH_SOURCE[0]}" "$OUT/.stamps/layers"
fixture debian "${BASH_SOURCE[0]}" "$HERE/fixtures/debian-layers.sh"
fixture registry "${BASH_SOURCE[0]}" "$HERE/fixtures/registry-images.sh" "$HERE/fixtures/oci-index.ts" "$HERE/fixtures/registry-hello.c"
rm -rf "$OUT/.work"
say "done: $OUT"
