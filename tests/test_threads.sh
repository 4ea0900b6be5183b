# Threads on a shared machine (docs/ARCHITECTURE.md, "Threads"): the
# mechanism, not its speed (no timings here). `ncopt` re-runs itself with
# GOMP_SPINCOUNT=10000 when neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is
# set (libgomp reads them only at load), leaves a user's values alone, and
# the way threads wait never changes results: same spec, seed and thread
# count, same bits, whatever the wait policy.
. "$(dirname "$0")/cli_lib.sh" || exit 1
cd "$TMP" || exit 1
unset OMP_WAIT_POLICY GOMP_SPINCOUNT OMP_NUM_THREADS

# ---- the environment the running ncopt sees ------------------------------------
# `ncopt show /dev/stdin` blocks reading a FIFO after the re-execution, so
# /proc/PID/environ (the environment the process image started with) can be
# read before the spec is written.
SPEC='[problem]
type = linear_ls
[run]
iterations = 1
'
# env_of NAME [VAR=VALUE...]: the environment of `ncopt show` started with
# those variables into NAME.env (one per line)
env_of() {
  local name=$1
  shift
  rm -f fifo && mkfifo fifo || return 1
  env "$@" "$N" show /dev/stdin <fifo >"$name.out" 2>&1 &
  local pid=$! i
  exec 7>fifo # opens the FIFO: ncopt's read now waits for the spec
  # wait until it blocks in read(0, ...) (syscall 0 on x86-64; elsewhere,
  # or without /proc/PID/syscall, half a second)
  for i in $(seq 200); do
    case $(cat "/proc/$pid/syscall" 2>/dev/null) in
      "0 "*) break ;; # read(2), on whichever descriptor the spec was opened as
      "") [ "$(uname -m)" = x86_64 ] && [ -r "/proc/$pid/syscall" ] || { sleep 0.5; break; } ;;
    esac
    sleep 0.05
  done
  tr '\0' '\n' <"/proc/$pid/environ" >"$name.env" 2>/dev/null
  printf '%s' "$SPEC" >&7
  exec 7>&-
  wait "$pid"
  echo "rc=$?" >>"$name.out"
}
if [ -r /proc/self/environ ]; then
  env_of default NCO_TEST_MARK=1
  check "ncopt show ran after re-executing itself" grep -q '^rc=0$' default.out
  check "default: GOMP_SPINCOUNT=10000 set for libgomp" grep -qx 'GOMP_SPINCOUNT=10000' default.env
  check "default: OMP_WAIT_POLICY left unset" bash -c '! grep -q "^OMP_WAIT_POLICY=" default.env'
  env_of passive NCO_TEST_MARK=1 OMP_WAIT_POLICY=passive
  check "explicit OMP_WAIT_POLICY=passive kept" grep -qx 'OMP_WAIT_POLICY=passive' passive.env
  check "explicit OMP_WAIT_POLICY: no GOMP_SPINCOUNT added" bash -c '! grep -q "^GOMP_SPINCOUNT=" passive.env'
  check "explicit OMP_WAIT_POLICY: ncopt show ran" grep -q '^rc=0$' passive.out
  env_of spin NCO_TEST_MARK=1 GOMP_SPINCOUNT=123
  check "explicit GOMP_SPINCOUNT=123 kept" grep -qx 'GOMP_SPINCOUNT=123' spin.env
  env_of threads NCO_TEST_MARK=1 OMP_NUM_THREADS=1
  check "OMP_NUM_THREADS=1 passed on" grep -qx 'OMP_NUM_THREADS=1' threads.env
  check "OMP_NUM_THREADS=1: GOMP_SPINCOUNT=10000 set" grep -qx 'GOMP_SPINCOUNT=10000' threads.env
else
  echo "skipped: no /proc/PID/environ"
fi

# ---- results: same thread count, same bits, whatever the waiting ---------------
# A network (Fashion-MNIST when installed): batches split over the team (2
# threads, 2 ranges) and the optimiser's chunked steps (8 chunks of 2^15).
if [ -r /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz ]; then
  cat >net.ini <<'EOF2'
[data]
source = fashion-mnist
subset = 512
test_subset = 100
[problem]
type = mlp
widths = 256, 256
[optimizer]
type = sgd
lr = 0.05
momentum = 0.9
batch = 128
[run]
epochs = 1
seed = 2
log_every = 2
EOF2
  train() { # train NAME [VAR=VALUE...]
    local name=$1
    shift
    env "$@" "$N" train net.ini --out "$name" --quiet >"$name.log" 2>&1
    expect_rc 0 $? "ncopt train ($name: $*)"
  }
  train d1 OMP_NUM_THREADS=2
  train d2 OMP_NUM_THREADS=2
  train p2 OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive
  train s2 OMP_NUM_THREADS=2 GOMP_SPINCOUNT=0
  train o1 OMP_NUM_THREADS=1
  train o2 OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
  check "2 threads: two runs, same params.npy" cmp -s d1/params.npy d2/params.npy
  check "2 threads: passive waiting, same params.npy" cmp -s d1/params.npy p2/params.npy
  check "2 threads: GOMP_SPINCOUNT=0, same params.npy" cmp -s d1/params.npy s2/params.npy
  check "1 thread: default and passive waiting, same params.npy" cmp -s o1/params.npy o2/params.npy
  check "2 threads: same losses in trace.csv" cmp -s <(cut -d, -f1,2,4 d1/trace.csv) <(cut -d, -f1,2,4 p2/trace.csv)
else
  echo "skipped: network runs (no Fashion-MNIST)"
fi

finish
