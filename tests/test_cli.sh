# Every `ncopt` command end to end against the built binary: usage and
# --help of each command, list of each topic, show (defaults resolved,
# idempotent), train outputs (trace, summary, params, plots), eval against
# a finished run's summary, reproduce invex_fig1, spec.ini round trip,
# relative data paths, epochs, probes every K steps, stopping rules,
# progress output, and the evaluation count of full-batch runs.
. "$(dirname "$0")/cli_lib.sh" || exit 1
cd "$TMP" || exit 1

# ---- usage, help, version ------------------------------------------------
run noargs
expect_rc 2 "$RC" "ncopt with no arguments"
check "no-argument usage names the commands" grep -q "train SPEC" noargs.err
run help --help
expect_rc 0 "$RC" "ncopt --help"
check "--help lists every command" bash -c 'for c in train resume show eval list reproduce; do grep -q "  $c " help.out || exit 1; done'
run ver --version
expect_rc 0 "$RC" "ncopt --version"
check "--version prints a version" grep -Eq '^ncopt [0-9]+\.[0-9]+\.[0-9]+' ver.out
for c in train resume show eval list reproduce; do
  run "h_$c" "$c" --help
  expect_rc 0 "$RC" "ncopt $c --help"
  check "ncopt $c --help starts with its usage" grep -q "^usage: ncopt $c" "h_$c.out"
  check "ncopt $c --help writes nothing on stderr" test ! -s "h_$c.err"
done
run unk frobnicate
expect_rc 2 "$RC" "unknown command"
check "unknown command: one line" one_line unk.err
for c in train show eval resume reproduce; do
  run "miss_$c" "$c"
  expect_rc 2 "$RC" "ncopt $c without its argument"
  check "ncopt $c without its argument: one 'ncopt:' line" bash -c "[ \$(wc -l <miss_$c.err) = 1 ] && grep -q '^ncopt: $c: missing' miss_$c.err"
done
run badopt train x.ini --bogus
expect_rc 2 "$RC" "unknown option"
check "unknown option: one line" one_line badopt.err
run resset resume somewhere --bogus
expect_rc 2 "$RC" "resume: unknown option"

# ---- list -----------------------------------------------------------------
declare -A expect_item=([problems]="glm tensor linear_ls" [optimizers]="sgd adam lbfgs lm rgd" [schedules]="constant cosine cooldown"
  [regularizers]="none l2 invex" [probes]="grad_norm dist_init path_length loss_unreg" [experiments]="invex_fig1")
for topic in problems optimizers schedules regularizers probes experiments; do
  run "list_$topic" list "$topic"
  expect_rc 0 "$RC" "ncopt list $topic"
  for item in ${expect_item[$topic]}; do
    check "list $topic names $item" grep -Eq "^  $item( |$)" "list_$topic.out"
  done
  check "list $topic: one line per item (no blank lines)" bash -c "! grep -q '^\$' list_$topic.out"
done
run list_all list
expect_rc 0 "$RC" "ncopt list"
for h in problems: optimizers: schedules: regularizers: probes: experiments:; do check "ncopt list has $h" grep -q "^$h" list_all.out; done
check "list optimizers shows each method's keys" grep -Eq '^  adam .*keys: .*betas' list_optimizers.out
run list_bad list bogus
expect_rc 2 "$RC" "ncopt list bogus"
check "ncopt list bogus: one line" one_line list_bad.err

# ---- show: the resolved spec -----------------------------------------------
cat >min.ini <<'EOF'
[problem]
type = linear_ls
[data]
n = 20
d = 4
[run]
iterations = 10
EOF
run show show min.ini
expect_rc 0 "$RC" "ncopt show"
for line in "type = linear_ls" "type = sgd" "lr = 0.001" "batch = 0" "sampling = reshuffle" "[schedule]" "type = constant" \
  "log_every = auto" "full_loss_every = auto" "checkpoint_every = auto" "target_loss = -inf" "max_seconds = inf" "reduction = sum" "source = synthetic"; do
  check "show fills in '$line'" grep -qxF "$line" show.out
