# Regression tests of the hardening issue's defects (each failed before its
# fix): forged checkpoint fields are refused, not trusted; resume after the
# data changed shape is refused before any copy; an all-zero generator
# state cannot hang a resume; one writer per run folder; an earlier run is
# never replaced without --force; epochs × steps per epoch cannot overflow.
. "$(dirname "$0")/cli_lib.sh" || exit 1
cd "$TMP" || exit 1

cat >base.ini <<'EOF'
[data]
n = 40
d = 5
[problem]
type = linear_ls
[optimizer]
type = sgd
lr = 0.01
batch = 8
[run]
iterations = 30
EOF
"$N" train base.ini --out ref --quiet || bad "reference run"

# ---- forged checkpoints (the CRC is fixed up: only validation can catch it) ----
forged() { # forged FIELD VALUE WHAT
  rm -rf "f_$1"
  cp -r ref "f_$1"
  rm -f "f_$1/checkpoint.prev.bin"
  "$T" ckpt-set "f_$1/checkpoint.bin" "$1" "$2" || { bad "ckpt-set $1"; return; }
  run "fr_$1" resume "f_$1" --quiet
  expect_rc 1 "$RC" "forged $1 = $2: resume refused"
  check "forged $1: one line: $3" bash -c "[ \$(wc -l <fr_$1.err) = 1 ] && grep -q \"$3\" fr_$1.err"
}
forged pos 41 "the position in the epoch is past its end"
forged perm0 40 "the minibatch order is not a permutation (entry 0 = 40)"
forged perm0 1 "is not a permutation"
forged flags 9 "unknown state flags"
forged best_iter 31 "step counters after the current step"
forged rng zero "an invalid minibatch generator state"
forged t 1000 "the run would be 30 steps long, it is already at step 1000"
forged n 12 "inconsistent checkpoint"
forged win_n 1000 "step counters after the current step"
forged path -1 "a negative path length"
# a NaN starting point is refused by the optimiser it would start (exit 3: non-finite)
rm -rf f_theta0 && cp -r ref f_theta0 && rm -f f_theta0/checkpoint.prev.bin
"$T" ckpt-set f_theta0/checkpoint.bin theta0 nan || bad "ckpt-set theta0"
run fr_theta0 resume f_theta0 --quiet
expect_rc 3 "$RC" "forged theta0 = nan: resume refused"
check "forged theta0: one line naming it" bash -c "[ \$(wc -l <fr_theta0.err) = 1 ] && grep -q 'x0\[0\] = nan: the starting point must be finite' fr_theta0.err"

# the checkpoint file format: every way a file can be cut, padded, from
# another version or corrupted is refused with its reason (no fallback:
# checkpoint.prev.bin removed), and with a good previous checkpoint resume
# falls back to it and says so
ckfmt() { # ckfmt NAME WHAT: resume of copy NAME of ref refused with WHAT
  run "ckf_$1" resume "$1" --quiet
  expect_rc 1 "$RC" "checkpoint $1: resume refused"
  check "checkpoint $1: $2" grep -q "$2" "ckf_$1.err"
}
fresh() { rm -rf "$1" && cp -r ref "$1" && rm -f "$1/checkpoint.prev.bin"; }
fresh ck_short && head -c 10 ref/checkpoint.bin >ck_short/checkpoint.bin
ckfmt ck_short "truncated checkpoint (10 bytes, no complete header)"
fresh ck_magic && printf 'NOTACKPT' | dd of=ck_magic/checkpoint.bin conv=notrunc status=none
ckfmt ck_magic "not an ncopt checkpoint (bad magic number)"
fresh ck_ver && printf '\x63' | dd of=ck_ver/checkpoint.bin bs=1 seek=8 conv=notrunc status=none
ckfmt ck_ver "checkpoint version 99, this ncopt reads"
fresh ck_cut && head -c -100 ref/checkpoint.bin >ck_cut/checkpoint.bin
ckfmt ck_cut "truncated or padded checkpoint"
fresh ck_pad && cat ref/checkpoint.bin <(printf 'xx') >ck_pad/checkpoint.bin
ckfmt ck_pad "truncated or padded checkpoint"
fresh ck_crc && printf '\xff' | dd of=ck_crc/checkpoint.bin bs=1 seek=40 conv=notrunc status=none
ckfmt ck_crc "checksum mismatch (corrupted checkpoint)"
fresh ck_sl && "$T" ckpt-set ck_sl/checkpoint.bin sl 99999999 && ckfmt ck_sl "inconsistent checkpoint contents"
fresh ck_n && "$T" ckpt-set ck_n/checkpoint.bin n 1099511627776 && ckfmt ck_n "inconsistent checkpoint contents"
fresh ck_none && rm ck_none/checkpoint.bin
ckfmt ck_none "no checkpoint to resume from"
rm -rf ck_fb && cp -r ref ck_fb && cp ref/checkpoint.bin ck_fb/checkpoint.prev.bin && head -c 10 ref/checkpoint.bin >ck_fb/checkpoint.bin
run ckfb resume ck_fb --quiet --set run.iterations=31
expect_rc 0 "$RC" "a damaged checkpoint.bin with a good previous one: resumes"
check "fallback: says which and why" grep -q "note: .*truncated checkpoint.*resuming from .*checkpoint.prev.bin" ckfb.err

