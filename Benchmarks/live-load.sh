#!/usr/bin/env bash
# Live load: tcpreplay sends a synthesised darknet capture onto the loopback
# interface at increasing rates while `teiten run --interface lo` captures
# with every stage on; for each rate, the kernel drops the sensor reports.
# Prints a table and the highest rate with zero kernel drops. Bounded: each
# rate runs SECONDS seconds (tcpreplay --limit = rate x SECONDS packets).
# Needs root (capture, and tcpreplay's packet socket) and tcpreplay.
#
# "top" is tcpreplay --topspeed (as fast as it can send, for the same
# number of packets as the rate before it).
#
#   RATES="25000 50000 100000 200000 400000 top" SECONDS_PER_RATE=30 BUFFER_MIB=32 SNAPLEN=512 Benchmarks/live-load.sh
#
# `make test` runs it short (one low rate, a few seconds) and fails on drops there.
set -euo pipefail
cd "$(dirname "$0")/.."
RATES=${RATES:-25000 50000 100000 200000 400000 top}
SECONDS_PER_RATE=${SECONDS_PER_RATE:-30}
BUFFER_MIB=${BUFFER_MIB:-32}
SNAPLEN=${SNAPLEN:-512}
REQUIRE_ZERO_AT_LOWEST=${REQUIRE_ZERO_AT_LOWEST:-0}
TEITEN=${TEITEN:-.build/release/teiten}
W=.build/bench/live
mkdir -p "$W"

if [ "$(id -u)" != 0 ]; then echo "live-load: skipped, needs root (live capture on lo)"; exit 0; fi
command -v tcpreplay > /dev/null || { echo "live-load: tcpreplay missing (apt-get install tcpreplay)" >&2; exit 1; }
[ -x "$TEITEN" ] || { echo "live-load: $TEITEN not built" >&2; exit 1; }

CAPTURE=$W/live_200k.pcap
[ -s "$CAPTURE" ] || "$TEITEN" synth --packets 200000 --hours 1 --seed 7 --output "$CAPTURE" > /dev/null

echo "== live load on lo: tcpreplay at fixed rates, $SECONDS_PER_RATE s each; teiten all stages, buffer $BUFFER_MIB MiB, snaplen $SNAPLEN, immediate mode off"
echo "(on lo the sensor sees each injected frame twice, leaving and arriving: it processes twice the rate sent)"
echo "| rate asked (packets/s) | rate sent (packets/s) | packets sent | frames the sensor received | sensor load (frames/s) | kernel drops |"
echo "|---:|---:|---:|---:|---:|---:|"
best=0
lowest_drops=""
for rate in $RATES; do
    rm -rf "$W/counts" "$W/err"
    if [ "$rate" = top ]; then speed=--topspeed; else speed=--pps=$rate; limit=$((rate * SECONDS_PER_RATE)); fi
    "$TEITEN" run --interface lo --no-interface-local --buffer-size "$BUFFER_MIB" --snaplen "$SNAPLEN" \
        --counts-dir "$W/counts" --alerts /dev/null --geo-db /usr/share/tor/geoip 2> "$W/err" &
    sensor=$!
    for _ in $(seq 100); do grep -q "capturing on lo" "$W/err" 2>/dev/null && break; sleep 0.1; done
    sent=$(timeout $((SECONDS_PER_RATE * 3 + 30)) tcpreplay -i lo "$speed" --limit="$limit" --loop=0 --preload-pcap "$CAPTURE" 2>&1 || true)
    sleep 1  # let the ring drain
    kill -TERM "$sensor"; wait "$sensor" || true
    actual=$(echo "$sent" | sed -n 's/.*Actual: \([0-9]*\) packets.*/\1/p' | head -1)
    rated=$(echo "$sent" | sed -n 's/.*Rated: [0-9.]* Bps, [0-9.]* Mbps, \([0-9.]*\) pps.*/\1/p' | head -1)
    received=$(sed -n 's/.*capture *received \([0-9,]*\), dropped by kernel \([0-9,]*\).*/\1/p' "$W/err" | tr -d ,)
    drops=$(sed -n 's/.*dropped by kernel \([0-9,]*\).*/\1/p' "$W/err" | tr -d ,)
    elapsed=$(echo "$sent" | sed -n 's/.*sent in \([0-9.]*\) seconds.*/\1/p' | head -1)
    load=$(python3 -c "print(round(${received:-0} / max(${elapsed:-$SECONDS_PER_RATE}, 0.001)))")
    echo "| $rate | ${rated:-?} | ${actual:-?} | ${received:-?} | $load | ${drops:-?} |"
    [ -z "$lowest_drops" ] && lowest_drops=${drops:-unknown}
    # The highest zero-drop rate sent (--topspeed may send less than the last fixed rate did).
    if [ "${drops:-1}" = 0 ] && [ "${actual:-0}" -gt 0 ] && [ -n "$rated" ] \
        && python3 -c "import sys; sys.exit(0 if float('$rated') > float('${best:-0}') else 1)"; then best=$rated; fi
done
echo
echo "Highest rate sent with zero kernel drops: $best packets/s ($SECONDS_PER_RATE s at each fixed rate; buffer $BUFFER_MIB MiB, snaplen $SNAPLEN)."
if [ "$REQUIRE_ZERO_AT_LOWEST" = 1 ] && [ "$lowest_drops" != 0 ]; then
    echo "live-load: FAIL: kernel drops ($lowest_drops) at the lowest rate" >&2
    exit 1
fi