done
check "show lists only keys that apply (no adam keys for sgd)" bash -c '! grep -q "^betas" show.out'
cp show.out shown.ini
run show2 show shown.ini
check "show of a shown spec prints it again (resolution is idempotent)" cmp -s show.out show2.out
run show3 show min.ini --set optimizer.lr=0.25 --set optimizer.type=adam
check "--set overrides a key" grep -qxF "lr = 0.25" show3.out
check "--set changes the type, and the defaults follow" grep -qxF "betas = 0.9, 0.999" show3.out
printf '[sweep]\noptimizer.lr = 0.1, 0.2\n' >>shown.ini
run show4 show shown.ini
check "show prints every sweep point" bash -c '[ $(grep -c "^# sweep point" show4.out) = 2 ] && grep -qxF "lr = 0.2" show4.out'

# ---- train: outputs ---------------------------------------------------------
cat >glm.ini <<'EOF'
[data]
n = 40
d = 5
binary = true
[problem]
type = glm
[regularizer]
type = l2
lambda = 0.01
[optimizer]
type = sgd
lr = 0.05
[run]
iterations = 60
log_every = 5
seed = 3
[probes]
grad_norm = true
dist_init = true
path_length = true
loss_unreg = true
EOF
run tr train glm.ini --out r1
expect_rc 0 "$RC" "ncopt train"
check "train: a final line on stderr (not a TTY: no progress lines in a short run)" bash -c '[ $(wc -l <tr.err) = 1 ] && grep -q "^ncopt: completed 60 steps" tr.err'
for f in spec.ini trace.csv summary.json params.npy checkpoint.bin loss.png loss.svg probes.png probes.svg; do
  check "train writes $f" test -s "r1/$f"
done
check "no aux.npy without the invex lifting" test ! -e r1/aux.npy
check "no temporary files left" bash -c '! ls r1 | grep -q "\.tmp\."'
expect_eq "iter,epoch,seconds,loss,lr,batch_loss,grad_norm,dist_init,path_length,loss_unreg" "$(head -1 r1/trace.csv)" "trace header"
expect_eq 13 "$(rows r1/trace.csv)" "rows at 0, 5, ..., 60"
expect_eq "0 5 10 60" "$(cut -d, -f1 r1/trace.csv | sed -n '2p;3p;4p;$p' | tr '\n' ' ' | sed 's/ $//')" "iter column"
check "PNG files are PNG" bash -c 'head -c 8 r1/loss.png | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a"'
check "SVG files are SVG" grep -q "<svg" r1/loss.svg
expect_eq "<f4 (5,)" "$(npy_shape r1/params.npy)" "params.npy: float32 vector of the 5 parameters"
for k in iterations train_seconds stop message final_loss final_loss_unreg final_grad_norm best_loss best_iter epochs \
  versions.ncopt versions.openblas versions.plplot versions.zlib evaluations.grad; do
  check "summary.json has $k" json r1/summary.json "$k" >/dev/null
done
expect_eq 60 "$(json r1/summary.json iterations)" "summary iterations"
expect_eq max_iter "$(json r1/summary.json stop)" "summary stop"
check "0 < train_seconds < 10" awk -v t="$(json r1/summary.json train_seconds)" 'BEGIN { exit !(t != "" && t + 0 > 0 && t + 0 < 10) }'
# final_loss == the last row's loss (numerically, as doubles), likewise
# loss_unreg and grad_norm; best_loss <= every logged loss
final_is_last() {
  awk -F, -v fl="$(json r1/summary.json final_loss)" -v fu="$(json r1/summary.json final_loss_unreg)" \
    -v fg="$(json r1/summary.json final_grad_norm)" -v bl="$(json r1/summary.json best_loss)" '
    NR > 1 { n++; l = $4; u = $10; g = $7; if (n == 1 || $4 + 0 < m) m = $4 + 0 }
    END {
      if (fl == "" || fu == "" || fg == "" || bl == "" || n == 0) exit 1
      if (l + 0 != fl + 0) { print "  last loss " l ", final_loss " fl > "/dev/stderr"; exit 1 }
      if (u + 0 != fu + 0 || g + 0 != fg + 0) exit 1
      exit !(bl + 0 <= m)
    }' <r1/trace.csv
}
check "final_loss is the last row's loss" final_is_last
run trq train glm.ini --out r1q --quiet
check "--quiet: nothing on stderr" test ! -s trq.err
check "the same spec twice gives the same run" same_run r1 r1q
VER=$("$N" --version | cut -d' ' -f2)
expect_eq "$VER" "$(json r1/summary.json versions.ncopt)" "summary version"

