#!/usr/bin/env bash
# Runs the gateway (embedded SQLite storage, no external server needed). Configure with env vars; see README.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
# The admin dashboard (/admin/dashboard): built when missing or older than its sources.
node scripts/build-dashboard.ts --if-stale || echo "start.sh: the dashboard could not be built; /admin/dashboard answers 503 until it is (npm run build:dashboard)" >&2
exec node src/main.ts "$@"
