#!/usr/bin/env bash
# bench/lab.sh: time `cmgpki lab create` (default lab) against the same set of
# certificates made by bench/openssl-lab.sh, side by side in interleaved rounds
# on this machine (order alternates each round), and print the medians and
# the median ratio. Then, with reused keys, time N client certificates.
#
#   ROUNDS=11 N_CLIENTS=1000 bench/lab.sh
#
# Knobs: ROUNDS (default 11), N_CLIENTS (default 1000; 0 skips part 2),
# WORK (scratch directory, default a fresh mktemp under /dev/shm when it
# exists: this VM's disk throttles file creation, which would measure the disk).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
ROUNDS=${ROUNDS:-11}
N_CLIENTS=${N_CLIENTS:-1000}
scratch=/tmp; [[ -d /dev/shm && -w /dev/shm ]] && scratch=/dev/shm
WORK=${WORK:-$(mktemp -d "$scratch/cmgpki-bench.XXXXXX")}
trap 'rm -rf "$WORK"' EXIT
command -v openssl >/dev/null || { echo "bench/lab.sh: openssl is required (apt-get install -y openssl)" >&2; exit 2; }

bin=$WORK/cmgpki
(cd "$repo" && go build -o "$bin" ./cmd/cmgpki)
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END{ if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }

run_cmgpki()  { "$bin" lab create --out "$1" >/dev/null 2>&1; }
run_openssl() { "$here/openssl-lab.sh" "$1" >/dev/null 2>&1; }

echo "# bench/lab.sh: default lab (3 CAs + 5 leaves, PEM/chain/DER/key/PFX), $ROUNDS interleaved rounds, $(nproc) cores, $(openssl version | cut -d' ' -f1-2)"
: > "$WORK/t_cmgpki"; : > "$WORK/t_openssl"
for ((i = 0; i < ROUNDS; i++)); do
  order=(cmgpki openssl); ((i % 2)) && order=(openssl cmgpki)
  for tool in "${order[@]}"; do
    d=$WORK/r$i-$tool; t0=$(now_ms); "run_$tool" "$d"; t1=$(now_ms)
    echo $((t1 - t0)) >> "$WORK/t_$tool"; rm -rf "$d"
  done
done
mc=$(median < "$WORK/t_cmgpki"); mo=$(median < "$WORK/t_openssl")
printf '%-28s %8s ms\n' "cmgpki lab create (median)" "$mc" "openssl script (median)" "$mo"
awk -v a="$mc" -v b="$mo" 'BEGIN{printf "ratio openssl/cmgpki: %.2fx faster (target >= 3x)\n", b/a}'

if ((N_CLIENTS > 0)); then
  echo
  echo "# $N_CLIENTS PKI client certificates with reused keys (keys generated once, untimed), 3 rounds"
  keys=$WORK/keys
  "$bin" lab create --out "$WORK/warm" --clients "$N_CLIENTS" --devices 0 --keys "$keys" >/dev/null 2>&1; rm -rf "$WORK/warm"
  : > "$WORK/t_clients"
  for ((i = 0; i < 3; i++)); do
    t0=$(now_ms); "$bin" lab create --out "$WORK/c$i" --clients "$N_CLIENTS" --devices 0 --keys "$keys" >/dev/null 2>&1; t1=$(now_ms)
    echo $((t1 - t0)) >> "$WORK/t_clients"; rm -rf "$WORK/c$i"
  done
  printf '%-28s %8s ms (target < 2000 ms; includes the 3 CAs and CMG/MP/CP leaves)\n' "cmgpki $N_CLIENTS clients (median)" "$(median < "$WORK/t_clients")"
fi
