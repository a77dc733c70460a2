#!/bin/sh
# Builds the Function Compute code package: `sh deploy/build.sh [OUT]` (default
# deploy/build/code). s.yaml's pre-deploy action runs exactly this, and so does the test
# that imports the package with Python 3.12 and calls both handlers (tests/deploy).
#
#   OUT/domain, application, infrastructure, entrypoints   the code (handlers entrypoints.fc.*)
#   OUT/python/                                             the dependencies (PYTHONPATH)
#
# The dependencies are deploy/requirements.txt (generated from pyproject.toml), as
# wheels for FC's python3.12 runtime on x86_64 Linux whatever the machine building; they
# are reinstalled only when that list or these pip options change. PYTHON picks the
# interpreter that runs pip (default python3).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=${1:-$here/build/code}
python=${PYTHON:-python3}
options="--no-compile --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64
 --implementation cp --python-version 3.12 --only-binary=:all:"

mkdir -p "$out"
wanted=$(cat "$here/requirements.txt"; echo "$options")
if [ ! -f "$out/python/.installed" ] || [ "$(cat "$out/python/.installed")" != "$wanted" ]; then
    rm -rf "$out/python"
    # shellcheck disable=SC2086 # the options are words
    "$python" -m pip install --quiet --target "$out/python" $options \
        --requirement "$here/requirements.txt"
    printf '%s\n' "$wanted" >"$out/python/.installed"
fi
for layer in domain application infrastructure entrypoints; do
    rm -rf "${out:?}/$layer"
    cp -R "$root/$layer" "$out/$layer"
done
find "$out/domain" "$out/application" "$out/infrastructure" "$out/entrypoints" \
    -name __pycache__ -prune -exec rm -rf {} +