# train_seconds is the loop's time: generating 4M data values is not in it
printf '[data]\nn = 100000\nd = 40\n[problem]\ntype = linear_ls\n[run]\niterations = 1\n' >dl.ini
t0=$EPOCHREALTIME
"$N" train dl.ini --out dl --quiet
t1=$EPOCHREALTIME
check "train_seconds excludes data loading (loop < 1/3 of the wall time)" \
  awk -v t="$(json dl/summary.json train_seconds)" -v t0="$t0" -v t1="$t1" \
  'BEGIN { w = t1 - t0; if (!(t != "" && t + 0 > 0 && t + 0 < w / 3)) { print "  train_seconds " t ", wall " w > "/dev/stderr"; exit 1 } }'

# ---- evaluations: a full-batch first-order step reuses the logged evaluation
sed -e 's/log_every = 5/log_every = 1/' glm.ini >glm1.ini
run tr1 train glm1.ini --out r1b --quiet
expect_eq 61 "$(json r1b/summary.json evaluations.grad)" "full-batch sgd, log_every = 1: one gradient per step (+ the last point)"
same_rows() { cmp -s <(nosec r1/trace.csv | cut -d, -f1-4 | sed -n '2p;7p;14p') <(nosec r1b/trace.csv | cut -d, -f1-4 | sed -n '2p;27p;62p') && cmp -s r1/params.npy r1b/params.npy; }
check "log_every changes only which rows are written" same_rows

# ---- eval at a finished run's parameters ------------------------------------
run ev eval r1/spec.ini --params r1/params.npy
expect_rc 0 "$RC" "ncopt eval"
# eval_matches EVAL_OUT SUMMARY KEY...: for each KEY (loss, loss_unreg,
# grad_norm), eval's "KEY VALUE" line equals the summary's final_KEY as a double
eval_matches() {
  local out=$1 sum=$2 k v
  shift 2
  for k in "$@"; do
    v=$(json "$sum" "final_$k") || return 1
    awk -v k="$k" -v v="$v" '$1 == k { n++; x = $2 } END { if (n != 1 || x + 0 != v + 0) { print "  eval " k " = " x ", summary " v > "/dev/stderr"; exit 1 } }' <"$out" || return 1
  done
}
check "eval: loss, loss_unreg, grad_norm equal the summary's final values" eval_matches ev.out r1/summary.json loss loss_unreg grad_norm
npy_write wrong.npy f4 3 1 2 3
run evbad eval r1/spec.ini --params wrong.npy
expect_rc 1 "$RC" "eval with parameters of the wrong size"
check "eval with the wrong size: one line" one_line evbad.err
check "eval with the wrong size names the file" grep -q "wrong.npy" evbad.err
run evnone eval r1/spec.ini --params nonexistent.npy
expect_rc 1 "$RC" "eval with a missing file"
check "eval with a missing file: one line" one_line evnone.err

