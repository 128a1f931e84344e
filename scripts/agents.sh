#!/usr/bin/env bash
# Installs the real coding-agent CLIs that test/coding-agent-clis*.test.ts drive (Claude Code, Codex,
# opencode) into test/agents/node_modules: their own package, about 1.2 GB, kept out of the gateway's own
# install. Runs `npm ci` there unless the install matches test/agents/package-lock.json (its hash is kept in
# node_modules/.installed-lock-sha256 after a successful install), then checks that each CLI starts.
# Everything comes from the npm registry: the native binaries of Claude Code and Codex are optional
# dependencies of their packages (Claude Code's postinstall copies its binary from there, downloading
# nothing); opencode is its Linux x64 build (opencode-linux-x64), the kind of machine the suite runs on.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
agents="$root/test/agents"
stamp="$agents/node_modules/.installed-lock-sha256"
wanted="$(sha256sum "$agents/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "agents: installing the coding-agent CLIs into test/agents (npm ci, about 1.2 GB)" >&2
  started=$SECONDS
  npm ci --prefix "$agents" --no-audit --no-fund >&2
  echo "$wanted" >"$stamp"
  echo "agents: installed in $((SECONDS - started)) s ($(du -sh "$agents/node_modules" | cut -f1))" >&2
fi
for cli in "$agents/node_modules/.bin/claude" "$agents/node_modules/.bin/codex" "$agents/node_modules/opencode-linux-x64/bin/opencode"; do
  "$cli" --version >/dev/null ||
    { echo "agents: $cli does not start (remove test/agents/node_modules and run scripts/agents.sh again)" >&2; exit 1; }
done
