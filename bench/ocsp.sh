#!/usr/bin/env bash
# bench/ocsp.sh: OCSP throughput on loopback, side by side, in interleaved rounds:
#   cmgpki   cmgpki serve on a fresh lab (pre-signed responses, access log on,
#            written to a file as in production), default engine (fasthttp)
#   cmgstd   the same lab served by cmgpki serve --engine net/http
#   nginx    the same response bytes as a static file (sendfile on,
#            keepalive_requests 100000, open_file_cache so the file is not
#            opened per request, one worker, access log off)
#   bare     a bare net/http handler returning the same bytes (bench/barehttp:
#            the net/http floor, same server timeouts as cmgpki serve)
# Every target's answer is checked with openssl (signature, chain, status good)
# and compared byte for byte before any load. All servers run on CPU 0 and the
# load generator on CPU 1. Each round loads every target once with
# `wrk -t1 -c$C -d${D}s` on the RFC 5019 GET URL (and POST for cmgpki, cmgstd and bare);
# the order of the targets rotates from round to round, because the machine
# drifts within minutes. At the end it prints the median of the per-round ratios.
#
#   bench/ocsp.sh                 # ROUNDS=3 C=50 D=4
#   ROUNDS=5 bench/ocsp.sh
#
# Needs: go, openssl, curl, nginx (nginx-light), wrk, taskset; 2 or more cores.
# Bounded: ROUNDS (1..20) x 7 loads of D (1..30) seconds, loopback only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
ROUNDS=${ROUNDS:-3}; C=${C:-50}; D=${D:-4}
[[ $ROUNDS =~ ^[0-9]+$ ]] && (( ROUNDS >= 1 && ROUNDS <= 20 )) || { echo "bench/ocsp.sh: ROUNDS must be 1..20" >&2; exit 2; }
[[ $D =~ ^[0-9]+$ ]] && (( D >= 1 && D <= 30 )) || { echo "bench/ocsp.sh: D must be 1..30 (seconds)" >&2; exit 2; }
[[ $C =~ ^[0-9]+$ ]] && (( C >= 1 && C <= 1000 )) || { echo "bench/ocsp.sh: C must be 1..1000" >&2; exit 2; }
for t in go openssl nginx wrk curl taskset; do command -v $t >/dev/null || { echo "bench/ocsp.sh: $t is required (see the header)" >&2; exit 2; }; done
(( $(nproc) >= 2 )) || { echo "bench/ocsp.sh: needs 2 cores (server on CPU 0, wrk on CPU 1)" >&2; exit 2; }
SRV=(taskset -c 0); LOAD=(taskset -c 1)

W=$(mktemp -d "${TMPDIR:-/tmp}/cmgpki-ocsp.XXXXXX")
N=$(mktemp -d "${TMPDIR:-/tmp}/cmgpki-ngx.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [[ -n "$p" ]] && kill "$p" 2>/dev/null; done
  wait 2>/dev/null; rm -rf "$W" "$N"
}
trap cleanup EXIT
P_CMG=18481; P_STD=18482; P_NGX=18483; P_BARE=18484
for p in $P_CMG $P_STD $P_NGX $P_BARE; do
  if curl -s -o /dev/null "http://127.0.0.1:$p/"; then echo "bench/ocsp.sh: port $p is already in use" >&2; exit 3; fi
done
wait_port() { for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; echo "bench/ocsp.sh: port $1 did not open" >&2; exit 3; }

go build -o "$W/cmgpki" "$repo/cmd/cmgpki"
go build -o "$W/barehttp" "$repo/bench/barehttp"
"$W/cmgpki" lab create --out "$W/lab" --base-url "http://127.0.0.1:$P_CMG" --devices 0 >/dev/null 2>&1
L=$W/lab
openssl ocsp -issuer "$L/ca/issuing-ca.crt" -cert "$L/certs/client01.crt" -no_nonce -reqout "$W/req.der" >/dev/null 2>&1
getpath=$(base64 -w0 "$W/req.der" | sed 's/+/%2B/g; s/\//%2F/g; s/=/%3D/g')

