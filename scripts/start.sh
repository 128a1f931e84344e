#!/usr/bin/env bash
# Runs the gateway (embedded SQLite storage, no external server needed). Configure with env vars; see README.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
exec node src/main.ts "$@"
