# Helpers for the shell tests of the `ncopt` command (sourced by
# tests/test_*.sh; not a test itself). Environment from ctest: NCO_BIN (the
# binary), NCO_SOURCE_DIR, NCO_BUILD_DIR. Without ctest:
#   NCO_BIN=/work/build-cli/ncopt NCO_SOURCE_DIR=/work/main bash tests/test_cli.sh
set -u
: "${NCO_BIN:?set NCO_BIN to the ncopt binary}"
: "${NCO_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
N=$NCO_BIN
SRC=$NCO_SOURCE_DIR
# JSON, .npy and trace checks go through tests/tools/nco_testtool (no
# Python at test time); ctest passes its path as NCO_TOOL. Arithmetic and
# comparisons in the tests use awk.
: "${NCO_TOOL:?set NCO_TOOL to the nco_testtool binary (built next to ncopt)}"
[ -x "$NCO_TOOL" ] || { echo "NCO_TOOL=$NCO_TOOL is not an executable" >&2; exit 1; }
T=$NCO_TOOL
# bitwise reproducibility is promised at a fixed thread count
export OPENBLAS_NUM_THREADS=1
export LC_ALL=C
# sanitizer builds: PLplot's font caches are not ncopt's leaks (see the file)
export LSAN_OPTIONS="suppressions=$SRC/tests/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ncopt-test.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT

NFAIL=0
NPASS=0
ok() { NPASS=$((NPASS + 1)); }
bad() {
  NFAIL=$((NFAIL + 1))
  echo "FAIL: $*" >&2
}
# check DESCRIPTION COMMAND...: passes if the command succeeds
check() {
  local what=$1
  shift
  if "$@"; then ok; else bad "$what"; fi
}
# expect_rc WANT GOT DESCRIPTION
expect_rc() {
  if [ "$1" = "$2" ]; then ok; else bad "$3: exit status $2, expected $1"; fi
}
# expect_eq WANT GOT DESCRIPTION
expect_eq() {
  if [ "$1" = "$2" ]; then ok; else bad "$3: got '$2', expected '$1'"; fi
}
contains() { grep -qF -- "$2" "$1"; }
finish() {
  echo "$(basename "$0"): $NPASS checks passed, $NFAIL failed"
  [ "$NFAIL" = 0 ]
  exit $?
}

# run OUTPREFIX ARGS...: runs ncopt, stdout to OUTPREFIX.out, stderr to
# OUTPREFIX.err, exit status in $RC
run() {
  local o=$1
  shift
  "$N" "$@" >"$o.out" 2>"$o.err"
  RC=$?
}

# The trace without its timing column (iter,epoch,seconds,... → all but 3).
nosec() { cut -d, -f1,2,4- "$1"; }

# same_run A B: trace (minus seconds) and params.npy identical byte for byte
same_run() {
  local a=$1 b=$2
  if ! cmp -s <(nosec "$a/trace.csv") <(nosec "$b/trace.csv"); then
    echo "  trace differs: $a vs $b" >&2
    diff <(nosec "$a/trace.csv") <(nosec "$b/trace.csv") | head -5 >&2
    return 1
  fi
  cmp -s "$a/params.npy" "$b/params.npy" || {
    echo "  params.npy differs: $a vs $b" >&2
    return 1
  }
  if [ -f "$a/aux.npy" ]; then cmp -s "$a/aux.npy" "$b/aux.npy" || return 1; fi
  return 0
}

# json FILE KEY: a value of a JSON file (nested with a.b); numbers as %.17g,
# booleans true/false, null, strings raw. Fails if the key is missing.
json() { "$T" json "$1" "$2"; }

# npy_shape FILE: "dtype shape", e.g. "<f4 (8,)"; fails unless the file is a
# well-formed npy whose size matches its header
npy_shape() { "$T" npy-shape "$1"; }

# npy_values FILE: every value, C order, one per line (%.17g)
npy_values() { "$T" npy-values "$1"; }

# npy_write FILE DTYPE SHAPE VALUES...: writes a little npy file
# (DTYPE f4 or f8; SHAPE like "4,3", "" for a scalar; values in C order)
npy_write() { "$T" npy-write "$@"; }

# csv_col FILE NAME: one column of a CSV with a header, one value per line
csv_col() { "$T" csv-col "$1" "$2"; }

# calc EXPR: prints an awk expression's value (%.17g)
calc() { awk "BEGIN { printf \"%.17g\n\", ($1) }"; }
# holds EXPR: succeeds iff the awk expression is true (non-zero)
holds() { awk "BEGIN { exit !($1) }"; }

# rows FILE: data rows of a trace
rows() { echo $(($(wc -l <"$1") - 1)); }

# start_train OUT ARGS...: ncopt train in the background, pid in $PID
start_bg() {
  "$N" "$@" >/dev/null 2>"$TMP/bg.err" &
  PID=$!
  PIDS+=("$PID")
}

# wait_rows FILE K [SECONDS]: waits until FILE has K data rows (or the
# process $PID ended); returns 1 on timeout or if the process ended first
wait_rows() {
  local f=$1 k=$2 limit=${3:-30} t0=$SECONDS
  while :; do
    if [ -f "$f" ] && [ "$(($(wc -l <"$f") - 1))" -ge "$k" ]; then return 0; fi
    kill -0 "$PID" 2>/dev/null || return 1
    [ $((SECONDS - t0)) -lt "$limit" ] || return 1
    sleep 0.005
  done
}

# kill_at_row OUT K SIGNAL ARGS...: starts ncopt ARGS, sends SIGNAL once
# OUT/trace.csv has K rows, waits; exit status in $RC. Fails the test when
# the run finished before the signal (make it longer then).
kill_at_row() {
  local out=$1 k=$2 sig=$3
  shift 3
  start_bg "$@"
  if ! wait_rows "$out/trace.csv" "$k"; then
    wait "$PID" 2>/dev/null
    RC=$?
    bad "kill_at_row: the run ended (status $RC) before $k rows: make it longer ($*)"
    return 1
  fi
  kill "-$sig" "$PID"
  wait "$PID" 2>/dev/null
  RC=$?
  return 0
}

# complete_rows FILE: every line ends with a newline, has as many fields
# as the header, and iter strictly increases
complete_rows() { "$T" complete-rows "$1"; }

# one_line FILE: FILE has exactly one line
one_line() { [ "$(wc -l <"$1")" = 1 ]; }
# has_cr FILE: FILE holds a carriage return
has_cr() { grep -q $'\r' "$1"; }
