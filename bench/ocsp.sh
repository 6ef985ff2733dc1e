#!/usr/bin/env bash
# bench/ocsp.sh: OCSP throughput on loopback, in one run, against
#   cmgpki serve          (pre-signed responses from a lab's store)
#   openssl ocsp -port    (signs every response live)
#   nginx                 (one static pre-signed response file: the "physical limit")
# with the same request (a good client certificate). Every target's answer is
# checked with openssl before it is loaded. The server runs on CPU 0 and the
# load generator on CPU 1. Each load run is bounded: REQS requests or MAX_S
# seconds, whichever comes first (hey), or WRK_S seconds (wrk).
#
#   bench/ocsp.sh                      # hey, keep-alive, GET and POST, c=50
#   C=50 REQS=20000 MAX_S=20 WRK_S=10 bench/ocsp.sh
#
# Needs: openssl, nginx (nginx-light), hey (go install github.com/rakyll/hey@v0.1.4),
# wrk (optional, for the fast targets: hey saturates its own core near 30k req/s).
# Prints requests/s, p99 and errors per target and the ratios against the targets:
# cmgpki >= 10x openssl, >= 0.5x nginx, p99 < 5 ms at c=50, zero errors.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
C=${C:-50}; REQS=${REQS:-20000}; MAX_S=${MAX_S:-20}; WRK_S=${WRK_S:-10}
export PATH=$PATH:$(go env GOPATH)/bin
for t in openssl nginx hey curl; do command -v $t >/dev/null || { echo "bench/ocsp.sh: $t is required (see the header)" >&2; exit 2; }; done
have_wrk=0; command -v wrk >/dev/null && have_wrk=1
SRV=(); LOAD=()
if (( $(nproc) >= 2 )) && command -v taskset >/dev/null; then SRV=(taskset -c 0); LOAD=(taskset -c 1); fi

W=$(mktemp -d "${TMPDIR:-/tmp}/cmgpki-ocsp.XXXXXX")
PIDS=()
N=
cleanup() {
  for p in "${PIDS[@]:-}"; do [[ -n "$p" ]] && { pkill -P "$p" 2>/dev/null; kill "$p" 2>/dev/null; }; done
  wait 2>/dev/null; rm -rf "$W" ${N:+"$N"}
}
trap cleanup EXIT
P_CMG=18481; P_OSSL=18482; P_NGX=18483

go build -o "$W/cmgpki" "$repo/cmd/cmgpki"
"$W/cmgpki" lab create --out "$W/lab" --base-url "http://127.0.0.1:$P_CMG" --devices 0 >/dev/null 2>&1
L=$W/lab
openssl ocsp -issuer "$L/ca/issuing-ca.crt" -cert "$L/certs/client01.crt" -no_nonce -reqout "$W/req.der" >/dev/null 2>&1
getpath=$(base64 -w0 "$W/req.der" | sed 's/+/%2B/g; s/\//%2F/g; s/=/%3D/g')