# ---- reproduce the default experiment ----------------------------------------
T0=$SECONDS
run rep reproduce invex_fig1 --out fig1 --quiet
expect_rc 0 "$RC" "ncopt reproduce invex_fig1"
check "reproduce invex_fig1 takes seconds" test $((SECONDS - T0)) -lt 20
for f in sweep_loss.png sweep_loss.svg sweep_loss_unreg.png sweep_loss_unreg.svg points.txt; do check "invex_fig1: $f" test -s "fig1/$f"; done
expect_eq 4 "$(wc -l <fig1/points.txt)" "invex_fig1: four runs"
while IFS=$'\t' read -r name label; do
  d="fig1/$name"
  for f in spec.ini trace.csv summary.json params.npy loss.png loss.svg probes.png probes.svg; do check "invex_fig1 $name: $f" test -s "$d/$f"; done
  expect_eq "iter,epoch,seconds,loss,lr,batch_loss,grad_norm,dist_init,path_length,loss_unreg" "$(head -1 "$d/trace.csv")" "invex_fig1 $name: trace header"
  expect_eq 1002 "$(wc -l <"$d/trace.csv")" "invex_fig1 $name: rows every 20 of 20000 steps"
  expect_eq "<f4 (8,)" "$(npy_shape "$d/params.npy")" "invex_fig1 $name: params are x in R^8"
  expect_eq 20000 "$(json "$d/summary.json" iterations)" "invex_fig1 $name: iterations"
  case $name in
    type=none*) check "invex_fig1 $name: no aux.npy" test ! -e "$d/aux.npy" ;;
    *)
      expect_eq "<f4 (64,)" "$(npy_shape "$d/aux.npy")" "invex_fig1 $name: aux.npy is p in R^64"
      run "ev_$label" eval "$d/spec.ini" --params "$d/params.npy" --aux "$d/aux.npy"
      check "invex_fig1 $name: eval of (x, p) gives the summary's final loss" eval_matches "ev_$label.out" "$d/summary.json" loss loss_unreg
      ;;
  esac
done <fig1/points.txt
check "invex_fig1: the legend labels drop the section" grep -qP '\ttype=invex lambda=0.1$' fig1/points.txt
# the paper's claim: with the lifting, larger λ fits faster (PL constant λ², Theorem 2)
# and the trade-off of Figure 1: every lifted run interpolates, a smaller λ
# converges more slowly to a point with a lower non-regularised loss
fig1_tradeoff() {
  local l f=() u=()
  for l in none,lambda=0 invex,lambda=1 invex,lambda=0.3 invex,lambda=0.1; do
    f+=("$(json "fig1/type=$l/summary.json" final_loss)") || return 1
    u+=("$(json "fig1/type=$l/summary.json" final_loss_unreg)") || return 1
  done
  # index 0: none λ=0, 1: invex λ=1, 2: invex λ=0.3, 3: invex λ=0.1
  awk -v f0="${f[0]}" -v f1="${f[1]}" -v f2="${f[2]}" -v f3="${f[3]}" \
    -v u0="${u[0]}" -v u1="${u[1]}" -v u2="${u[2]}" -v u3="${u[3]}" 'BEGIN {
    if (!(f0 + 0 > 1)) { print "  the plain run does not interpolate" > "/dev/stderr"; exit 1 }
    if (!(f1 + 0 < 1e-6 && f2 + 0 < 1e-6 && f3 + 0 < 1e-6)) { print "  a lifted run does not interpolate" > "/dev/stderr"; exit 1 }
    if (!(f1 + 0 < f2 + 0 && f2 + 0 < f3 + 0)) { print "  larger lambda converges faster" > "/dev/stderr"; exit 1 }
    if (!(u1 + 0 > u2 + 0 && u2 + 0 > u3 + 0 && u3 + 0 >= u0 - 1e-3)) { print "  smaller lambda, smaller bias" > "/dev/stderr"; exit 1 }
  }'
}
check "invex_fig1: the paper's trade-off (Crane & Roosta, Fig. 1)" fig1_tradeoff

# ---- reusing an output folder: a run replaces what an earlier run or sweep left
"$N" train glm.ini --out reuse --quiet --set run.iterations=3
printf '[sweep]\noptimizer.lr = 0.01, 0.02\n' | cat glm.ini - >sweepy.ini
run reuse_nf train sweepy.ini --out reuse --quiet --set run.iterations=3
expect_rc 2 "$RC" "a sweep into a run's folder without --force"
check "... is refused in one line naming the folder" bash -c "[ \$(wc -l <reuse_nf.err) = 1 ] && grep -q '^ncopt: train: reuse already holds a run (.*): add --force' reuse_nf.err"
check "... and the run's files are untouched" test -s reuse/trace.csv -a -s reuse/params.npy
"$N" train sweepy.ini --out reuse --quiet --set run.iterations=3 --force
check "a sweep into a single run's folder removes that run's files" bash -c '[ ! -e reuse/checkpoint.bin ] && [ ! -e reuse/trace.csv ] && [ -s reuse/points.txt ]'
run reuse_res resume reuse --quiet
expect_rc 0 "$RC" "resume of that folder resumes the sweep"
"$N" train glm.ini --out reuse --quiet --set run.iterations=3 --force
check "a single run into a sweep's folder removes points.txt and the overlay" bash -c '[ ! -e reuse/points.txt ] && [ ! -e reuse/sweep_loss.png ] && [ -s reuse/checkpoint.bin ]'

