#!/usr/bin/env bash
# Installs the real coding-agent CLIs that test/coding-agent-clis*.test.ts drive (Claude Code, Codex) into
# test/agents/node_modules: their own package, about 800 MB, kept out of the gateway's own install. Runs
# `npm ci` there when nothing is installed or test/agents/package-lock.json is newer than the install, then
# checks that both CLIs start. Everything comes from the npm registry: each CLI's native binary is an
# optional dependency of its package (Claude Code's postinstall copies it from there; it downloads nothing).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
agents="$root/test/agents"
installed="$agents/node_modules/.package-lock.json"
if [ ! -f "$installed" ] || [ "$agents/package-lock.json" -nt "$installed" ]; then
  echo "agents: installing the coding-agent CLIs into test/agents (npm ci, about 800 MB)" >&2
  started=$SECONDS
  npm ci --prefix "$agents" --no-audit --no-fund >&2
  echo "agents: installed in $((SECONDS - started)) s ($(du -sh "$agents/node_modules" | cut -f1))" >&2
fi
for cli in claude codex; do
  "$agents/node_modules/.bin/$cli" --version >/dev/null ||
    { echo "agents: $cli does not start (re-run after: rm -rf test/agents/node_modules)" >&2; exit 1; }
done