# L-BFGS's ring counters index its history: a forged ring position or count
# is refused (it made two_loop write past its arrays)
printf '[data]\nn = 30\nd = 5\n[problem]\ntype = linear_ls\n[optimizer]\ntype = lbfgs\nhistory_size = 4\n[run]\niterations = 3\n' >lb.ini
"$N" train lb.ini --out lbref --quiet || bad "lbfgs reference run"
for forge in "tail16 1e9" "tail16 -1" "tail8 5" "tail16 1.5"; do
  rm -rf lbf && cp -r lbref lbf && rm -f lbf/checkpoint.prev.bin
  "$T" ckpt-set lbf/checkpoint.bin $forge || bad "ckpt-set $forge"
  run lbr resume lbf --quiet --set run.iterations=6
  expect_rc 1 "$RC" "lbfgs ring forged ($forge): resume refused"
  check "lbfgs ring forged ($forge): says so" grep -q "ring position .* and count .* are not within the history of 4" lbr.err
done

# ---- the data change shape between train and resume ----------------------------
"$T" npy-write X.npy f4 "6,3" 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 || bad "npy-write X"
"$T" npy-write y.npy f4 "6" 1 2 3 4 5 6 || bad "npy-write y"
printf '[data]\nsource = npy\nfeatures = X.npy\ntargets = y.npy\n[problem]\ntype = linear_ls\n[optimizer]\nlr = 0.001\n[run]\niterations = 5\n' >npy.ini
"$N" train npy.ini --out np --quiet || bad "npy run"
run np0 resume np --quiet
expect_rc 0 "$RC" "resume of a finished run, data unchanged"
"$T" npy-write X.npy f4 "6,3" 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 19 || bad "npy-write X (one value changed)"
run np1 resume np --quiet
expect_rc 1 "$RC" "resume after the data changed (same shape)"
check "changed data: names the files" grep -q "the data files changed since the run was checkpointed (.*X.npy, .*y.npy)" np1.err
"$T" npy-write X.npy f4 "2,9" 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 || bad "npy-write X'"
"$T" npy-write y.npy f4 "2" 1 2 || bad "npy-write y'"
run npr resume np --quiet
expect_rc 1 "$RC" "resume after the data changed shape"
check "changed shape: says so" grep -q "the checkpoint holds 3 parameters, the problem built from its spec has 9" npr.err

