#!/usr/bin/env bash
# Builds strategy.py into build/{{name}}.wasm with componentize-py, pinned,
# installed once into nasbox's toolchain cache. `nasbox strategy build .`
# runs this script, then checks the component.
set -euo pipefail
cd "$(dirname "$0")"
COMPONENTIZE_PY=0.25.1
cache=${NASBOX_TOOLCHAINS:-${XDG_CACHE_HOME:-$HOME/.cache}/nasbox/toolchains}
tools=$cache/componentize-py-$COMPONENTIZE_PY
python=${PYTHON:-python3}
command -v "$python" >/dev/null || { echo "build.sh: $python not found: install Python 3.10 or newer with venv (e.g. apt install python3 python3-venv)" >&2; exit 2; }
if [[ ! -x $tools/bin/componentize-py ]]; then
    echo "build.sh: installing componentize-py $COMPONENTIZE_PY into $tools (once)"
    rm -rf "$tools"
    "$python" -m venv "$tools" || { echo "build.sh: $python -m venv failed: install venv (e.g. apt install python3-venv)" >&2; exit 2; }
    "$tools/bin/python" -m pip install --disable-pip-version-check --progress-bar on "componentize-py==$COMPONENTIZE_PY"
fi
mkdir -p build
echo "build.sh: componentizing strategy.py"
PYTHONDONTWRITEBYTECODE=1 "$tools/bin/componentize-py" --wit-path wit --world nasbox-shaped-strategy \
    componentize --python-path . strategy --output build/{{name}}.wasm
echo "build.sh: built build/{{name}}.wasm"