check_der() { # name file: the response is signed by the lab's CA chain and says good
  local out; out=$(openssl ocsp -respin "$2" -issuer "$L/ca/issuing-ca.crt" -cert "$L/certs/client01.crt" -CAfile "$L/ca/root-ca.crt" -no_nonce 2>&1 || true)
  if [[ "$out" != *"Response verify OK"* || "$out" != *": good"* ]]; then echo "bench/ocsp.sh: $1 did not answer good:" >&2; echo "$out" >&2; exit 3; fi
}
check_get() { # name url: GET answer is good and the same bytes as cmgpki's
  curl -sf -o "$W/get-$1.der" "$2" || { echo "bench/ocsp.sh: $1: GET failed" >&2; exit 3; }
  check_der "$1 (GET)" "$W/get-$1.der"
  cmp -s "$W/get-$1.der" "$W/resp.der" || { echo "bench/ocsp.sh: $1 answered other bytes than cmgpki" >&2; exit 3; }
}
check_post() { # name url
  curl -sf -o "$W/post-$1.der" -H 'Content-Type: application/ocsp-request' --data-binary @"$W/req.der" "$2" || { echo "bench/ocsp.sh: $1: POST failed" >&2; exit 3; }
  check_der "$1 (POST)" "$W/post-$1.der"
}

# cmgpki serve: its access log (stderr) goes to a file, as it would in production.
"${SRV[@]}" "$W/cmgpki" serve --lab "$L" --poll 5s > "$W/cmgpki.out" 2> "$W/cmgpki.log" & PIDS+=($!)
wait_port $P_CMG
curl -sf -o "$W/resp.der" "http://127.0.0.1:$P_CMG/ocsp/$getpath" || { echo "bench/ocsp.sh: cmgpki: GET failed" >&2; exit 3; }
check_get cmgpki "http://127.0.0.1:$P_CMG/ocsp/$getpath"
check_post cmgpki "http://127.0.0.1:$P_CMG/ocsp"
# The same lab on the net/http engine (it serves the store the first one made).
"${SRV[@]}" "$W/cmgpki" serve --lab "$L" --poll 5s --engine net/http --listen 127.0.0.1:$P_STD > "$W/cmgstd.out" 2> "$W/cmgstd.log" & PIDS+=($!)
wait_port $P_STD
check_get cmgstd "http://127.0.0.1:$P_STD/ocsp/$getpath"
check_post cmgstd "http://127.0.0.1:$P_STD/ocsp"

chmod 755 "$N"; mkdir -p "$N/logs" "$N/static"; cp "$W/resp.der" "$N/static/resp.der"; chmod -R a+rX "$N"
cat > "$N/nginx.conf" <<NGX
worker_processes 1; daemon off; error_log $N/logs/error.log; pid $N/nginx.pid;
events { worker_connections 1024; }
http { access_log off; sendfile on; keepalive_requests 100000; open_file_cache max=16 inactive=60s;
  server { listen 127.0.0.1:$P_NGX;
    root $N/static;
    location / { default_type application/ocsp-response; try_files /resp.der =404; } } }
NGX
"${SRV[@]}" nginx -p "$N" -c "$N/nginx.conf" > "$W/nginx.log" 2>&1 & PIDS+=($!)
wait_port $P_NGX
check_get nginx "http://127.0.0.1:$P_NGX/ocsp/$getpath"

"${SRV[@]}" "$W/barehttp" -addr 127.0.0.1:$P_BARE -file "$W/resp.der" > "$W/bare.log" 2>&1 & PIDS+=($!)
wait_port $P_BARE
check_get bare "http://127.0.0.1:$P_BARE/ocsp/$getpath"
check_post bare "http://127.0.0.1:$P_BARE/ocsp"

cat > "$W/post.lua" <<LUA
local f = io.open("$W/req.der", "rb")
wrk.method = "POST"; wrk.body = f:read("*a"); f:close()
wrk.headers["Content-Type"] = "application/ocsp-request"
LUA
results=$W/results.tsv; : > "$results"
load() { # round target method url
  local script=() out=$W/wrk-$1-$2-$3.txt
  [[ $3 == POST ]] && script=(-s "$W/post.lua")
  "${LOAD[@]}" wrk -t1 -c"$C" -d"${D}s" --timeout 5s --latency "${script[@]}" "$4" > "$out" 2>&1 || true
  awk -v r="$1" -v n="$2" -v m="$3" '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /^ +50%/ {p50=ms($2)} /^ +99%/ {p99=ms($2)} /Requests\/sec:/ {rps=$2} / requests in / {tot=$1}
    /Non-2xx or 3xx responses:/ {bad+=$NF}
    /Socket errors:/ {s=$0; gsub(/[^0-9 ]/,"",s); split(s,a," "); bad+=a[1]+a[2]+a[3]+a[4]}
    END {printf "%s\t%s\t%s\t%.0f\t%.2f\t%.2f\t%d\t%d\n", r, n, m, rps, p50, p99, bad, tot}' "$out" >> "$results"
}
targets=("cmgpki GET http://127.0.0.1:$P_CMG/ocsp/$getpath"
         "nginx GET http://127.0.0.1:$P_NGX/ocsp/$getpath"
         "cmgstd GET http://127.0.0.1:$P_STD/ocsp/$getpath"
         "bare GET http://127.0.0.1:$P_BARE/ocsp/$getpath"
         "cmgpki POST http://127.0.0.1:$P_CMG/ocsp"
         "cmgstd POST http://127.0.0.1:$P_STD/ocsp"
         "bare POST http://127.0.0.1:$P_BARE/ocsp")