# ---- one writer per folder -------------------------------------------------------
printf '[data]\nn = 4000\nd = 50\n[problem]\ntype = glm\n[optimizer]\ntype = sgd\nlr = 0.001\nbatch = 1\n[run]\nepochs = 50000\n' >long.ini
start_bg train long.ini --out busy --quiet
if wait_rows busy/trace.csv 2; then
  run busy2 train base.ini --out busy --quiet --force
  expect_rc 1 "$RC" "a second train into a folder being written"
  check "second writer: one line naming the lock" bash -c "[ \$(wc -l <busy2.err) = 1 ] && grep -q 'another ncopt process is writing this folder' busy2.err"
  run busy3 resume busy --quiet
  expect_rc 1 "$RC" "resume of a folder being written"
  kill -TERM "$PID"
  wait "$PID" 2>/dev/null
  check "the first run's spec is its own" grep -q '^epochs = 50000$' busy/spec.ini
  run busy4 resume busy --quiet --set run.epochs=1
  expect_rc 2 "$RC" "after the first process ended its folder is free again (shorter: refused as a spec error, not a lock)"
else
  bad "the long run ended before its first rows"
fi

# ---- an earlier run is replaced only with --force ---------------------------------
run ow train base.ini --out ref --quiet
expect_rc 2 "$RC" "train into a run's folder without --force"
check "without --force: names the folder and what it holds" grep -q "^ncopt: train: ref already holds a run (checkpoint.bin): add --force" ow.err
check "without --force: the earlier run is untouched" cmp -s ref/params.npy f_pos/params.npy
mkdir -p own && echo mine >own/notes.txt
run own train base.ini --out own --quiet
expect_rc 0 "$RC" "a folder with other files only is fine"
check "... and the user's file stays" grep -q mine own/notes.txt
run ow2 train base.ini --out ref --quiet --force --set optimizer.lr=0.02
expect_rc 0 "$RC" "--force replaces"

# ---- counts derived from the spec cannot overflow ----------------------------------
run ovf train base.ini --out ovf --quiet --set run.iterations=0 --set run.epochs=288230376151711744 --set optimizer.batch=1
expect_rc 2 "$RC" "epochs × steps per epoch overflowing"
check "overflow: located at run.epochs" grep -q "^--set:2: run.epochs: 288230376151711744 epochs of 40 steps each overflow" ovf.err

# ---- values that a spec file cannot hold are refused, not cut on read-back -----------
run semi train base.ini --out semi --quiet --set 'data.features=a ;b.npy'
expect_rc 2 "$RC" "--set value with ' ;'"
check "' ;': one line naming the key" bash -c "[ \$(wc -l <semi.err) = 1 ] && grep -q \"^--set:1: data.features: the value holds ' ;'\" semi.err"
printf '[problem]\ntype = gl\033[31mm\n[run]\niterations = 2\n' >esc.ini
run esc show esc.ini
expect_rc 2 "$RC" "a control byte in a spec value"
check "control byte: not echoed raw" bash -c '! grep -q $(printf "\033") esc.err && grep -q "esc.ini:2: problem.type: the value holds a control character" esc.err'

# ---- size limits of a spec: a clear error, no quadratic wait -------------------------
{ echo "[run]"; echo "iterations = 2"; echo "[probes]"; for i in $(seq 3000); do echo "k$i = true"; done; } >many.ini
run many show many.ini
expect_rc 2 "$RC" "a spec with 3002 keys"
check "too many keys: located" grep -q "^many.ini:2051: probes.k2048: more than 2048 keys in one spec" many.err
head -c 1100000 /dev/zero | tr '\0' ';' >huge.ini
run huge show huge.ini
expect_rc 2 "$RC" "a 1.1 MB spec"
check "huge spec: says the limit" grep -q "a spec is at most 1048575" huge.err
{ cat base.ini; printf '[sweep]\nrun.seed = %s\ndata.seed = %s\noptimizer.lr = %s\n' "$(seq -s, 1 20)" "$(seq -s, 1 20)" "$(seq -s, 1 20)"; } >grid.ini
run grid train grid.ini --out grid --quiet
expect_rc 2 "$RC" "a grid of 8000 runs"
check "grid: located at the key that overflows it" grep -q "^grid.ini:15: sweep.optimizer.lr: the grid has more than 4096 runs" grid.err

