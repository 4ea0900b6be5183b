# Fault injection into the `ncopt` command, SQLite's way: the K-th fault
# point fails. No library change: tests/fault/nco_fault.c is an LD_PRELOAD
# shim (its header describes the modes). Which K: every K for the primary
# run (train glm: 250 allocations); elsewhere each allocation call site's
# first and last call not covered by an earlier loop, each (function, file)
# I/O pair's first and last call (see picks); each loop prints how many of
# its points it tried. NCO_FAULT_ALL=1: every K everywhere (minutes).
# Release build only: a sanitizer build skips it (ASan owns malloc).
#   allocation loop: the K-th allocation by ncopt's own code returns NULL
#     through train (glm with probes, an MLP on .npy, CSV and IDX data, a
#     sweep), resume of an interrupted run, probe hessian, certify, eval:
#     every K ends in a clean error (exit 1 or 2, one line naming out of
#     memory) or in exactly the outputs of a normal run; never a crash; no
#     block of ncopt's left live at exit; a run folder read by a command is
#     untouched; a failed resume's folder resumes afterwards to the bits of
#     an uninterrupted run.
#   I/O-fault loop: ENOSPC (EIO for fsync) at the K-th write, fsync,
#     rename, close of a file of the run folder: exit 0 only with every output
#     identical to a normal run's, else a one-line error naming the error,
#     no temporary file left, and `ncopt resume` without the fault ends
#     identical to an uninterrupted run (or refuses in one line when no
#     checkpoint was written yet, and then the folder holds no final output).
#     The same for `ncopt resume` of an interrupted run. "Disk stays full"
#     (every point from K on fails): every other K of the train loop.
#   crash loop: SIGKILL at the K-th I/O point of a run with checkpoints:
#     resume ends identical to an uninterrupted run, or refuses in one line
#     when no checkpoint was written yet; the same in resume.
#   getline loop: getline failing on a later line (NCO_FAULT_GETLINE=every):
#     never exit 0 with part of a file read.
# Known defects (reported, not yet fixed) are listed in KNOWN_DEFECTS: a
# check that fails only through one of them is reported as KNOWN and does
# not fail the test; remove an entry when its defect is fixed, and run
# `NCO_FAULT_KNOWN= bash tests/test_faults.sh` to see every failure.
# Without ctest: NCO_BIN=.../ncopt NCO_TOOL=.../nco_testtool bash tests/test_faults.sh
. "$(dirname "$0")/cli_lib.sh" || exit 1
cd "$TMP" || exit 1
T_START=$SECONDS

# plot-oom-msg: src/run/plot.c read_csv takes getline's allocation failure
#   for "empty trace" (a format error) instead of out of memory
# ckpt-oom-msg: src/run/run.c checkpoint_read reports its allocation
#   failures as "inconsistent checkpoint contents" (and resume then falls
#   back to checkpoint.prev.bin or refuses: "no usable checkpoint")
# trace-oom-msg: src/run/run.c trace_truncate takes getline's failure for
#   the end of the file ("no header line")
# certify-oom-msg: src/cli/main.c certify prints "cannot read the trace"
#   without the reason (nco_last_error)
# sweep-overlay-msg: src/run/sweep.c run_points: the overlay's error
#   replaces a failed point's (OOM → "trace.csv: cannot open"), and an
#   overlay/table error is reported as the last point's "completed N steps"
# plot-rename-msg: src/run/plot.c: "cannot rename the plot into place"
#   without strerror(errno)
# sweep-resume-plots: src/run/sweep.c resume skips a finished point (mode
#   2) whose plots a fault lost: they are never redrawn, .tmp files stay
# trace-getline-eof: src/run/run.c trace_truncate (resume) and src/run/plot.c
#   read_csv take getline's -1 for the end of the file without ferror/errno:
#   an allocation failure on a later line → exit 0 with a trace that lost
#   rows, plots drawn from part of the trace
# sweep-resume-tmp: resume of a sweep leaves the sweep folder's own .tmp
#   files (overlay, sweep.csv) of a killed process
KNOWN_DEFECTS=${NCO_FAULT_KNOWN-""}
known() { case " $KNOWN_DEFECTS " in *" $1 "*) return 0 ;; esac; return 1; }

