#!/usr/bin/env bash
# make bench: the sensor against two yardsticks from ../shared/bench, on the
# same synthesised capture (gen_darknet, 10,000,000 packets by default),
# runs interleaved (A B A B ..., abtime.py), medians and per-pair ratios:
#
#   bare_loop    a bare libpcap read loop: the floor
#   ref_counter  a careful C program doing the counting part of the job
#                (decode, country by binary search, exact distinct sources
#                per hour, proto, port, country); no scan detection
#   teiten       `teiten run --read` with every stage on (decode, classify,
#                country, hourly cube with exact distinct counts, every
#                detector), and with detection only (no --counts-dir)
#
# then country lookups, peak memory under spoofed floods of 1, 2 and 5
# million fresh sources, and (LIVE=1, the default) the live load test
# (Benchmarks/live-load.sh). Machines here are shared and noisy: read ratios.
#
#   PACKETS=10000000 RUNS=5 FLOODS="1000000 2000000 5000000" LIVE=1 Benchmarks/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared/bench}
PACKETS=${PACKETS:-10000000}
RUNS=${RUNS:-5}
FLOODS=${FLOODS:-1000000 2000000 5000000}
LIVE=${LIVE:-1}
W=.build/bench
TEITEN=.build/release/teiten
mkdir -p "$W"

for f in bare_loop.c ref_counter.c gen_darknet.c geoip.h abtime.py; do
    [ -f "$SHARED/$f" ] || { echo "bench: $SHARED/$f not found (../shared must be beside the project)" >&2; exit 1; }
done
[ -x "$TEITEN" ] || { echo "bench: $TEITEN not built (run make bench)" >&2; exit 1; }

# The yardsticks are built from ../shared as they are: not product code.
gcc -O2 -Wall -o "$W/bare_loop" "$SHARED/bare_loop.c" -lpcap
gcc -O2 -Wall -o "$W/ref_counter" "$SHARED/ref_counter.c" -lpcap
gcc -O2 -Wall -o "$W/gen_darknet" "$SHARED/gen_darknet.c" -lm
CAPTURE=$W/gen_darknet_$PACKETS.pcap
if [ ! -s "$CAPTURE" ]; then
    echo "bench: generating $CAPTURE ($PACKETS packets, ../shared/bench/gen_darknet)"
    "$W/gen_darknet" "$PACKETS" "$CAPTURE.tmp" > /dev/null && mv "$CAPTURE.tmp" "$CAPTURE"
fi
cat "$CAPTURE" > /dev/null  # into the page cache, for every contender alike

RESULTS=$W/results-$(date -u +%Y%m%dT%H%M%SZ).jsonl
BARE="exec $W/bare_loop $CAPTURE"
REF="exec $W/ref_counter $CAPTURE"
ALL="rm -rf $W/counts; exec $TEITEN run --read $CAPTURE --quiet --counts-dir $W/counts"
DETECT="exec $TEITEN run --read $CAPTURE --quiet"
# The whole job as a sensor does it: every stage and the alert stream written
# to a file (the rows above only count the episodes' lines).
WITH_ALERTS="rm -rf $W/counts $W/alerts.jsonl; exec $TEITEN run --read $CAPTURE --quiet --counts-dir $W/counts --alerts $W/alerts.jsonl"
AB() { python3 "$SHARED/abtime.py" --runs "$RUNS" --packets "$PACKETS" --jsonl "$RESULTS" "$@"; }

echo "== $PACKETS packets ($(du -h "$CAPTURE" | cut -f1)), $RUNS runs each, interleaved pair by pair"
AB --label "ref_counter vs bare loop" --vs "$BARE" -- "$REF"
AB --label "teiten, all stages, vs bare loop" --vs "$BARE" -- "$ALL"
AB --label "teiten, all stages, vs ref_counter" --vs "$REF" -- "$ALL"
AB --label "teiten, detection only (no hourly counts), vs bare loop" --vs "$BARE" -- "$DETECT"
AB --label "teiten, all stages and the alert stream, vs ref_counter" --vs "$REF" -- "$WITH_ALERTS"

