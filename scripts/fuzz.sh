#!/usr/bin/env bash
# make fuzz [FUZZ_SECONDS=600] [FUZZ_JOBS=nproc] [FUZZ_TARGETS="idx csv ..."]: runs each libFuzzer
# target (cpp/fuzz/, built in build/sanitize with ASan + UBSan) for FUZZ_SECONDS, FUZZ_JOBS at a
# time, from its seed corpus tests/fuzz/corpus/<target>/ (read only: new inputs go to
# build/fuzz/corpus/<target>/). Inputs that break a target's contract (fuzz_target.h) land in
# build/fuzz/findings/<target>/; copy each into tests/fuzz/regressions/<target>/ once fixed, where
# ctest replays it. Prints a table (target, seconds, inputs tried, per second, corpus, findings)
# and writes it as JSON to results/fuzz/summary.json. Exits 1 when any target has a finding.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/sanitize_env.sh
SECONDS_EACH=${FUZZ_SECONDS:-600}
JOBS=${FUZZ_JOBS:-$(nproc)}
ALL=$(cd cpp/fuzz && ls *.cpp | sed 's/\.cpp$//')
TARGETS=${FUZZ_TARGETS:-$ALL}
OUT=build/fuzz
export OMP_NUM_THREADS=1 SECONDS_EACH OUT SANITIZE_BUILD
cmake --build "$SANITIZE_BUILD" -j "${JOBS_BUILD:-$(nproc)}" --target $(printf 'fuzz_%s ' $TARGETS)

run_one() {
  local t=$1
  mkdir -p "$OUT/corpus/$t" "$OUT/findings/$t" "$OUT/logs" "$OUT/started"
  touch "$OUT/started/$t"
  # -timeout: one input slower than 25 s is a finding (a hang); -rss_limit_mb also bounds a single
  # allocation (malloc_limit_mb defaults to it), so a size taken from a header unchecked is one too.
  "$SANITIZE_BUILD/fuzz_$t" -max_total_time="$SECONDS_EACH" -timeout=25 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$OUT/findings/$t/" \
    "$OUT/corpus/$t" "tests/fuzz/corpus/$t" > "$OUT/logs/$t.log" 2>&1 || true
}
export -f run_one
printf '%s\n' $TARGETS | xargs -P "$JOBS" -I{} bash -c 'run_one {}'

mkdir -p results/fuzz
status=0
printf '%-15s %8s %12s %10s %8s %9s\n' target seconds inputs per_s corpus findings
json="["
for t in $TARGETS; do
  log="$OUT/logs/$t.log"
  execs=$(grep -ao 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}' || true)
  secs=$(grep -ao 'Done [0-9]* runs in [0-9]* second' "$log" | tail -1 | awk '{print $5}' || true)
  if [ -z "$secs" ]; then  # stopped by a finding: the last status line's time
    secs=$(stat -c %Y "$log" 2>/dev/null || echo 0)
    secs=$((secs - $(stat -c %Y "$OUT/started/$t")))
  fi
  rate=$([ -n "$execs" ] && [ "$secs" -gt 0 ] && echo $((execs / secs)) || echo null)
  corpus=$(($(ls "$OUT/corpus/$t" | wc -l) + $(ls "tests/fuzz/corpus/$t" | wc -l)))
  findings=$(ls "$OUT/findings/$t" | wc -l)
  [ "$findings" -gt 0 ] && status=1
  printf '%-15s %8s %12s %10s %8s %9s\n' "$t" "${secs:-?}" "${execs:-?}" "${rate:-?}" "$corpus" "$findings"
  json+="{\"target\": \"$t\", \"seconds\": $secs, \"inputs\": ${execs:-null}, \"per_second\": $rate, \"corpus\": $corpus, \"findings\": $findings},"
done
echo "${json%,}]" > results/fuzz/summary.json
[ $status -eq 0 ] || echo "findings in $OUT/findings/ (logs: $OUT/logs/)"
exit $status
