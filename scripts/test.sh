#!/usr/bin/env bash
# Runs the whole test suite: type check, then every test (unit, simulators, SDKs, SQLite and PostgreSQL).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
bash scripts/services.sh
# The real coding-agent CLIs (test/coding-agent-clis*.test.ts) in their own package, installed when absent.
bash scripts/agents.sh
echo "== type check (tsc --noEmit)"
npx tsc --noEmit -p .
npx tsc --noEmit -p src/dashboard/web
# Debian's chromium for the dashboard's browser tests (test/dashboard-*.test.ts).
bash scripts/chromium.sh
echo "== tests (vitest)"
report="$(mktemp)"
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
node -e '
const fs = require("node:fs");
try {
  const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  console.log(`Tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + (r.numTodoTests ?? 0)} skipped`);
} catch { console.log("Tests: no report"); }
' "$report"
rm -f "$report"
exit "$status"
