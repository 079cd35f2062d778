#!/usr/bin/env bash
# Build the WASI engine's test programs from test/fixtures/wasi-src/*.c with clang --target=wasm32-wasi
# (Debian: apt-get install clang lld wasi-libc libclang-rt-dev-wasm32).
#
#   scripts/make-wasi-fixtures.sh [OUTDIR]      (default: test/fixtures/wasi, git-ignored)
#
# A program is rebuilt only when it is older than its source, wasi-test.h or this script, so reruns are
# instant. Outputs are written under a temporary name and renamed, so a concurrent reader never sees
# half a module.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
SRC=$REPO/test/fixtures/wasi-src
OUT=${1:-$REPO/test/fixtures/wasi}
CC=${CC:-clang}

command -v "$CC" >/dev/null || { echo "make-wasi-fixtures: $CC is required (apt-get install clang lld wasi-libc libclang-rt-dev-wasm32)" >&2; exit 1; }
mkdir -p "$OUT"

# build NAME SOURCE [CFLAGS...]
build() {
  local name=$1 src=$SRC/$2 out=$OUT/$1.wasm
  shift 2
  if [[ -f $out && $out -nt $src && $out -nt $SRC/wasi-test.h && $out -nt ${BASH_SOURCE[0]} ]]; then return; fi
  echo "make-wasi-fixtures: $name.wasm"
  "$CC" --target=wasm32-wasi -O2 -Wall "$@" -o "$out.tmp-$$" "$src"
  mv "$out.tmp-$$" "$out"
}

for src in hello args-env exit files dirs links stdin clock random sockets memory trap fdops hostile; do
  build "$src" "$src.c"
done
# wasi-libc resolves relative paths differently with and without chdir/getcwd linked (runtime/core/wasi/guest-cwd.ts).
build cwd-chdir cwd.c -DUSE_CHDIR
build cwd-getcwd cwd.c -DUSE_GETCWD
build cwd-plain cwd.c
build cwd-stripped cwd.c -DUSE_CHDIR -Wl,--strip-all
# An imported memory is capped by the engine, not by rewriting the module.
build memory-import memory.c -Wl,--import-memory
build reactor reactor.c -mexec-model=reactor
