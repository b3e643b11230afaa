#!/usr/bin/env bash
# Makes sure Debian's PostgreSQL server binaries are installed (initdb, pg_ctl, postgres), for
# the tests in test/database/ that start their own throwaway cluster (scripts/local-postgres.ts).
# Idempotent: does nothing when they are already there. Does not start a server.
# Needs root (apt-get) when it has to install; CI runs as root.
set -euo pipefail

if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  echo "postgres-setup: found $(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "postgres-setup: PostgreSQL is not installed; run as root (or: sudo apt-get install -y postgresql)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "postgres-setup: installing postgresql from Debian"
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql >/dev/null

# The package may start a system cluster on port 5432; the tests do not use it.
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  echo "postgres-setup: postgresql was installed but no /usr/lib/postgresql/*/bin/initdb exists" >&2
  exit 1
fi
echo "postgres-setup: installed $(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
