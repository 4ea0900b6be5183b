# Helpers for the shell tests of the `ncopt` command (sourced by
# tests/test_*.sh; not a test itself). Environment from ctest: NCO_BIN (the
# binary), NCO_SOURCE_DIR, NCO_BUILD_DIR. Without ctest:
#   NCO_BIN=/work/build-cli/ncopt NCO_SOURCE_DIR=/work/main bash tests/test_cli.sh
set -u
: "${NCO_BIN:?set NCO_BIN to the ncopt binary}"
: "${NCO_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
N=$NCO_BIN
SRC=$NCO_SOURCE_DIR
# Python (standard library only) reads JSON and .npy; the system one starts
# fastest (a pyenv shim costs ~0.1 s a call)
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
python3() { "$PY" "$@"; }
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

# json FILE KEY: a top-level value of a JSON file (nested with a.b)
json() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split('.'):
    v = v[k]
print(v if not isinstance(v, float) else repr(v))
EOF
}

# npy_shape FILE: "dtype shape", e.g. "<f4 (8,)"
npy_shape() {
  python3 - "$1" <<'EOF'
import ast, struct, sys
b = open(sys.argv[1], 'rb').read()
assert b[:6] == b'\x93NUMPY', 'not an npy file'
hl = struct.unpack('<H', b[8:10])[0] if b[6] == 1 else struct.unpack('<I', b[8:12])[0]
off = 10 if b[6] == 1 else 12
h = ast.literal_eval(b[off:off + hl].decode('latin1'))
n = 1
for s in h['shape']:
    n *= s
size = {'<f4': 4, '<f8': 8}[h['descr']]
assert len(b) == off + hl + n * size, 'size does not match the header'
print(h['descr'], h['shape'])
EOF
}

# npy_write FILE DTYPE SHAPE VALUES...: writes a little npy file
# (DTYPE f4 or f8; SHAPE like "4,3"; values in C order)
npy_write() {
  python3 - "$@" <<'EOF'
import struct, sys
path, dt, shape = sys.argv[1], sys.argv[2], tuple(int(s) for s in sys.argv[3].split(',') if s)
vals = [float(v) for v in sys.argv[4:]]
n = 1
for s in shape:
    n *= s
assert len(vals) == n, (len(vals), n)
d = "{'descr': '<%s', 'fortran_order': False, 'shape': %s, }" % (dt, repr(shape))
h = d + ' ' * ((64 - (10 + len(d) + 1) % 64) % 64) + '\n'
with open(path, 'wb') as f:
    f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h.encode('latin1'))
    f.write(struct.pack('<%d%s' % (n, {'f4': 'f', 'f8': 'd'}[dt]), *vals))
EOF
}

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
complete_rows() {
  python3 - "$1" <<'EOF'
import sys
data = open(sys.argv[1], 'rb').read()
assert data.endswith(b'\n'), 'last line is incomplete'
lines = data.decode().split('\n')[:-1]
nf = lines[0].count(',')
prev = -1
for i, l in enumerate(lines[1:], 2):
    assert l.count(',') == nf, 'line %d has %d fields, header %d' % (i, l.count(',') + 1, nf + 1)
    it = int(l.split(',')[0])
    assert it > prev, 'line %d: iter %d after %d' % (i, it, prev)
    prev = it
EOF
}

# one_line FILE: FILE has exactly one line
one_line() { [ "$(wc -l <"$1")" = 1 ]; }
# has_cr FILE: FILE holds a carriage return
has_cr() { grep -q $'\r' "$1"; }