# ---- spec.ini round trip --------------------------------------------------------
run rt train r1/spec.ini --out r1rt --quiet
check "train DIR/spec.ini reproduces the run" same_run r1 r1rt
check "spec.ini of the round trip is the same text" cmp -s r1/spec.ini r1rt/spec.ini
d="fig1/type=invex,lambda=0.1"
run rt2 train "$d/spec.ini" --out fig1rt --quiet
check "a sweep point's spec.ini reproduces it" same_run "$d" fig1rt

# ---- data paths relative to the spec's folder --------------------------------------
mkdir -p data/sub elsewhere
npy_write data/sub/A.npy f4 6,2 1 0 0 1 1 1 2 1 1 2 0.5 -1
npy_write data/sub/b.npy f4 6 1 2 3 4 5 6
cat >data/npy.ini <<'EOF'
[data]
source = npy
features = sub/A.npy
targets = sub/b.npy
[problem]
type = linear_ls
[optimizer]
type = adam
lr = 0.1
batch = 2
[run]
iterations = 30
EOF
(cd elsewhere && "$N" train ../data/npy.ini --out out --quiet)
expect_rc 0 $? "train with relative data paths from another folder"
check "the resolved spec holds absolute data paths" grep -qxF "features = $TMP/data/sub/A.npy" elsewhere/out/spec.ini
(cd / && "$N" train "$TMP/elsewhere/out/spec.ini" --out "$TMP/npy2" --quiet)
check "its spec.ini runs from any folder and reproduces it" same_run elsewhere/out npy2
expect_eq "<f4 (2,)" "$(npy_shape elsewhere/out/params.npy)" "npy data: 2 parameters"

# ---- epochs and the epoch column --------------------------------------------------
cat >ep.ini <<'EOF'
[data]
n = 64
d = 3
[problem]
type = linear_ls
[optimizer]
type = sgd
lr = 0.001
batch = 10
[run]
epochs = 3
log_every = 1
EOF
run epr train ep.ini --out ep --quiet
expect_rc 0 "$RC" "train with epochs"
expect_eq "21,3" "$(tail -1 ep/trace.csv | cut -d, -f1,2)" "3 epochs of ceil(64/10) = 7 batches end at step 21, epoch 3"
expect_eq "7,1" "$(sed -n 9p ep/trace.csv | cut -d, -f1,2)" "epoch 1 after 7 batches (the last one has 4 samples)"
expect_eq "1,0.15625" "$(sed -n 3p ep/trace.csv | cut -d, -f1,2)" "epoch = samples seen / n"

# ---- probes every K steps --------------------------------------------------------
cat >pk.ini <<'EOF'
[data]
n = 16
d = 3
[problem]
type = linear_ls
[optimizer]
lr = 0.001
[run]
iterations = 12
log_every = 5
[probes]
grad_norm = 3
dist_init = true
EOF
run pkr train pk.ini --out pk --quiet
expect_eq "0 3 5 6 9 10 12" "$(tail -n +2 pk/trace.csv | cut -d, -f1 | tr '\n' ' ' | sed 's/ $//')" "rows at log steps and probe steps"
expect_eq "0:1 3:1 5:0 6:1 9:1 10:0 12:1" "$(tail -n +2 pk/trace.csv | awk -F, '{printf "%s%s:%d", (NR>1 ? " " : ""), $1, ($7 != "")}')" "grad_norm = 3: every 3 steps"
expect_eq "0:1 3:0 5:1 6:0 9:0 10:1 12:1" "$(tail -n +2 pk/trace.csv | awk -F, '{printf "%s%s:%d", (NR>1 ? " " : ""), $1, ($8 != "")}')" "dist_init = true: at logged rows"