# ---- a CSV header of 80 000 columns: the duplicate check is a hash set ----------------
awk 'BEGIN { for (i = 0; i < 80000; i++) printf "%sc%d", i ? "," : "", i; print ",c7"; for (i = 0; i <= 80000; i++) printf "%s1", i ? "," : ""; print "" }' >wide.csv
printf '[data]\nsource = csv\npath = wide.csv\nlabel = c0\n[problem]\ntype = mlp\nwidths = 2\n[run]\niterations = 1\n' >wide.ini
run wide train wide.ini --out wide --quiet
expect_rc 1 "$RC" "a CSV with a duplicate column name among 80 001"
check "wide CSV: the duplicate named with both columns" grep -q 'duplicate column name "c7" (columns 8 and 80001)' wide.err

# ---- a sweep folder's points.txt is input too --------------------------------------
{ cat base.ini; printf '[sweep]\noptimizer.betas = (0.9, 0.99), (0.5, 0.9)\n'; } | sed 's/^type = sgd$/type = adam/' >betas.ini
run bt train betas.ini --out bt --quiet
expect_rc 0 "$RC" "a sweep over tuples (betas)"
expect_eq 2 "$(wc -l <bt/points.txt)" "commas inside parentheses do not split: 2 points"
cp -r bt bt2 && printf '../../escape\tx\n' >bt2/points.txt
run bt2r resume bt2 --quiet
expect_rc 1 "$RC" "resume of a sweep whose points.txt names ../../escape"
check "points.txt: a name that leaves the folder is refused" grep -q "points.txt:1: '../../escape' is not a point's folder name" bt2r.err
printf 'no tab here\n' >bt2/points.txt
run bt3 resume bt2 --quiet
expect_rc 1 "$RC" "resume of a sweep with a malformed points.txt"
check "points.txt: NAME<TAB>LABEL expected" grep -q "points.txt:1: expected NAME<TAB>LABEL" bt3.err

# sweep grids that cannot be run: each refused before anything runs, located
sweepbad() { # sweepbad NAME WHAT SWEEP-LINES...
  local n=$1 w=$2
  shift 2
  { cat base.ini; echo "[sweep]"; printf '%s\n' "$@"; } >"$n.ini"
  run "$n" train "$n.ini" --out "$n" --quiet
  expect_rc 2 "$RC" "sweep $n refused"
  check "sweep $n: $w" grep -q "$w" "$n.err"
  check "sweep $n: no output folder" test ! -e "$n"
}
sweepbad sw_same "points 1 and 2 have the same folder name" "optimizer.lr = 0.1, 0.1"
sweepbad sw_zip "sweep.zip: 'maybe' is not true or false" "zip = maybe" "optimizer.lr = 0.1, 0.2"
sweepbad sw_keys "sweep: at most 8 keys" "run.seed = 1, 2" "data.seed = 1, 2" "optimizer.lr = 1, 2" "optimizer.momentum = 0, 0.5" \
  "optimizer.dampening = 0, 0.1" "data.n = 40, 41" "data.d = 5, 6" "data.noise = 0, 1" "run.iterations = 3, 4"
sweepbad sw_dot "a sweep key names section.key" "optimizer. = 1, 2"

# ---- a data file that is not a regular file (a FIFO would block open) -------------------
mkfifo fifo.npy
printf '[data]\nsource = npy\nfeatures = fifo.npy\ntargets = y.npy\n[problem]\ntype = linear_ls\n[run]\niterations = 2\n' >fifo.ini
run fifo train fifo.ini --out fifo --quiet
expect_rc 2 "$RC" "a FIFO as data.features"
check "FIFO: not a regular file" grep -q "fifo.ini:3: data.features: .*fifo.npy: not a regular file" fifo.err

# ---- a damaged trace header is not continued; the hint after an early divergence ---------
cp -r ref th && sed -i '1s/.*/garbage,header/' th/trace.csv
run thr resume th --quiet
expect_rc 1 "$RC" "resume with a damaged trace header"
check "damaged header: says so" grep -q "trace.csv: its header is not this run's columns" thr.err
run dv train base.ini --out dv --quiet --set optimizer.lr=1e30 --set run.checkpoint_seconds=1000
expect_rc 3 "$RC" "divergence before the first checkpoint"
check "divergence: no misleading 'set checkpoint_every' hint" grep -q "it diverged before its first checkpoint" dv.err

finish