for ((r = 1; r <= ROUNDS; r++)); do
  for ((i = 0; i < ${#targets[@]}; i++)); do
    set -- ${targets[$(( (i + r - 1) % ${#targets[@]} ))]}
    load "$r" "$1" "$2" "$3"
  done
done
for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null || { echo "bench/ocsp.sh: a server exited during the run" >&2; exit 3; }; done

echo "# bench/ocsp.sh $(date -u +%Y-%m-%d): wrk -t1 -c$C -d${D}s keep-alive, $ROUNDS interleaved rounds, servers on CPU 0, wrk on CPU 1, $(nproc) cores,"
echo "# $(go version | cut -d' ' -f3), $(nginx -v 2>&1 | cut -d' ' -f3), $(openssl version | cut -d' ' -f1-2); every answer checked with openssl first"
printf '%-5s %-7s %-6s %9s %8s %8s %7s %9s\n' round target method "req/s" "p50 ms" "p99 ms" errors requests
awk -F'\t' '{printf "%-5s %-7s %-6s %9s %8s %8s %7s %9s\n", $1, $2, $3, $4, $5, $6, $7, $8}' "$results"
awk -F'\t' -v rounds="$ROUNDS" '
  {rps[$1" "$2" "$3]=$4; p99[$2" "$3]=p99[$2" "$3]" "$6; err[$2]+=$7}
  function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  function ratio(x, y, label, target,   r, v, s) { s = ""
    for (r = 1; r <= rounds; r++) { v[r] = (rps[r" "y] > 0) ? rps[r" "x] / rps[r" "y] : 0; s = s sprintf(" %.2f", v[r]) }
    printf "%-30s median %.2fx  (rounds:%s)%s\n", label, med(v, rounds), s, target }
  function medrps(k,   r, v) { for (r = 1; r <= rounds; r++) v[r] = rps[r" "k] + 0; return med(v, rounds) }
  function medp99(k,   v, n) { n = split(p99[k], v, " "); return med(v, n) }
  END {
    printf "\nmedian req/s: cmgpki GET %.0f, cmgstd GET %.0f, nginx GET %.0f, bare GET %.0f, cmgpki POST %.0f, cmgstd POST %.0f, bare POST %.0f\n", \
      medrps("cmgpki GET"), medrps("cmgstd GET"), medrps("nginx GET"), medrps("bare GET"), medrps("cmgpki POST"), medrps("cmgstd POST"), medrps("bare POST")
    ratio("cmgpki GET", "nginx GET", "cmgpki / nginx (GET)", "   target >= 0.8x, moonshot 0.9x")
    ratio("cmgpki GET", "bare GET", "cmgpki / bare net/http (GET)", "   target >= 0.95x")
    ratio("cmgpki POST", "bare POST", "cmgpki / bare net/http (POST)", "   target >= 0.95x")
    ratio("cmgstd GET", "bare GET", "cmgstd / bare net/http (GET)", "   (the net/http engine)")
    ratio("cmgstd POST", "bare POST", "cmgstd / bare net/http (POST)", "")
    ratio("cmgstd GET", "nginx GET", "cmgstd / nginx (GET)", "")
    ratio("bare GET", "nginx GET", "bare net/http / nginx (GET)", "")
    printf "median p99 at c=%d: cmgpki GET %.2f ms, POST %.2f ms; cmgstd GET %.2f ms, POST %.2f ms   target < 5 ms\n", '"$C"', medp99("cmgpki GET"), medp99("cmgpki POST"), medp99("cmgstd GET"), medp99("cmgstd POST")
    printf "median p99 at c=%d: nginx GET %.2f ms; bare GET %.2f ms, POST %.2f ms\n", '"$C"', medp99("nginx GET"), medp99("bare GET"), medp99("bare POST")
    printf "errors and non-2xx/3xx answers: cmgpki %d, cmgstd %d, nginx %d, bare %d   target 0\n", err["cmgpki"], err["cmgstd"], err["nginx"], err["bare"]
  }' "$results"
echo "# access-log lines written: cmgpki $(wc -l < "$W/cmgpki.log"), cmgstd $(wc -l < "$W/cmgstd.log")"
