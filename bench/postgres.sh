#!/usr/bin/env bash
# Benchmarks of the PostgreSQL store and of several serve instances behind
# nginx. Needs the postgresql and nginx-light packages (as .ci/run installs);
# each benchmark starts its own cluster, instances and nginx on loopback.
#   CRL of 100,000 entries read from PostgreSQL (target < 1 s), and the same
#   from SQLite for comparison; importing 1,000,000 certificates;
#   revocation propagation (p50/p99) across two instances;
#   OCSP req/s through nginx with one vs two instances.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -count=1 -run '^$' -bench 'CRL100kFrom|Import1MPostgres' -benchtime=1x ./crl
go test -count=1 -run '^$' -bench 'RevocationPropagation|OCSPThroughNginx' -benchtime=1x ./cmd