# openssl's responder: an index.txt with every lab leaf valid.
: > "$W/index.txt"
for c in "$L"/certs/*.crt; do
  s=$(openssl x509 -in "$c" -noout -serial | cut -d= -f2)
  e=$(date -u -d "$(openssl x509 -in "$c" -noout -enddate | cut -d= -f2)" +%y%m%d%H%M%SZ)
  printf 'V\t%s\t\t%s\tunknown\t%s\n' "$e" "$s" "$(openssl x509 -in "$c" -noout -subject -nameopt compat | sed 's/^subject=//')" >> "$W/index.txt"
done

check() { # name url-for-POST -> "ok" or exits
  local out; out=$(openssl ocsp -issuer "$L/ca/issuing-ca.crt" -cert "$L/certs/client01.crt" -CAfile "$L/ca/root-ca.crt" -no_nonce -url "$2" 2>&1 || true)
  if [[ "$out" != *"Response verify OK"* || "$out" != *": good"* ]]; then echo "bench/ocsp.sh: $1 did not answer good over POST:" >&2; echo "$out" >&2; exit 3; fi
}
check_get() { # name url
  curl -s -o "$W/get.der" "$2" || true
  local out; out=$(openssl ocsp -respin "$W/get.der" -issuer "$L/ca/issuing-ca.crt" -cert "$L/certs/client01.crt" -CAfile "$L/ca/root-ca.crt" -no_nonce 2>&1 || true)
  if [[ "$out" != *"Response verify OK"* || "$out" != *": good"* ]]; then echo "bench/ocsp.sh: $1 did not answer good over GET" >&2; exit 3; fi
}
for p in $P_CMG $P_OSSL $P_NGX; do
  if curl -s -o /dev/null "http://127.0.0.1:$p/"; then echo "bench/ocsp.sh: port $p is already in use" >&2; exit 3; fi
done
wait_port() { for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; echo "port $1 did not open" >&2; exit 3; }

results=$W/results.tsv; : > "$results"
hey_run() { # name method url
  local name=$1 method=$2 url=$3 body=() out=$W/hey-$1-$2.txt
  [[ $method == POST ]] && body=(-m POST -D "$W/req.der" -T application/ocsp-request)
  "${LOAD[@]}" hey -cpus 1 -n 500 -c "$C" -t 10 "${body[@]}" "$url" > "$out.probe" 2>&1 || true
  local rate; rate=$(awk '/Requests\/sec/{printf "%d", $2}' "$out.probe"); rate=${rate:-0}
  local how=(-n "$REQS"); (( rate * MAX_S < REQS )) && how=(-z "${MAX_S}s")
  "${LOAD[@]}" hey -cpus 1 "${how[@]}" -c "$C" -t 10 "${body[@]}" "$url" > "$out" 2>&1 || true
  awk -v n="$name" -v m="$method" '
    /Requests\/sec:/ {rps=$2} /99%+ in/ {p99=$3*1000}
    /^[ \t]*\[[0-9]+\][ \t]+[0-9]+ responses/ {c=$1; gsub(/[\[\]]/,"",c); if (c!="200") bad+=$2; tot+=$2}
    /Error distribution/ {e=1; next} e && /^[ \t]*\[[0-9]+\]/ {x=$1; gsub(/[\[\]]/,"",x); bad+=x}
    END {printf "%s\they\t%s\t%.0f\t%.2f\t%d\t%d\n", n, m, rps, p99, bad, tot}' "$out" >> "$results"
}
cat > "$W/post.lua" <<LUA
local f = io.open("$W/req.der", "rb")
wrk.method = "POST"; wrk.body = f:read("*a"); f:close()
wrk.headers["Content-Type"] = "application/ocsp-request"
LUA
wrk_run() { # name method url
  (( have_wrk )) || return 0
  local name=$1 method=$2 url=$3 script=() out=$W/wrk-$1-$2.txt
  [[ $method == POST ]] && script=(-s "$W/post.lua")
  "${LOAD[@]}" wrk -t1 -c"$C" -d"${WRK_S}s" --timeout 10s --latency "${script[@]}" "$url" > "$out" 2>&1 || true
  awk -v n="$name" -v m="$method" '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /^ +99%/ {p99=ms($2)} /Requests\/sec:/ {rps=$2} / requests in / {tot=$1}
    /Non-2xx or 3xx responses:/ {bad+=$NF} /Socket errors:/ {s=$0; gsub(/[^0-9 ]/,"",s); split(s,a," "); bad+=a[1]+a[2]+a[3]+a[4]}
    END {printf "%s\twrk\t%s\t%.0f\t%.2f\t%d\t%d\n", n, m, rps, p99, bad, tot}' "$out" >> "$results"
}
start() { "${SRV[@]}" "$@" > "$W/server-$P.log" 2>&1 & PIDS+=($!); LAST=$!; }
stop() { kill "$LAST" 2>/dev/null || true; pkill -P "$LAST" 2>/dev/null || true; wait "$LAST" 2>/dev/null || true; sleep 0.5; }

# cmgpki serve (its access log goes to a file, as it would in production)
P=cmgpki; start "$W/cmgpki" serve --lab "$L" --poll 5s; wait_port $P_CMG
check cmgpki "http://127.0.0.1:$P_CMG/ocsp"; check_get cmgpki "http://127.0.0.1:$P_CMG/ocsp/$getpath"
curl -s -o "$W/static-resp.der" "http://127.0.0.1:$P_CMG/ocsp/$getpath"
for m in GET POST; do u="http://127.0.0.1:$P_CMG/ocsp"; [[ $m == GET ]] && u="$u/$getpath"; hey_run cmgpki $m "$u"; wrk_run cmgpki $m "$u"; done
stop

# openssl ocsp (live RSA-2048 signing; -ignore_err so bad input does not stop it)
P=openssl; start openssl ocsp -index "$W/index.txt" -port $P_OSSL -rsigner "$L/ca/issuing-ca.crt" -rkey "$L/ca/issuing-ca.key" \
  -CA "$L/ca/issuing-ca.crt" -ignore_err -nmin 60
sleep 1; check openssl "http://127.0.0.1:$P_OSSL/"; check_get openssl "http://127.0.0.1:$P_OSSL/$getpath"
hey_run openssl GET "http://127.0.0.1:$P_OSSL/$getpath"; hey_run openssl POST "http://127.0.0.1:$P_OSSL/"
stop

# nginx: the same pre-signed response as a static file, one worker
N=$(mktemp -d "${TMPDIR:-/tmp}/cmgpki-ngx.XXXXXX"); chmod 755 "$N"   # readable by nginx's worker user; holds no keys
mkdir -p "$N/logs" "$N/static"; cp "$W/static-resp.der" "$N/static/resp.der"; chmod -R a+rX "$N"
cat > "$N/nginx.conf" <<NGX
worker_processes 1; daemon off; error_log $N/logs/error.log; pid $N/nginx.pid;
events { worker_connections 1024; }
http { access_log off; sendfile on; keepalive_requests 100000;
  server { listen 127.0.0.1:$P_NGX;
    root $N/static;
    location / { default_type application/ocsp-response; try_files /resp.der =404; } } }
NGX
P=nginx; start nginx -p "$N" -c "$N/nginx.conf"; wait_port $P_NGX
check_get nginx "http://127.0.0.1:$P_NGX/ocsp/$getpath"
hey_run nginx GET "http://127.0.0.1:$P_NGX/ocsp/$getpath"; wrk_run nginx GET "http://127.0.0.1:$P_NGX/ocsp/$getpath"
stop

echo "# bench/ocsp.sh: c=$C keep-alive, server on CPU 0, load on CPU 1, $(nproc) cores, $(openssl version | cut -d' ' -f1-2), $(nginx -v 2>&1 | cut -d/ -f2)"
printf '%-8s %-4s %-5s %10s %9s %8s %9s\n' target tool method "req/s" "p99 ms" errors requests
sort -k1,1 -k2,2 -k3,3 "$results" | awk -F'\t' '{printf "%-8s %-4s %-5s %10s %9s %8s %9s\n", $1, $2, $3, $4, $5, $6, $7}'
awk -F'\t' '
  {rps[$1" "$2" "$3]=$4; p99[$1" "$2" "$3]=$5; err[$1]+=$6}
  function best(t, m,  a, b) { a = rps[t" wrk "m] + 0; b = rps[t" hey "m] + 0; return a > b ? a : b }
  END {
    printf "\ncmgpki / openssl (GET, hey):  %.1fx   target >= 10x\n", rps["cmgpki hey GET"] / rps["openssl hey GET"]
    printf "cmgpki / openssl (POST, hey): %.1fx   target >= 10x\n", rps["cmgpki hey POST"] / rps["openssl hey POST"]
    printf "cmgpki / nginx (GET, best of hey and wrk): %.2fx   target >= 0.5x\n", best("cmgpki", "GET") / best("nginx", "GET")
    printf "cmgpki p99 at c=50 (hey GET / POST): %s / %s ms   target < 5 ms\n", p99["cmgpki hey GET"], p99["cmgpki hey POST"]
    printf "cmgpki errors and non-200 answers: %d   target 0\n", err["cmgpki"]
  }' "$results"
