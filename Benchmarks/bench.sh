#!/usr/bin/env bash
# make bench: packets/s of `teiten run --read` (decode, classify, every
# detector, country lookup for alerts) against a bare libpcap read loop
# (../shared/bench/bare_loop.c, pcap_next_ex and nothing else) on the same
# synthesised capture, runs interleaved (A B A B ...), medians and the
# per-pair ratio; then peak memory under spoofed floods of 1, 2 and 5
# million fresh sources. Machines here are shared and noisy: read ratios.
#
#   PACKETS=2000000 RUNS=7 FLOODS="1000000 2000000 5000000" Benchmarks/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared/bench}
PACKETS=${PACKETS:-2000000}
RUNS=${RUNS:-7}
FLOODS=${FLOODS:-1000000 2000000 5000000}
W=.build/bench
TEITEN=.build/release/teiten
mkdir -p "$W"

for f in bare_loop.c abtime.py; do
    [ -f "$SHARED/$f" ] || { echo "bench: $SHARED/$f not found (../shared must be beside the project)" >&2; exit 1; }
done
[ -x "$TEITEN" ] || { echo "bench: $TEITEN not built (run make bench)" >&2; exit 1; }

gcc -O2 -Wall -o "$W/bare_loop" "$SHARED/bare_loop.c" -lpcap
CAPTURE=$W/darknet_$PACKETS.pcap
if [ ! -s "$CAPTURE" ]; then
    echo "bench: synthesising $CAPTURE ($PACKETS packets)"
    "$TEITEN" synth --packets "$PACKETS" --hours 4 --seed 1 --output "$CAPTURE.tmp" && mv "$CAPTURE.tmp" "$CAPTURE"
fi
cat "$CAPTURE" > /dev/null  # into the page cache, for every contender alike

RESULTS=$W/results-$(date -u +%Y%m%dT%H%M%SZ).jsonl
BARE="exec $W/bare_loop $CAPTURE"
AB() { python3 "$SHARED/abtime.py" --runs "$RUNS" --packets "$PACKETS" --jsonl "$RESULTS" --vs "$BARE" "$@"; }

echo "== $PACKETS packets, $(du -h "$CAPTURE" | cut -f1), $RUNS runs each, interleaved with the bare loop"
AB --label "bare libpcap loop (self-pair)" -- "$BARE"
AB --label "teiten run --read (mapped reader; decode, classify, all detectors)" -- "exec $TEITEN run --read $CAPTURE --quiet"
AB --label "teiten run --read --reader libpcap (decode, classify, all detectors)" -- "exec $TEITEN run --read $CAPTURE --quiet --reader libpcap"
rm -rf "$W/counts"
AB --label "teiten run --read --counts-dir (all stages: detectors, country per packet, hourly counts)" -- \
    "rm -rf $W/counts; exec $TEITEN run --read $CAPTURE --quiet --counts-dir $W/counts"

python3 - "$RESULTS" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print()
print("| command | median wall s | packets/s | bare loop packets/s | × bare loop speed (median of pairs) |")
print("|---|---:|---:|---:|---:|")
for r in rows:
    speed = 1 / r["ratio_wall"]["median"]
    print(f"| {r['label']} | {r['A_wall']['median']:.3f} | {r['A_pps_median']/1e6:.2f} M | {r['B_pps_median']/1e6:.2f} M | {speed:.2f} (min {1/r['ratio_wall']['max']:.2f}, max {1/r['ratio_wall']['min']:.2f}) |")
PY

echo
echo "== country lookup (teiten geo bench: random addresses, no cache; MMDB=path adds a MaxMind file)"
"$TEITEN" geo bench -n 5000000 --geo-db /usr/share/tor/geoip --geo-db /usr/share/tor/geoip6 ${MMDB:+--geo-db "$MMDB"} | python3 -c "
import csv, sys
rows = list(csv.reader(sys.stdin))
print('| database | family | ranges | load s | lookups/s | unknown share |')
print('|---|---|---:|---:|---:|---:|')
for r in rows[1:]: print('| ' + ' | '.join(r) + ' |')
"

echo
echo "== spoofed SYN flood: every packet a new source (peak resident memory, GNU time)"
echo "| fresh sources | wall s | packets/s | peak MiB | table evictions | flood episodes |"
echo "|---:|---:|---:|---:|---:|---:|"
for n in $FLOODS; do
    FLOOD=$W/flood_$n.pcap
    [ -s "$FLOOD" ] || "$TEITEN" synth --mode flood --packets "$n" --hours 1 --seed 1 --output "$FLOOD"
    cat "$FLOOD" > /dev/null
    rm -rf "$W/flood-counts"
    summary=$( { /usr/bin/time -f "TIME %e %M" "$TEITEN" run --read "$FLOOD" --alerts /dev/null --counts-dir "$W/flood-counts"; } 2>&1 )
    wall=$(echo "$summary" | awk '/^TIME/ {print $2}')
    peak=$(echo "$summary" | awk '/^TIME/ {printf "%.0f", $3 / 1024}')
    evicted=$(echo "$summary" | awk '/stalest entries evicted/ {print $2}')
    floods=$(echo "$summary" | grep -o 'flood [0-9,]*' | head -1 | awk '{print $2}')
    pps=$(python3 -c "print(f'{$n / $wall / 1e6:.2f} M')")
    echo "| $n | $wall | $pps | $peak | ${evicted:-0} | ${floods:-0} |"
done

echo
echo "bench: raw results in $RESULTS"