# ASan replaces malloc and must come first in the link order: an LD_PRELOAD
# malloc in front of it hands ASan blocks it never allocated.
if ldd "$N" 2>/dev/null | grep -q 'libasan\|libubsan'; then
  echo "test_faults: skipped: $N is a sanitizer build (ASan owns malloc; the shim needs the Release build)"
  exit 0
fi
SHIM=${NCO_FAULT_LIB:-}
if [ -z "$SHIM" ] && [ -n "${NCO_BUILD_DIR:-}" ] && [ -f "$NCO_BUILD_DIR/tests/fault/nco_fault.so" ]; then
  SHIM=$NCO_BUILD_DIR/tests/fault/nco_fault.so
fi
if [ -z "$SHIM" ]; then # not wired into the build: build it here
  ${CC:-cc} -std=c11 -O2 -Wall -Wextra -shared -fPIC -o "$TMP/nco_fault.so" "$SRC/tests/fault/nco_fault.c" -ldl ||
    { bad "cannot build the fault shim"; finish; }
  SHIM=$TMP/nco_fault.so
fi
# no re-execution at start-up (src/core/threads.c): it would restart the count
export GOMP_SPINCOUNT=10000 OMP_NUM_THREADS=1
unset NCO_FAULT NCO_FAULT_DIR NCO_FAULT_REPORT NCO_FAULT_LOG
JOBS=${NCO_FAULT_JOBS:-2}

# fault MODE DIR REPORT ARGS...: ncopt ARGS under the shim; stdout/stderr in
# REPORT.out/.err, exit status in $RC, the shim's report in REPORT
fault() {
  local mode=$1 dir=$2 rep=$3
  shift 3
  rm -f "$rep"
  NCO_FAULT=$mode NCO_FAULT_DIR=$dir NCO_FAULT_REPORT=$rep LD_PRELOAD=$SHIM "$N" "$@" >"$rep.out" 2>"$rep.err"
  RC=$?
}
rep() { awk -v k="$2" '$1 == k { print $2 }' "$1" 2>/dev/null; }

