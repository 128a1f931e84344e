#!/usr/bin/env bash
# Makes sure Debian's chromium is at /usr/bin/chromium for the dashboard's browser tests (test/dashboard-*):
# installs it from Debian's packages when absent (CI and the developers' machines run as root).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium.sh: /usr/bin/chromium is missing; install Debian's chromium package (apt-get install chromium)" >&2
  exit 1
fi
echo "chromium.sh: installing chromium from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 || true
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
