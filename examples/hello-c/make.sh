#!/usr/bin/env bash
# Compile hello.c to WebAssembly (WASI preview1) with Debian's clang and wasi-libc:
#   apt-get install clang lld wasi-libc libclang-rt-dev-wasm32
set -euo pipefail
cd "$(dirname "$0")"
clang --target=wasm32-wasi -O2 -Wl,--strip-debug -o hello.wasm hello.c
echo "examples/hello-c/hello.wasm: $(wc -c < hello.wasm) bytes"