# Results of the loops' workers: one line per check in $TMP/res.*
# (pass | fail MSG | known ID MSG); counted by the parent.
R=/dev/null
pass() { echo pass >>"$R"; }
fail() { # fail DEFECT-ID-OR-- MESSAGE
  if [ "$1" != - ] && known "$1"; then echo "known $1 $2" >>"$R"; else echo "fail $2" >>"$R"; fi
}
# picks LOG KIND [SEEN]: the K to try, from the log of a normal run under
# the shim (NCO_FAULT_LOG). Allocations: the first and the last call of each
# call site (return address) not in the file SEEN (the sites an earlier loop
# covered: spec parsing is the same in every command); I/O: the first and
# the last call of each (function, file) pair (in a sweep's points: the
# first call; the points' files are the single run's). NCO_FAULT_ALL=1:
# every K.
picks() {
  local log=$1 kind=$2 seen=${3:-/dev/null}
  if [ -n "${NCO_FAULT_ALL:-}" ]; then awk -v t="$kind" '$1 == t { print $2 }' "$log"; return; fi
  awk -v t="$kind" 'FILENAME == ARGV[1] { seen[$0] = 1; next }
    $1 != t { next }
    { key = $3 " " $4
      if (t == "io") { # the file in its run folder, sweep points alike, temporary names alike
        key = $4; sub(/\.tmp\..*/, ".tmp", key); sub(/^.*\/fo_[^\/]*\//, "", key); sub(/^[^\/]*=[^\/]*\//, "P/", key)
        key = $3 " " key
      }
      if (key in seen) next
      n[key]++; last[key] = $2; if (n[key] == 1) pick[$2] = 1 }
    END { for (k in last) if (k !~ /^[a-z0-9]* P\//) pick[last[k]] = 1; for (k in pick) print k }' "$seen" "$log" | sort -n
}
# sites LOG: the allocation call sites of a log (for picks' SEEN)
sites() { awk '$1 == "alloc" { print $3 " " $4 }' "$1" | sort -u; }
# loop LABEL TOTAL KS FUNC ARGS...: FUNC ARGS... K for every K in KS (a
# list), $JOBS at a time; TOTAL: how many points the command has
loop() {
  local name=$1 n=$2 all=$3 w t0=$SECONDS
  shift 3
  for ((w = 0; w < JOBS; w++)); do
    (
      R=$TMP/res.$name.$w
      : >"$R"
      i=0
      for k in $all; do
        if [ $((i % JOBS)) = "$w" ]; then "$@" "$k"; fi
        i=$((i + 1))
      done
    ) &
  done
  wait
  local np nf nk
  np=$(cat "$TMP"/res."$name".* | grep -c '^pass')
  nf=$(cat "$TMP"/res."$name".* | grep -c '^fail')
  nk=$(cat "$TMP"/res."$name".* | grep -c '^known')
  echo "$name: $(echo "$all" | wc -w) of $n points, $np checks passed, $nf failed, $nk known defects, $((SECONDS - t0)) s"
  cat "$TMP"/res."$name".* | grep '^fail' | sed 's/^fail /FAIL: /; s/.*K=\([0-9]*\).*/\1 &/' | sort -n | cut -d' ' -f2- | head -20 >&2
  cat "$TMP"/res."$name".* | grep '^known' | awk '{ print $2 }' | sort | uniq -c | while read -r c id; do echo "  KNOWN $id: $c checks"; done
  NPASS=$((NPASS + np))
  NFAIL=$((NFAIL + nf))
}

# one_error ERR WHAT: the stderr of a failed command is one line naming WHAT
# (notes aside: certify's "note:" lines belong to its normal output)
one_error() { [ "$(grep -vc ': note: ' "$1")" = 1 ] && grep -v ': note: ' "$1" | grep -Eq "$2"; }
OOM='out of memory|cannot allocate'
IOERR='No space left on device|Input/output error|disk full'
# no_tmp DIR: no temporary file left in DIR (or its sweep points)
no_tmp() { ! find "$1" -name '*.tmp.*' 2>/dev/null | grep -q .; }
# same_outputs A B: every output of run folder B equals A's (trace and
# summary without their timing, checkpoints aside: they hold timings)
same_outputs() {
  local a=$1 b=$2 f rel
  (cd "$a" && find . -type f ! -name 'checkpoint*.bin' ! -name .ncopt.lock | sort) >"$b.want" || return 1
  (cd "$b" && find . -type f ! -name 'checkpoint*.bin' ! -name .ncopt.lock | sort) >"$b.got" || return 1
  cmp -s "$b.want" "$b.got" || { echo "  files differ: $(diff "$b.want" "$b.got" | grep '^[<>]' | head -3 | tr '\n' ' ')" >&2; return 1; }
  while read -r rel; do
    f=${rel#./}
    case $f in
      *trace.csv) cmp -s <(nosec "$a/$f") <(nosec "$b/$f") ;;
      *summary.json) cmp -s <(grep -v seconds "$a/$f") <(grep -v seconds "$b/$f") ;;
      *sweep.csv) cmp -s <(cut -d, -f1-3,5- "$a/$f") <(cut -d, -f1-3,5- "$b/$f") ;;
      # cairo numbers its surfaces per process: the ids depend on how many
      # plots the process drew before (a resumed sweep draws fewer)
      *.svg) cmp -s <(sed 's/surface[0-9]*/surface/g' "$a/$f") <(sed 's/surface[0-9]*/surface/g' "$b/$f") ;;
      *) cmp -s "$a/$f" "$b/$f" ;;
    esac || { echo "  $f differs" >&2; return 1; }
  done <"$b.want"
}
# fingerprint DIR: checksums of every file (to prove a folder untouched)
fingerprint() { (cd "$1" && find . -type f ! -name .ncopt.lock -exec cksum {} + | sort -k3); }

