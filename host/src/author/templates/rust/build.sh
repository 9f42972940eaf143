#!/usr/bin/env bash
# Builds this strategy into build/{{name}}.wasm. `nasbox strategy build .`
# runs this script, then checks the component.
set -euo pipefail
cd "$(dirname "$0")"
command -v cargo >/dev/null || { echo "build.sh: cargo not found: install Rust (https://rustup.rs)" >&2; exit 2; }
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-wasip2; then
    echo "build.sh: adding the wasm32-wasip2 target (once)"
    rustup target add wasm32-wasip2
fi
cargo build --release --target wasm32-wasip2
mkdir -p build
cp "${CARGO_TARGET_DIR:-target}/wasm32-wasip2/release/{{crate}}.wasm" build/{{name}}.wasm
echo "build.sh: built build/{{name}}.wasm"
