#!/usr/bin/env bash
# fuzz/run.sh [MINUTES] [HARNESS...] — builds the libFuzzer harnesses with
# clang (ASan + UBSan, -fsanitize=fuzzer) and fuzzes each harness (default:
# npy idx csv spec) for MINUTES minutes (default 10) with its corpus
# fuzz/corpus/<h> and dictionary fuzz/fuzz_<h>.dict, two harnesses at a time,
# one fuzzing process each. New inputs go to a scratch directory and are
# merged into fuzz/corpus/<h> at the end (libFuzzer -merge=1: only inputs
# that add coverage). After a crash the harness is restarted for the rest of
# its time (the crash input is kept as an artifact). Prints per harness:
# executions, the coverage counters (cov, ft) of libFuzzer's last status
# line, and the crash/leak/timeout/oom artifacts found.
#
# Environment:
#   NCO_FUZZ_BUILD     build directory (default: <repo>/build-fuzz)
#   NCO_FUZZ_SRC       source tree to configure (default: the repository)
#   NCO_FUZZ_PARALLEL  harnesses run at once (default 2)
#   NCO_FUZZ_MINIMIZE  1: afterwards also minimise each corpus in place
#                      (-merge=1 into an empty directory; files named
#                      regress-* are always kept as they are)
# Needs: clang and its libFuzzer runtime (Debian: clang, libclang-rt-14-dev).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
minutes=${1:-10}
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(npy idx csv spec)
build=${NCO_FUZZ_BUILD:-$repo/build-fuzz}
src=${NCO_FUZZ_SRC:-$repo}
par=${NCO_FUZZ_PARALLEL:-2}
secs=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }')

if ! grep -q 'add_subdirectory(fuzz)' "$src/CMakeLists.txt"; then
  echo "run.sh: $src/CMakeLists.txt has no add_subdirectory(fuzz)" >&2
  exit 2
fi
cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DNCO_SANITIZE=ON -DNCO_FUZZ=ON > "$build.configure.log" 2>&1 ||
  { cat "$build.configure.log" >&2; exit 2; }
targets=()
for h in "${harnesses[@]}"; do targets+=("fuzz_$h"); done
cmake --build "$build" -j2 --target "${targets[@]}" > "$build.build.log" 2>&1 ||
  { tail -40 "$build.build.log" >&2; exit 2; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OPENBLAS_NUM_THREADS=1

fuzz_one() { # h: fuzzes until the deadline, restarting after crashes
  local h=$1 bin="$build/fuzz/fuzz_$h" work="$build/fuzz-work/$h"
  local corpus="$here/corpus/$h" dict="$here/fuzz_$h.dict"
  mkdir -p "$work/new" "$work/artifacts"
  local deadline=$(( $(date +%s) + secs )) execs=0 runs=0 left
  : > "$work/log"
  while left=$(( deadline - $(date +%s) )); [ "$left" -gt 5 ] && [ "$runs" -lt 50 ]; do
    runs=$((runs + 1))
    "$bin" -max_total_time="$left" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -dict="$dict" -artifact_prefix="$work/artifacts/" "$work/new" "$corpus" > "$work/run.log" 2>&1 || true
    cat "$work/run.log" >> "$work/log"
    local e
    e=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/run.log" | tail -1 || true)
    [ -n "$e" ] || e=$(grep -oE '^#[0-9]+' "$work/run.log" | tail -1 | tr -d '#' || true)
    execs=$(( execs + ${e:-0} ))
  done
  # Merge what added coverage into the committed corpus.
  "$bin" -merge=1 "$corpus" "$work/new" > "$work/merge.log" 2>&1 || true
  if [ "${NCO_FUZZ_MINIMIZE:-0}" = 1 ]; then
    rm -rf "$work/min" && mkdir -p "$work/min"
    "$bin" -merge=1 "$work/min" "$corpus" > "$work/minimize.log" 2>&1 &&
      { find "$corpus" -maxdepth 1 -type f ! -name 'regress-*' -delete; cp "$work/min"/* "$corpus"/ 2>/dev/null || true; }
  fi
  local last cov ft crashes
  last=$(grep -E '^#[0-9]+.*cov: ' "$work/log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$last")
  crashes=$(find "$work/artifacts" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  printf '%-5s executions %-10s cov %-6s ft %-6s runs %-3s artifacts %s%s\n' "$h" "$execs" "${cov:-?}" "${ft:-?}" \
    "$runs" "$crashes" "$( [ "$crashes" -gt 0 ] && echo " (in $work/artifacts)")" > "$work/summary"
}

pids=()
for h in "${harnesses[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$par" ]; do sleep 5; done
  fuzz_one "$h" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
for h in "${harnesses[@]}"; do cat "$build/fuzz-work/$h/summary"; done
echo "corpus sizes: $(du -sh "$here/corpus" | cut -f1); logs in $build/fuzz-work/<harness>/log"