# ---- inputs ---------------------------------------------------------------------
cat >glm.ini <<'EOF'
[data]
n = 32
d = 4
seed = 2
[problem]
type = glm
[regularizer]
type = invex
lambda = 0.1
[optimizer]
type = adam
lr = 0.05
batch = 8
[run]
seed = 5
iterations = 24
log_every = 4
checkpoint_every = 8
[probes]
grad_norm = 4
dist_init = true
loss_unreg = 4
EOF
cat >ls.ini <<'EOF'
[data]
n = 24
d = 3
seed = 3
[problem]
type = linear_ls
[optimizer]
type = sgd
lr = 0.05
[run]
iterations = 10
log_every = 5
EOF
cat >sweep.ini <<'EOF'
[data]
n = 16
d = 3
[problem]
type = glm
[optimizer]
type = sgd
[run]
iterations = 6
log_every = 3
checkpoint_every = 3
[sweep]
optimizer.lr = 0.05, 0.1
EOF
# 3 classes of 4×4 "images": a bright row per class plus noise (Park–Miller
# in awk, exact): label, then 16 pixels a line
awk 'function nx() { s = (s * 16807) % 2147483647; return s }
  BEGIN { s = 7; for (i = 0; i < 24; i++) { y = nx() % 3; l = y
    for (r = 0; r < 4; r++) for (c = 0; c < 4; c++) { v = nx() % 60; l = l " " (r == y ? 230 : v) }
    print l } }' >img.txt
# shellcheck disable=SC2046 # values are words
npy_write X.npy f4 24,16 $(awk '{ for (i = 2; i <= NF; i++) printf "%.9g\n", $i / 255 }' img.txt) || bad "X.npy"
# shellcheck disable=SC2046
npy_write Y.npy f4 24,3 $(awk '{ for (k = 0; k < 3; k++) print ($1 == k) }' img.txt) || bad "Y.npy"
{ awk 'BEGIN { for (j = 0; j < 16; j++) printf "p%d,", j; print "label" }'
  awk '{ for (i = 2; i <= NF; i++) printf "%d,", $i; print $1 }' img.txt; } >d.csv
be32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }
{ printf "\\x00\\x00\\x08\\x03$(be32 24)$(be32 4)$(be32 4)"; printf '%b' "$(awk '{ for (i = 2; i <= NF; i++) printf "\\0%03o", $i }' img.txt)"; } | gzip -n >img.gz
{ printf "\\x00\\x00\\x08\\x01$(be32 24)"; printf '%b' "$(awk '{ printf "\\0%03o", $1 }' img.txt)"; } >lab.idx
mlp() { # mlp NAME DATA-LINES...
  local name=$1
  shift
  { echo "[data]"; printf '%s\n' "$@"
    printf '%s\n' "[problem]" "type = mlp" "widths = 4" "loss = least_squares" "[optimizer]" "type = sgd" "lr = 0.1" \
      "batch = 8" "[run]" "iterations = 6" "log_every = 3" "checkpoint_every = 3"; } >"$name.ini"
}
mlp npy "source = npy" "features = X.npy" "targets = Y.npy"
mlp csv "source = csv" "path = d.csv" "label = label" "scale = standardize"
mlp idx "source = idx" "images = img.gz" "labels = lab.idx"

# reference runs (no fault)
for s in glm npy csv idx sweep; do
  "$N" train "$s.ini" --out "ref_$s" --quiet >/dev/null 2>"ref_$s.err" || bad "reference run $s: $(cat "ref_$s.err")"
done
"$N" train glm.ini --out again --quiet && check "the glm run is deterministic" same_outputs ref_glm again

# count NAME DIR ARGS...: a normal run of ncopt ARGS under the shim (I/O
# points: the files of DIR), log in NAME.log; it must succeed and leave no
# block of ncopt's live (else the leak check means nothing). Sets A_NAME and
# IO_NAME, the numbers of points.
count() {
  local name=$1 dir=$2
  shift 2
  rm -f "$name.log"
  NCO_FAULT_LOG=$TMP/$name.log fault count "$TMP/$dir" "cnt_$name" "$@"
  expect_rc 0 "$RC" "$name: normal run under the shim ($(head -c 200 "cnt_$name.err"))"
  expect_eq 0 "$(rep "cnt_$name" live_blocks)" "$name: blocks of ncopt's code still live at the end of a normal run"
  eval "A_$name=$(rep "cnt_$name" alloc_points)"
  eval "IO_$name=$(rep "cnt_$name" io_points)"
}
quiet() { "$@" 2>/dev/null; } # no "Killed" notes from bash

