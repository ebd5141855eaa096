#!/usr/bin/env bash
# Install and start what the test suite needs besides Python: PostgreSQL (own cluster on
# 127.0.0.1), SoftHSM2, wrk (the HTTP benchmark's load generator), Tesseract (OCR of
# images for the PII scanner), a Java runtime (local PySpark) and a Devanagari font
# (report charts), Chromium (the console's and the portal's browser tests, driven by
# Playwright through its executable path) and Go with x/mod (the ledger tiles' verifier).
# Idempotent; prints `export` lines for the test environment.
set -euo pipefail

PGPORT="${NTK_TEST_PGPORT:-54329}"
PGDATA="${NTK_TEST_PGDATA:-/tmp/ntk-test-pg-$PGPORT}"

need=()
command -v softhsm2-util >/dev/null 2>&1 || need+=(softhsm2)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr tesseract-ocr-eng)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
# a Devanagari font, so report charts with Hindi labels render (analytics.chart)
[ -e /usr/share/fonts/truetype/lohit-devanagari/Lohit-Devanagari.ttf ] || need+=(fonts-lohit-deva)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# a Unicode font for the incident reports' PDFs (needtoknow.incidents.reports)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
# Go and its transparency-log packages: the independent verifier of `ntk ledger tiles`
# (tests/ledger/tlogverify, golang.org/x/mod/sumdb/tlog and note, built offline)
command -v go >/dev/null 2>&1 || need+=(golang-go)
[ -d /usr/share/gocode/src/golang.org/x/mod/sumdb/tlog ] || need+=(golang-golang-x-mod-dev)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test-services: missing ${need[*]} and not root; install them" >&2
    exit 1
  fi
  echo "test-services: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
run_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$PGDATA"
  run_pg "$bindir/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 >/dev/null
fi
if ! run_pg "$bindir/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
  run_pg "$bindir/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PGPORT -c unix_socket_directories=$PGDATA -c fsync=off -c max_connections=300" \
    start >/dev/null
fi
echo "export NTK_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$PGPORT/postgres"
module=$(ls /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so 2>/dev/null | head -n 1)
echo "export NTK_TEST_PKCS11_MODULE=$module"