python3 - "$RESULTS" <<'PY'
import json, sys
rows = {r["label"]: r for r in map(json.loads, open(sys.argv[1]))}
def med(r, side): return r[side + "_wall"]["median"]
def pps(r, side): return r[side + "_pps_median"] / 1e6
ref, allb, allr, det, alerts = (rows[k] for k in rows)
print()
print("| program | median wall s | packets/s | × bare loop speed | × ref_counter speed |")
print("|---|---:|---:|---:|---:|")
print(f"| bare libpcap loop (bare_loop.c) | {med(ref, 'B'):.3f} | {pps(ref, 'B'):.2f} M | 1 | – |")
print(f"| ref_counter.c (counting only) | {med(ref, 'A'):.3f} | {pps(ref, 'A'):.2f} M | {1 / ref['ratio_wall']['median']:.3f} | 1 |")
print(f"| teiten run --read --counts-dir (all stages) | {med(allb, 'A'):.3f} | {pps(allb, 'A'):.2f} M | "
      f"{1 / allb['ratio_wall']['median']:.3f} | **{1 / allr['ratio_wall']['median']:.3f}** "
      f"(pairs {1 / allr['ratio_wall']['max']:.3f}–{1 / allr['ratio_wall']['min']:.3f}) |")
print(f"| teiten run --read (detection, no hourly counts) | {med(det, 'A'):.3f} | {pps(det, 'A'):.2f} M | "
      f"{1 / det['ratio_wall']['median']:.3f} | – |")
print(f"| teiten run --read --counts-dir --alerts FILE (all stages, alert stream written) | {med(alerts, 'A'):.3f} | "
      f"{pps(alerts, 'A'):.2f} M | – | {1 / alerts['ratio_wall']['median']:.3f} "
      f"(pairs {1 / alerts['ratio_wall']['max']:.3f}–{1 / alerts['ratio_wall']['min']:.3f}) |")
print()
print(f"Peak memory (median): ref_counter {ref['A_peak_mib']['median']:.0f} MiB, "
      f"teiten all stages {allb['A_peak_mib']['median']:.0f} MiB, detection only {det['A_peak_mib']['median']:.0f} MiB.")
target = 1 / allr['ratio_wall']['median']
print(f"Target (issue 6): teiten with every stage at >= 1.0x ref_counter's packets/s: {'met' if target >= 1 else 'NOT met'} ({target:.2f}x).")
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
echo "== spoofed SYN flood through every stage: every packet a new source (peak resident memory, GNU time; target <= 256 MiB)"
echo "| fresh sources | wall s | packets/s | peak MiB | table evictions | episodes | alert lines |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for n in $FLOODS; do
    FLOOD=$W/flood_$n.pcap
    [ -s "$FLOOD" ] || "$TEITEN" synth --mode flood --packets "$n" --hours 1 --seed 1 --output "$FLOOD"
    cat "$FLOOD" > /dev/null
    rm -rf "$W/flood-counts"
    summary=$( { /usr/bin/time -f "TIME %e %M" "$TEITEN" run --read "$FLOOD" --alerts /dev/null --counts-dir "$W/flood-counts"; } 2>&1 )
    wall=$(echo "$summary" | awk '/^TIME/ {print $2}')
    peak=$(echo "$summary" | awk '/^TIME/ {printf "%.0f", $3 / 1024}')
    evicted=$(echo "$summary" | awk '/stalest entries evicted/ {print $2}')
    episodes=$(echo "$summary" | grep -o 'alerts  *[0-9,]* episodes[^;]*' | head -1 | sed 's/alerts *//')
    lines=$(echo "$summary" | grep -o '[0-9,]* lines written' | awk '{print $1}')
    pps=$(python3 -c "print(f'{$n / $wall / 1e6:.2f} M')")
    echo "| $n | $wall | $pps | $peak | ${evicted:-0} | ${episodes:-0} | ${lines:-0} |"
done

if [ "$LIVE" = 1 ]; then
    echo
    Benchmarks/live-load.sh
fi

echo
echo "bench: raw results in $RESULTS"