# ---- allocation loop ---------------------------------------------------------------
# check_alloc WHAT K RUNDIR REFDIR: the verdict on a run under alloc:K
# (report RUNDIR.r): exit 0 with the normal run's outputs, or a clean error;
# no block live; no temporary file
check_alloc() {
  local what=$1 k=$2 d=$3 ref=$4 id=- r=$3.r
  [ "$(rep "$r" fired)" = 1 ] || { fail - "$what alloc K=$k: the fault did not fire (exit $RC; the count changed?)"; return; }
  if [ "$RC" = 0 ]; then
    if same_outputs "$ref" "$d" 2>"$r.why"; then pass; else
      fail "$([ -n "${NCO_FAULT_GETLINE:-}" ] && echo trace-getline-eof || echo -)" \
        "$what alloc K=$k: exit 0 with outputs that differ from a normal run: $(head -1 "$r.why")"
    fi
  elif [ "$RC" = 1 ] || [ "$RC" = 2 ]; then
    if one_error "$r.err" "$OOM"; then pass; else
      id=$(oom_defect "$r.err")
      fail "$id" "$what alloc K=$k: exit $RC, not one line naming out of memory: $(head -c 200 "$r.err" | tr '\n' '|')"
    fi
  else
    fail - "$what alloc K=$k: exit $RC (crash?): $(head -c 200 "$r.err" | tr '\n' '|')"
  fi
  if [ "$(rep "$r" live_blocks)" = 0 ]; then pass; else
    fail - "$what alloc K=$k: $(rep "$r" live_blocks) blocks ($(rep "$r" live_bytes) bytes) of ncopt's still live at exit (call sites: $(awk '$1 == "live" { print $2 }' "$r" | head -3 | tr '\n' ' '))"
  fi
  if [ -d "$d" ]; then no_tmp "$d" && pass || fail - "$what alloc K=$k: temporary files left: $(find "$d" -name '*.tmp.*' | head -2 | tr '\n' ' ')"; fi
}
# oom_defect ERR: the known defect a wrong out-of-memory message shows
oom_defect() {
  if grep -q "empty trace" "$1"; then echo plot-oom-msg
  elif grep -q "inconsistent checkpoint contents" "$1"; then echo ckpt-oom-msg
  elif grep -q "^ncopt: completed [0-9]* steps$" "$1"; then echo sweep-overlay-msg
  elif grep -q "trace.csv: cannot open$" "$1"; then echo sweep-overlay-msg
  elif grep -q "cannot read the trace" "$1"; then echo certify-oom-msg
  elif grep -q "trace.csv: no header line" "$1"; then echo trace-oom-msg
  else echo -; fi
}
# resume_defect DIR: the known defect a wrong resume shows (DIR.why)
resume_defect() {
  # a sweep point that finished before the fault is skipped by resume: its
  # plots lost to the fault are never redrawn (and its .tmp files stay)
  if [ -f "$1/points.txt" ] && grep -q "files differ: .*< ./[^ ]*/\(loss\|probes\)\.\(png\|svg\)" "$1.why"; then echo sweep-resume-plots
  # a sweep killed while writing its own overlay or sweep.csv: resume
  # redraws them but leaves the killed process's temporary files
  elif [ -f "$1/points.txt" ] && grep -q "files differ: > ./sweep[^/]*\.tmp\.[^ ]* *$" "$1.why"; then echo sweep-resume-tmp
  else echo -; fi
}
# resumable DIR WHAT K REF: `ncopt resume DIR` (no fault) ends with the
# outputs of the uninterrupted run REF, or refuses in one line when DIR has
# no checkpoint (or does not exist)
resumable() {
  local d=$1 what=$2 ref=$4 rc
  "$N" resume "$d" --quiet >"$d.res.out" 2>"$d.res.err"
  rc=$?
  if [ $rc = 0 ]; then
    if same_outputs "$ref" "$d" 2>"$d.why"; then pass; else
      fail "$(resume_defect "$d")" "$what: resume after the fault: exit 0 but not the uninterrupted run: $(head -1 "$d.why")"
    fi
  elif [ $rc = 1 ] && one_line "$d.res.err" && [ ! -e "$d/checkpoint.bin" ] && [ ! -e "$d/checkpoint.prev.bin" ]; then
    pass # nothing to resume from: refused in one line
  else
    fail - "$what: resume after the fault: exit $rc: $(head -c 200 "$d.res.err" | tr '\n' '|')"
  fi
}

