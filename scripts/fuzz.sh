#!/usr/bin/env bash
# make fuzz [FUZZ_SECONDS=600] [FUZZ_JOBS=nproc] [FUZZ_TARGETS="idx csv ..."]: runs each libFuzzer
# target (cpp/fuzz/, built in build/sanitize with ASan + UBSan) for FUZZ_SECONDS, FUZZ_JOBS at a
# time, from its seed corpus tests/fuzz/corpus/<target>/ (read only: new inputs go to
# build/fuzz/corpus/<target>/). libFuzzer runs in fork mode, so a finding is kept and fuzzing goes
# on for the whole time: inputs that break a target's contract (fuzz_target.h), crash, hang (25 s),
# allocate 1 GB at once or pass 2 GB land in build/fuzz/findings/<target>/; copy each into
# tests/fuzz/regressions/<target>/ once fixed, where ctest replays it. Prints a table (target,
# seconds, inputs tried, per second, corpus, findings in lookalike's code / in a library's), then
# each finding replayed (what broke, the first frame past the allocator and the sanitizers, whose
# code that is), and writes both as JSON to results/fuzz/summary.json. Exits 1 when a finding is in
# lookalike's code or cannot be placed; findings inside a library's own parser (libtorch's archive
# reader, HDF5, FAISS) are listed, not failed: lookalike cannot fix them, only report them upstream.
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
  rm -rf "$OUT/findings/$t"
  mkdir -p "$OUT/corpus/$t" "$OUT/findings/$t" "$OUT/logs"
  "$SANITIZE_BUILD/fuzz_$t" -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
    -max_total_time="$SECONDS_EACH" -timeout=25 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -artifact_prefix="$OUT/findings/$t/" "$OUT/corpus/$t" "tests/fuzz/corpus/$t" \
    > "$OUT/logs/$t.log" 2>&1 || true
}
export -f run_one
printf '%s\n' $TARGETS | xargs -P "$JOBS" -I{} bash -c 'run_one {}'

# What a finding is: its contract message or sanitizer summary, and the first frame in lookalike
# or a library (not the sanitizer, libFuzzer or the standard library).
explain() {
  local out
  # Slow unwinding: the libraries have no frame pointers, and a short stack cannot be placed.
  out=$(ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0:fast_unwind_on_fatal=0" "$SANITIZE_BUILD/fuzz_$1" -runs=1 -malloc_limit_mb=1024 -rss_limit_mb=2048 "$2" 2>&1 || true)
  local what frame
  what=$(grep -a -m1 -o 'lookalike fuzz finding.*\|SUMMARY: [A-Za-z]*Sanitizer: [a-z-]* *[0-9]*\|ERROR: libFuzzer: [a-z -]*' <<< "$out" | cut -c1-160)
  # The first stack frame past the allocator, the sanitizers, libFuzzer and the standard library:
  # its function, or its library when the library has no symbols.
  frame=$(grep -a '^ *#[0-9]* 0x' <<< "$out" \
    | grep -av 'operator new\|memcpy\|memmove\|memset\|malloc\|posix_memalign\|__interceptor\|sanitizer\|asan_\|fuzzer::\|std::\|__gnu_cxx\|libc\.so\|lookalike::fuzz\|lookalike_fuzz\|c10::alloc_cpu' \
    | head -1 | sed -E 's/^ *#[0-9]+ 0x[0-9a-f]+ (in )?//; s/\(BuildId.*//; s/ \/usr\/.*//' | cut -c1-120)
  local owner=unknown
  case "$what $frame" in
    *"lookalike fuzz finding"* | *lookalike::*) owner=lookalike ;;
    *libtorch* | *torch::* | *c10::* | *caffe2::* | *mz_zip*) owner=libtorch ;;
    *hdf5* | *H5*) owner=HDF5 ;;
    *faiss*) owner=FAISS ;;
    *opencv* | *cv::*) owner=OpenCV ;;
  esac
  printf '%s|%s|%s' "${what:-?}" "${frame:-?}" "$owner"
}

mkdir -p results/fuzz
status=0
printf '%-15s %8s %12s %8s %8s %6s %9s\n' target seconds inputs per_s corpus ours upstream
json='{"targets": ['
details=""
djson='"findings": ['
for t in $TARGETS; do
  log="$OUT/logs/$t.log"
  execs=$(grep -ao '^#[0-9]*:' "$log" | tail -1 | tr -d '#:' || true)
  secs=$(grep -ao 'exiting: [0-9]* time: [0-9]*s' "$log" | tail -1 | awk '{print $4}' | tr -d s || true)
  secs=${secs:-0}
  rate=$([ -n "$execs" ] && [ "$secs" -gt 0 ] && echo $((execs / secs)) || echo null)
  corpus=$(($(ls "$OUT/corpus/$t" | wc -l) + $(ls "tests/fuzz/corpus/$t" | wc -l)))
  ours=0 upstream=0
  for f in "$OUT"/findings/"$t"/*; do
    [ -f "$f" ] || continue
    IFS='|' read -r what frame owner <<< "$(explain "$t" "$f")"
    case $owner in lookalike | unknown) ours=$((ours + 1)); status=1 ;; *) upstream=$((upstream + 1)) ;; esac
    details+=$(printf '\n  %s %s [%s]\n    %s\n    at %s' "$t" "$(basename "$f")" "$owner" "$what" "$frame")
    djson+="{\"target\": \"$t\", \"input\": \"$f\", \"owner\": \"$owner\", \"what\": $(printf '%s' "$what" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))'), \"frame\": $(printf '%s' "$frame" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')},"
  done
  printf '%-15s %8s %12s %8s %8s %6s %9s\n' "$t" "$secs" "${execs:-?}" "$rate" "$corpus" "$ours" "$upstream"
  json+="{\"target\": \"$t\", \"seconds\": $secs, \"inputs\": ${execs:-null}, \"per_second\": $rate, \"corpus\": $corpus, \"findings_lookalike\": $ours, \"findings_upstream\": $upstream},"
done
echo "${json%,}], ${djson%,}]}" > results/fuzz/summary.json
if [ -n "$details" ]; then
  echo; echo "findings (inputs in $OUT/findings/, logs in $OUT/logs/):$details"
fi
exit $status
