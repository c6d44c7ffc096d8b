#!/usr/bin/env bash
# Make sure the PostgreSQL the tests use is there: 127.0.0.1:5432, trust auth, database
# `test` (HALL_TEST_PG overrides the URL). Installs and starts it on a fresh Debian machine.
set -euo pipefail

ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ! command -v pg_isready >/dev/null 2>&1; then
  echo "installing PostgreSQL (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
fi
if ! ready; then
  echo "starting PostgreSQL"
  for version in $(ls /etc/postgresql); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
  for _ in $(seq 1 30); do ready && break; sleep 1; done
fi
ready || { echo "PostgreSQL is not answering on 127.0.0.1:5432" >&2; exit 1; }

# trust auth on 127.0.0.1 and the `test` database, as the test suite expects them
if ! psql -h 127.0.0.1 -U postgres -d postgres -c "select 1" >/dev/null 2>&1; then
  hba=$(su postgres -c "psql -tAc 'show hba_file'")
  grep -Eq '^host +all +all +127\.0\.0\.1/32 +trust' "$hba" || sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  su postgres -c "psql -qc 'select pg_reload_conf()'" >/dev/null
fi
psql -h 127.0.0.1 -U postgres -d test -c "select 1" >/dev/null 2>&1 || createdb -h 127.0.0.1 -U postgres test
psql -h 127.0.0.1 -U postgres -d test -c "select 1" >/dev/null
echo "PostgreSQL ready"