# train NAME under alloc:K into a fresh folder; the primary spec (glm) is
# then resumed without the fault
alloc_train() {
  local s=$1 k=$2 d=at_$1_$2
  fault "alloc:$k" "$TMP/$d" "$d.r" train "$s.ini" --out "$d" --quiet
  check_alloc "train $s" "$k" "$d" "ref_$s"
  if [ "$s" = glm ] && [ "$RC" != 0 ]; then resumable "$d" "train $s alloc K=$k" "$k" "ref_$s"; fi
  rm -rf "$d" "$d".*
}
: >seen.sites
for s in glm npy csv idx sweep; do
  count "a_$s" "cnt_$s" train "$s.ini" --out "cnt_$s" --quiet
  eval "n=\$A_a_$s"
  # glm: every K; the readers: the call sites glm has not; the sweep: its
  # own sites (its error paths around the points differ)
  case $s in
    glm) all=$(seq 1 "$n") ;;
    sweep) all=$(picks "a_$s.log" alloc) ;;
    *) all=$(picks "a_$s.log" alloc seen.sites) ;;
  esac
  loop "alloc-train-$s" "$n" "$all" alloc_train "$s"
  sites "a_$s.log" | sort -u - seen.sites >seen.new && mv seen.new seen.sites
done

# commands that read a finished run: the folder stays untouched; stdout as
# without the fault when they succeed (certify writes certificate.json into
# its --run folder: a copy for each K)
fingerprint ref_glm >ref_glm.fp
cp -r ref_glm cert_ref
CMD_eval=(eval glm.ini --params ref_glm/params.npy --aux ref_glm/aux.npy)
CMD_probe=(probe hessian glm.ini --params ref_glm/params.npy --aux ref_glm/aux.npy --k 2)
CMD_certify=(certify glm.ini --run RUN)
alloc_read() {
  local c=$1 k=$2 d=ar_$1_$2 run=ref_glm
  local -n cmd=CMD_$c # the command's words
  if [ "$c" = certify ]; then cp -r cert_ref "$d" && run=$d; fi
  fault "alloc:$k" "$TMP/$run" "$d.r" "${cmd[@]/RUN/$run}"
  [ "$(rep "$d.r" fired)" = 1 ] || { fail - "$c alloc K=$k: the fault did not fire"; return; }
  if [ "$RC" = 0 ]; then
    if cmp -s "ref_$c.out" "$d.r.out" && { [ "$c" != certify ] || cmp -s cert_ref/certificate.json "$d/certificate.json"; }; then pass; else
      fail - "$c alloc K=$k: exit 0 with another output than without the fault"
    fi
  elif [ "$RC" = 1 ] || [ "$RC" = 2 ]; then
    one_error "$d.r.err" "$OOM" && pass || fail "$(oom_defect "$d.r.err")" "$c alloc K=$k: exit $RC, not one line naming out of memory: $(head -c 200 "$d.r.err" | tr '\n' '|')"
  else
    fail - "$c alloc K=$k: exit $RC (crash?): $(head -c 200 "$d.r.err" | tr '\n' '|')"
  fi
  [ "$(rep "$d.r" live_blocks)" = 0 ] && pass || fail - "$c alloc K=$k: $(rep "$d.r" live_blocks) blocks of ncopt's still live at exit"
  if [ "$c" = certify ]; then # the run's files untouched (certificate.json aside)
    cmp -s <(grep -v certificate.json ref_glm.fp) <(fingerprint "$d" | grep -v certificate.json) && pass ||
      fail - "certify alloc K=$k: changed the files of the run it read"
  fi
  rm -rf "$d" "$d".*
}
for c in eval probe certify; do
  local_cmd="CMD_$c[@]"
  cmd=("${!local_cmd}")
  [ $c = certify ] && cmd=("${cmd[@]/RUN/cert_ref}")
  "$N" "${cmd[@]}" >"ref_$c.out" 2>"ref_$c.err" || bad "$c without a fault: $(cat "ref_$c.err")"
  count "$c" ref_glm "${cmd[@]}"
  eval "n=\$A_$c"
  loop "alloc-$c" "$n" "$(picks "$c.log" alloc)" alloc_read "$c"
