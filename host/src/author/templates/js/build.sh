#!/usr/bin/env bash
# Builds strategy.js into build/{{name}}.wasm with componentize-js, pinned,
# installed once into nasbox's toolchain cache. `nasbox strategy build .`
# runs this script, then checks the component.
set -euo pipefail
cd "$(dirname "$0")"
COMPONENTIZE_JS=0.23.0
# componentize-js 0.23.0 needs this at run time without declaring it;
# 0.25.0 is the version that works with it.
PREVIEW2_SHIM=0.25.0
cache=${NASBOX_TOOLCHAINS:-${XDG_CACHE_HOME:-$HOME/.cache}/nasbox/toolchains}
tools=$cache/componentize-js-$COMPONENTIZE_JS
for tool in node npm; do
    command -v $tool >/dev/null || { echo "build.sh: $tool not found: install Node.js 20 or newer with npm (e.g. apt install nodejs npm)" >&2; exit 2; }
done
if [[ ! -x $tools/node_modules/.bin/componentize-js ]]; then
    echo "build.sh: installing componentize-js $COMPONENTIZE_JS into $tools (once)"
    rm -rf "$tools"
    mkdir -p "$tools"
    (cd "$tools" && echo '{"private": true, "type": "module"}' >package.json &&
        npm install --no-audit --no-fund "@bytecodealliance/componentize-js@$COMPONENTIZE_JS" \
            "@bytecodealliance/preview2-shim@$PREVIEW2_SHIM")
fi
mkdir -p build
echo "build.sh: componentizing strategy.js"
"$tools/node_modules/.bin/componentize-js" strategy.js --wit wit --world-name nasbox-shaped-strategy --out build/{{name}}.wasm
echo "build.sh: built build/{{name}}.wasm"