# ---- stopping rules ------------------------------------------------------------------
run st1 train glm.ini --out stop1 --quiet --set run.target_loss=5 --set run.iterations=100000
expect_eq target_loss "$(json stop1/summary.json stop)" "target_loss stops the run"
check "the last row is the first below the target" awk -F, '
  NR > 1 { n++; if (seen_low) bad = 1; if ($4 + 0 <= 5) seen_low = 1 }
  END { exit !(n > 0 && seen_low && !bad) }' <stop1/trace.csv
run st2 train glm.ini --out stop2 --quiet --set run.grad_tol=0.5 --set run.iterations=100000
expect_eq converged "$(json stop2/summary.json stop)" "grad_tol stops the run"
run st3 train glm.ini --out stop3 --quiet --set run.max_seconds=0
expect_eq "max_seconds 0" "$(json stop3/summary.json stop) $(json stop3/summary.json iterations)" "max_seconds = 0 stops at step 0"

# ---- every problem type and every method: show is idempotent, train runs ---------------
combo() { # combo NAME PROBLEM OPTIMIZER REGULARIZER
  printf '[problem]\ntype = %s\n[regularizer]\ntype = %s\nlambda = 0.1\n[optimizer]\ntype = %s\nlr = 0.001\n[run]\niterations = 2\nlog_every = 1\n[probes]\nloss_unreg = true\n' \
    "$2" "$4" "$3" >"$1.ini"
  "$N" show "$1.ini" >"$1.s1" && "$N" show "$1.s1" >"$1.s2" && cmp -s "$1.s1" "$1.s2" &&
    "$N" train "$1.ini" --out "$1" --quiet && [ "$(rows "$1/trace.csv")" = 3 ]
}
for p in linear_ls glm lowrank pca matcomp matcomp_asym shallow; do
  check "problem $p (sgd): show idempotent, train runs" combo "c_$p" "$p" sgd none
  check "problem $p with the invex lifting and lm" combo "ci_$p" "$p" lm invex
done
check "problem tensor (rgd)" combo c_tensor tensor rgd none
for o in psgd sgld adagrad adagrad_norm rmsprop adam adamw amsgrad accelegrad lbfgs; do
  check "optimizer $o (glm, l2)" combo "co_$o" glm "$o" l2
done

# ---- other method families run end to end -----------------------------------------------
for m in lbfgs accelegrad lm sgld adagrad_norm; do
  run "m_$m" train glm.ini --out "m_$m" --quiet --set optimizer.type=$m --set optimizer.lr=0.05 --set run.iterations=6 --set run.log_every=1
  expect_rc 0 "$RC" "train with $m"
  expect_eq 7 "$(rows "m_$m/trace.csv")" "$m: rows 0..6"
done
cat >ten.ini <<'EOF'
[data]
d = 6
k = 3
[problem]
type = tensor
[optimizer]
type = rgd
lr = 0.05
[run]
iterations = 20
EOF
run ten train ten.ini --out ten --quiet
expect_rc 0 "$RC" "rgd on the tensor problem"
check "negative losses (tensor: −f) are still plotted" test -s ten/loss.png

# ---- progress line ----------------------------------------------------------------------
cat >long.ini <<'EOF'
[data]
n = 64
d = 8
[problem]
type = glm
[optimizer]
lr = 0.01
[run]
iterations = 1000000000
log_every = 100000
EOF
if script -qec true /dev/null >/dev/null 2>&1; then
  script -qec "$N train long.ini --out long --set run.max_seconds=0.4" /dev/null >tty.txt 2>&1
  check "on a TTY the progress line is redrawn in place" grep -q $'\r\033\[Kstep .* steps/s  ETA' tty.txt
  check "... and the final message replaces it" grep -q $'\r\033\[Kncopt: max_seconds 0.4 reached' tty.txt
  script -qec "$N train long.ini --out long --set run.max_seconds=0.4 --quiet --force" /dev/null >ttyq.txt 2>&1
  check "--quiet on a TTY: silent" test ! -s ttyq.txt
fi
run nt train long.ini --out long2 --set run.max_seconds=0.3
check "not a TTY: no carriage returns" eval '! has_cr nt.err'

finish