done
cmp -s ref_glm.fp <(fingerprint ref_glm) && ok || bad "eval/probe hessian under allocation failures changed the run folder they read"

# an interrupted run: killed at the I/O point after its first checkpoint
KILL_AT=$(awk '$1 == "io" && $3 ~ /^rename/ && $4 ~ /checkpoint\.bin$/ { print $2 + 1; exit }' a_glm.log)
quiet fault "kill:$KILL_AT" "$TMP/killed" killed.r train glm.ini --out killed --quiet
expect_rc 137 "$RC" "train killed at I/O point $KILL_AT (after the first checkpoint)"
cp -r killed killed_c
count resume killed_c resume killed_c --quiet
check "the killed run resumed under the shim = the uninterrupted run" same_outputs ref_glm killed_c
alloc_resume() {
  local k=$2 d=ares_$2
  rm -rf "$d" && cp -r killed "$d"
  fault "alloc:$k" "$TMP/$d" "$d.r" resume "$d" --quiet
  check_alloc "resume" "$k" "$d" ref_glm
  # still resumable, to the same bits
  if [ "$RC" != 0 ]; then resumable "$d" "resume alloc K=$k" "$k" ref_glm; fi
  rm -rf "$d" "$d".*
}
loop alloc-resume "$A_resume" "$(picks resume.log alloc)" alloc_resume resume

