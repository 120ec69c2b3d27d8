#!/bin/sh
# Runs both libFuzzer targets for SECONDS each (in parallel, one per core),
# seeded from the capture corpus and the kept regression inputs.
#
#   Fuzz/fuzz.sh [SECONDS]        (make fuzz FUZZ_SECONDS=N)
#
# A crash, an AddressSanitizer report, a hang (10 s per input) or a leak of
# memory past 2 GiB is a finding: the input is saved under
# .build-fuzz/artifacts/, the script prints how to reproduce it, and exits 1.
# Keep each finding in Tests/Fixtures/fuzz-regressions/TARGET/ once fixed:
# the unit tests replay that directory, and later runs start from it.
set -eu
seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
scratch="$root/.build-fuzz"
corpus="$root/../shared/corpus"

mkdir -p "$scratch"
# SwiftPM reuses its build plan without noticing source files added to the
# parent package (a path dependency here), and then fails with "cannot find
# type" in an old tree: drop the plan, so that it is made again (a second).
rm -f "$scratch/debug.yaml"
(cd "$root/Fuzz" && swift build -c debug -Xswiftc -sanitize=fuzzer,address --scratch-path "$scratch") \
    > "$scratch/build.log" 2>&1 || { grep -v "Cannot export local symbol" "$scratch/build.log" | tail -30 >&2; exit 2; }
if [ -d "$corpus" ]; then
    python3 "$root/Fuzz/make-seeds.py" "$corpus" "$scratch/seeds"
else
    echo "fuzz.sh: no corpus at $corpus; starting from the regression inputs only"
    mkdir -p "$scratch/seeds/decoder" "$scratch/seeds/capture"
fi
mkdir -p "$scratch/artifacts" "$root/Tests/Fixtures/fuzz-regressions/decoder" "$root/Tests/Fixtures/fuzz-regressions/capture"

run() {  # run TARGET SEEDS MAX_LEN
    target=$1
    work="$scratch/corpus/$target"       # what libFuzzer learns; kept between runs
    mkdir -p "$work"
    "$scratch/debug/Fuzz$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len="$3" -print_final_stats=1 -artifact_prefix="$scratch/artifacts/$target-" \
        "$work" "$scratch/seeds/$2" "$root/Tests/Fixtures/fuzz-regressions/$2" \
        > "$scratch/$target.log" 2>&1
}

status=0
run Decoder decoder 4096 & decoder=$!
run CaptureFile capture 65536 & capture=$!
wait $decoder || status=1
wait $capture || status=1

for target in Decoder CaptureFile; do
    runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' "$scratch/$target.log")
    coverage=$(grep -o 'cov: [0-9]*' "$scratch/$target.log" | tail -1)
    echo "fuzz: Fuzz$target: ${runs:-no final count} ($coverage)"
done
if [ $status -ne 0 ]; then
    for target in Decoder CaptureFile; do
        if ! grep -q "^Done [0-9]* runs" "$scratch/$target.log" && ! grep -q "Test unit written" "$scratch/$target.log"; then
            echo "fuzz: Fuzz$target did not run: $(tail -1 "$scratch/$target.log")" >&2
            continue
        fi
        grep -E "ERROR|SUMMARY|Test unit written|Fatal error|deadly signal" "$scratch/$target.log" | head -20 >&2 || true
    done
    echo "fuzz: FAILED. A finding is reproduced with $scratch/debug/FuzzTARGET ARTIFACT (files in $scratch/artifacts/)" >&2
    exit 1
fi