# getline failing on a later line (the line does not fit and the buffer
# cannot grow: NCO_FAULT_GETLINE=every makes every call a point): a reader
# that takes -1 for the end of the file continues with part of the file
getline_ks() { awk '$1 == "alloc" && ($3 == "getline" || $3 == "getdelim") { n[$4]++; if (n[$4] <= 2) print $2; last[$4] = $2 }
  END { for (s in last) print last[s] }' "$1" | sort -nu; }
export NCO_FAULT_GETLINE=every
rm -rf killed_g && cp -r killed killed_g
count resume_gl killed_g resume killed_g --quiet
loop getline-resume "$A_resume_gl" "$(getline_ks resume_gl.log)" alloc_resume resume
count train_gl cnt_gl train glm.ini --out cnt_gl --quiet
loop getline-train "$A_train_gl" "$(getline_ks train_gl.log)" alloc_train glm
unset NCO_FAULT_GETLINE

# ---- I/O-fault and crash loops ----------------------------------------------------
# io_run MODE NAME K: train NAME with MODE:K (io: the K-th point fails; full:
# every point from the K-th on), then resume without the fault
io_run() {
  local mode=$1 s=$2 k=$3 d=fo_${1}_$2_$3 what
  fault "$mode:$k" "$TMP/$d" "$d.r" train "$s.ini" --out "$d" --quiet
  what="train $s $mode K=$k ($(io_at "$s" "$k"))"
  if [ "$(rep "$d.r" fired)" != 1 ]; then fail - "$what: the fault did not fire"; rm -rf "$d" "$d".*; return; fi
  if [ "$RC" = 0 ]; then
    if same_outputs "ref_$s" "$d" 2>"$d.why"; then pass; else
      fail - "$what: exit 0 \"completed\" with outputs that differ from a normal run: $(head -1 "$d.why")"
    fi
    rm -rf "$d" "$d".*
    return
  fi
  if [ "$RC" = 1 ] && one_error "$d.r.err" "$IOERR"; then pass; else
    fail "$(io_msg_defect "$d.r.err")" "$what: exit $RC, not one line naming the I/O error: $(head -c 200 "$d.r.err" | tr '\n' '|')"
  fi
  no_tmp "$d" && pass || fail - "$what: temporary files left: $(find "$d" -name '*.tmp.*' | head -2 | tr '\n' ' ')"
  resumable "$d" "$what" "$k" "ref_$s"
  rm -rf "$d" "$d".*
}
# kill_run NAME K: SIGKILL at the K-th I/O point of train NAME, then resume
kill_run() {
  local s=$1 k=$2 d=fo_kill_$1_$2
  quiet fault "kill:$k" "$TMP/$d" "$d.r" train "$s.ini" --out "$d" --quiet
  if [ "$RC" != 137 ]; then fail - "train $s kill K=$k: exit $RC, expected 137 (SIGKILL)"; rm -rf "$d" "$d".*; return; fi
  resumable "$d" "train $s kill K=$k ($(io_at "$s" "$k"))" "$k" "ref_$s"
  rm -rf "$d" "$d".*
}
# io_at NAME K: the K-th I/O point of a normal run (function file)
io_at() { awk -v k="$2" '$1 == "io" && $2 == k { n = split($4, p, "/"); print $3 " " p[n]; exit }' "io_$1.log"; }
io_msg_defect() {
  if grep -q 'cannot rename the plot into place$' "$1"; then echo plot-rename-msg
  elif grep -q "^ncopt: completed [0-9]* steps$" "$1"; then echo sweep-overlay-msg
  else echo -; fi
}
for s in glm sweep; do
  count "io_$s" "fo_$s" train "$s.ini" --out "fo_$s" --quiet
  eval "n=\$IO_io_$s"
  ks=$(picks "io_$s.log" io)
  loop "io-train-$s" "$n" "$ks" io_run io "$s"
  loop "crash-train-$s" "$n" "$ks" kill_run "$s"
done
# faults in `ncopt resume` of the interrupted run: the previous checkpoint
# stays loadable, the next resume (no fault) ends as the uninterrupted run
io_resume() {
  local mode=$1 k=$2 d=fo_r_${1}_$2 what
  rm -rf "$d" && cp -r killed "$d"
  quiet fault "$mode:$k" "$TMP/$d" "$d.r" resume "$d" --quiet
  what="resume $mode K=$k ($(io_at resume "$k"))"
  if [ "$mode" = kill ]; then
    [ "$RC" = 137 ] && pass || fail - "$what: exit $RC, expected 137 (SIGKILL)"
  elif [ "$(rep "$d.r" fired)" != 1 ]; then
    fail - "$what: the fault did not fire"
  elif [ "$RC" = 0 ]; then
    same_outputs ref_glm "$d" 2>"$d.why" && pass || fail - "$what: exit 0 \"completed\" with outputs that differ from the uninterrupted run: $(head -1 "$d.why")"
  else
    [ "$RC" = 1 ] && one_error "$d.r.err" "$IOERR" && pass || fail "$(io_msg_defect "$d.r.err")" "$what: exit $RC, not one line naming the I/O error: $(head -c 200 "$d.r.err" | tr '\n' '|')"
    no_tmp "$d" && pass || fail - "$what: temporary files left: $(find "$d" -name '*.tmp.*' | head -2 | tr '\n' ' ')"
  fi
  [ "$RC" = 0 ] || resumable "$d" "$what" "$k" ref_glm
  rm -rf "$d" "$d".*
}
rm -rf fo_resume && cp -r killed fo_resume
count io_resume fo_resume resume fo_resume --quiet
ks=$(picks io_resume.log io)
loop io-resume "$IO_io_resume" "$ks" io_resume io
loop crash-resume "$IO_io_resume" "$ks" io_resume kill

# a disk that stays full from the K-th point on (every other pick)
loop "full-train-glm" "$IO_io_glm" "$(picks io_glm.log io | awk 'NR % 2')" io_run full glm

echo "test_faults: $((SECONDS - T_START)) s"
finish
