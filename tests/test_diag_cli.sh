# The diagnostics through the command line (issue 6): the new probes as
# trace columns against independent computations, `ncopt probe hessian`
# (closed-form spectra: PCA at its minimum and at a saddle, the tensor
# problem's Riemannian Hessian on the sphere; the spectral density),
# `ncopt certify` (Theorem 2.2 provably holds for linear least squares with
# n < d, fails for a GLM with unreachable targets and for n > d; the
# comparison with a run; the invex lifting's PL constant), the regularity
# replay (bitwise equal to the run; γ_k against a float64 recomputation of
# the trajectory), the PL ratio ≥ λ² on an invex run, and the spec errors of
# the probes. Independent references are closed forms set up by the data
# below, or float64 awk arithmetic over the values $NCO_TOOL dumps.
. "$(dirname "$0")/cli_lib.sh" || exit 1
: "${NCO_TOOL:?set NCO_TOOL to the nco_testtool binary}"
cd "$TMP" || exit 1
npyw() { "$NCO_TOOL" npy-write "$@" || bad "npy-write $1"; }
vals() { "$NCO_TOOL" npy-values "$1"; }
col() { "$NCO_TOOL" csv-col "$1" "$2"; }
jget() { "$NCO_TOOL" json "$1" "$2"; }
# jtrue FILE KEY...: every KEY of the JSON file is true
jtrue() {
  local f=$1 k v
  shift
  for k in "$@"; do
    v=$(jget "$f" "$k")
    [ "$v" = true ] || { echo "  $f: $k = '$v', expected true" >&2; return 1; }
  done
}
# awk_ok EXPR: the awk expression (values substituted by the shell) holds;
# an empty value is a syntax error, hence a failure
awk_ok() { awk "BEGIN { exit !($1) }"; }
# vals_near FILE KEY TOL WANT...: the line "KEY v1 v2 ..." of FILE holds
# exactly the values WANT..., each within TOL (absolute)
vals_near() {
  local f=$1 k=$2 tol=$3
  shift 3
  awk -v k="$k" -v tol="$tol" -v want="$*" '
    $1 == k { seen = 1; n = split(want, w, " ")
      if (NF - 1 != n) bad = 1
      for (i = 1; i <= n; i++) if (!(($(i + 1) - w[i]) <= tol && (w[i] - $(i + 1)) <= tol)) bad = 1 }
    END { if (!seen || bad) print "  " FILENAME ": " k ": expected " want " within " tol > "/dev/stderr"
          exit !(seen && !bad) }' "$f"
}
# gauss SEED N: N standard normal deviates, one a line: the Park–Miller
# minimal standard generator (integer products < 2^46, exact in an awk
# double, so every awk gives the same stream) through Box–Muller
gauss() {
  awk -v s="$1" -v n="$2" 'BEGIN {
    pi = atan2(0, -1)
    for (i = 0; i < n; i += 2) {
      s = (16807 * s) % 2147483647; u = s / 2147483647
      s = (16807 * s) % 2147483647; v = s / 2147483647
      r = sqrt(-2 * log(u)); printf "%.17g\n", r * cos(2 * pi * v)
      if (i + 1 < n) printf "%.17g\n", r * sin(2 * pi * v)
    } }'
}
# the singular values of A (10 × 30) below: s_i = 8 − 0.6 i, i = 0..9
SIG="8 7.4 6.8 6.2 5.6 5 4.4 3.8 3.2 2.6"

# ---- help and lists ----------------------------------------------------------
for c in "probe" "certify"; do
  run "h_$c" $c --help
  expect_rc 0 "$RC" "ncopt $c --help"
  check "ncopt $c --help starts with its usage" grep -q "^usage: ncopt $c" "h_$c.out"
done
run hh probe hessian --help
expect_rc 0 "$RC" "ncopt probe hessian --help"
run lp list probes
for p in pl_ratio quasi_convexity rsi hess_max hess_min jac_smax jac_smin misfit distance regularity; do
  check "list probes names $p" grep -Eq "^  $p " lp.out
done
run pnone probe
expect_rc 2 "$RC" "ncopt probe without what"
run pbad probe gradient x.ini
expect_rc 2 "$RC" "ncopt probe of an unknown kind"
check "unknown probe: one line" one_line pbad.err

# ---- data: a diagonal PCA matrix, a linear least-squares problem ------------
npyw M.npy f4 4,4 3 0 0 0 0 2 0 0 0 0 1 0 0 0 0 0.5
# GD on ½‖M − xxᵀ‖² keeps x₁ = 0 exactly when it starts there (∂f/∂x₁ =
# 2x₁(‖x‖² − 3)): from x_sad0 it converges to the saddle √2·e₂, from x_min0
# to the minimum √3·e₁
npyw x_min0.npy f4 4 0.3 1 0.5 0.2
npyw x_sad0.npy f4 4 0 1 0.5 0.2
# A = diag(s)·Q with Q the DCT-II basis vectors k = 1..10 of R³⁰ (orthonormal
# rows, Q[k][j] = √(2/30)·cos(π(j + ½)k/30)): a dense matrix whose singular
# values are s = $SIG exactly (float32 storage moves them by ~1e-7
# relative) and whose pseudo-inverse is Qᵀdiag(1/s)
npyw A.npy f4 10,30 $(awk -v sig="$SIG" 'BEGIN { pi = atan2(0, -1); split(sig, s, " ")
  for (k = 1; k <= 10; k++) for (j = 0; j < 30; j++) printf "%.17g\n", s[k] * sqrt(2 / 30) * cos(pi * (j + 0.5) * k / 30) }')
npyw b.npy f4 10 $(gauss 5 10)
npyw x0.npy f4 30 $(gauss 7 30 | awk '{ printf "%.17g\n", $1 / sqrt(30) }')
# a GLM whose targets a sigmoid cannot reach (Theorem 2.2 fails)
npyw A5.npy f4 5,20 $(gauss 11 100)
npyw b5.npy f4 5 5 5 5 5 5
npyw x5.npy f4 20 $(gauss 13 20 | awk '{ printf "%.17g\n", 1.5 * $1 }')
npyw C.npy f4 3,3 1 0 0 0 1 0 0 0 1
npyw e1.npy f4 3 1 0 0
cat >pca.ini <<'EOF'
[data]
source = npy
matrix = M.npy
[problem]
type = pca
rank = 1
[optimizer]
type = sgd
lr = 0.05
[run]
iterations = 2000
log_every = 1000
EOF
run pmin train pca.ini --out pmin --quiet --set run.init=x_min0.npy
expect_rc 0 "$RC" "PCA run to the minimum"
run psad train pca.ini --out psad --quiet --set run.init=x_sad0.npy
expect_rc 0 "$RC" "PCA run to the saddle"

# ---- probe hessian -----------------------------------------------------------
# Hessian of ½‖M − xxᵀ‖²: 2(‖x‖²I + 2xxᵀ − M). At √3·e₁: 2·(6, 1, 2, 2.5) →
# {12, 2, 4, 5}; at √2·e₂: 2·(−1, 4, 1, 1.5) → {−2, 8, 2, 3}. The points are
# float32 iterates with ‖∇f‖ ~ 1e-6 and the products exact: the eigenvalues
# agree to ~1e-6 relative; 1e-4 leaves room for Lanczos' residual tolerance.
run hmin probe hessian pca.ini --params pmin/params.npy --k 2 --density --out dens
expect_rc 0 "$RC" "probe hessian at the PCA minimum"
check "PCA minimum: kind minimum" grep -qx "kind        minimum" hmin.out
check "PCA minimum: exact products" grep -q "^hessian     exact" hmin.out
check "PCA minimum: 2 largest = 12, 5" vals_near hmin.out largest 12e-4 12 5
check "PCA minimum: 2 smallest = 2, 4" vals_near hmin.out smallest 12e-4 2 4
for f in dens/hessian_density.png dens/hessian_density.svg dens/hessian_density.csv; do check "--density writes $f" test -s "$f"; done
# the density integrates to 1 (a sum of unit Gaussians with weights Σ τ_j = 1;
# the grid pads 3σ around the nodes, so the tails miss ~0.3% at most)
check "the spectral density integrates to 1 (trapezoid, 1%)" awk -F, '
  NR > 2 { s += ($1 - x) * ($2 + y) / 2 }
  NR > 1 { x = $1; y = $2 }
  END { if (!(s - 1 < 1e-2 && 1 - s < 1e-2)) print "  integral " s > "/dev/stderr"; exit !(s - 1 < 1e-2 && 1 - s < 1e-2) }' dens/hessian_density.csv
run hsad probe hessian pca.ini --params psad/params.npy
expect_rc 0 "$RC" "probe hessian at the PCA saddle"
check "PCA saddle: kind strict_saddle" grep -qx "kind        strict_saddle" hsad.out
check "PCA saddle: λ_max = 8" vals_near hsad.out largest 8e-4 8
check "PCA saddle: λ_min = −2" vals_near hsad.out smallest 8e-4 -2
run hnc probe hessian pca.ini --params x_min0.npy
check "a random point is noncritical" grep -qx "kind        noncritical" hnc.out
# the tensor objective −Σ⟨a_i, x⟩⁴ on the sphere at a_1 = e₁: Riemannian
# Hessian P(∇²f − ⟨x,∇f⟩I)P = P(−12e₁e₁ᵀ + 4I)P = 4·I on the tangent space
printf '[data]\nsource = npy\ncomponents = C.npy\n[problem]\ntype = tensor\n[optimizer]\ntype = rgd\nlr = 0.1\n[run]\niterations = 1\n' >tensor.ini
run hten probe hessian tensor.ini --params e1.npy --k 2
expect_rc 0 "$RC" "probe hessian on the sphere"
check "tensor at a component: minimum of the loss" grep -qx "kind        minimum" hten.out
check "tensor at a component: Riemannian Hessian" grep -q "^hessian .*Riemannian" hten.out
check "tensor at a component: Riemannian eigenvalues 4, 4 (largest)" vals_near hten.out largest 1e-5 4 4
check "tensor at a component: Riemannian eigenvalues 4, 4 (smallest)" vals_near hten.out smallest 1e-5 4 4
run hk probe hessian pca.ini --params pmin/params.npy --k 0
expect_rc 2 "$RC" "--k 0"
run hk2 probe hessian pca.ini --params pmin/params.npy --k 9
expect_rc 2 "$RC" "--k above the dimension"
check "--k above the dimension: one line" one_line hk2.err
run hpar probe hessian pca.ini
expect_rc 2 "$RC" "probe hessian without --params"

# ---- probes as trace columns, against independent references ---------------
cat >ls.ini <<'EOF'
[data]
source = npy
features = A.npy
targets = b.npy
[problem]
type = linear_ls
[optimizer]
type = sgd
lr = 0.005
[run]
iterations = 300
log_every = 10
init = x0.npy
[probes]
grad_norm = true
pl_ratio = true
hess_max = true
hess_min = 50
jac_smax = true
jac_smin = true
misfit = true
distance = true
path_length = true
EOF
run ls train ls.ini --out lsr --quiet
expect_rc 0 "$RC" "linear least squares with the probes"
expect_eq "iter,epoch,seconds,loss,lr,batch_loss,grad_norm,path_length,pl_ratio,hess_max,hess_min,jac_smax,jac_smin,misfit,distance" \
  "$(head -1 lsr/trace.csv)" "probe columns in the X-macro's order"
# lsq_awk PROGRAM PARAMS [AWK OPTIONS...]: runs the awk PROGRAM (an END
# block that exits with `bad`) over float64 copies of A.npy (A[i, j]),
# b.npy (b[i]), x0.npy (x0[j]) and PARAMS (x[j]), with the helpers
# resid(z, r) (r = Az − b, returns ‖r‖²), atr(r, g) (g = Aᵀr, returns
# ‖g‖²), near(a, b, rt) (|a − b| ≤ rt·|b|) and fail(msg)
lsq_awk() {
  local prog=$1 p=$2
  shift 2
  awk "$@" '
    function abs(v) { return v < 0 ? -v : v }
    function near(a, b, rt) { return abs(a - b) <= rt * abs(b) }
    function fail(msg) { print "  " msg > "/dev/stderr"; bad = 1 }
    function resid(z, r,   i, j, s, t) {
      t = 0
      for (i = 0; i < 10; i++) { s = -b[i]; for (j = 0; j < 30; j++) s += A[i, j] * z[j]; r[i] = s; t += s * s }
      return t
    }
    function atr(r, g,   i, j, t) {
      t = 0
      for (j = 0; j < 30; j++) { g[j] = 0; for (i = 0; i < 10; i++) g[j] += A[i, j] * r[i]; t += g[j] * g[j] }
      return t
    }
    FNR == 1 { f++ }
    f == 1 { A[int((FNR - 1) / 30), (FNR - 1) % 30] = $1 + 0 }
    f == 2 { b[FNR - 1] = $1 + 0 }
    f == 3 { x0[FNR - 1] = $1 + 0 }
    f == 4 { x[FNR - 1] = $1 + 0 }
    '"$prog" <(vals A.npy) <(vals b.npy) <(vals x0.npy) <(vals "$p")
}
# references: H = AᵀA (constant), λ_min = 0 (rank 10 < 30), σ(A) = s by
# construction (σ₁ = 8, σ₁₀ = 2.6); PL ratio ‖Aᵀr‖²/‖r‖² at the last row;
# misfit and distance at the last row from params.npy. Tolerances: Lanczos
# tol 1e-6 relative to ‖H‖ and float32 products (~1e-6): 1e-5 relative; the
# PL ratio and misfit come from float32 iterates evaluated twice (ncopt,
# awk float64): 1e-5.
check "hess_*, jac_* agree with σ(A) = s at every row" awk -F, -v s1=8 -v s10=2.6 '
  function abs(v) { return v < 0 ? -v : v }
  function fail(msg) { print "  row " NR ": " msg > "/dev/stderr"; bad = 1 }
  $1 != "" { n++; if (!(abs($1 - s1 * s1) <= 1e-5 * s1 * s1)) fail("hess_max " $1) }
  $2 != "" { if (!(abs($2) <= 1e-5 * s1 * s1)) fail("hess_min " $2) }
  $3 != "" { if (!(abs($3 - s1) <= 1e-5 * s1) || !(abs($4 - s10) <= 1e-5 * s10)) fail("jac_smax " $3 ", jac_smin " $4) }
  END { exit bad || !n }' <(paste -d, <(col lsr/trace.csv hess_max) <(col lsr/trace.csv hess_min) \
  <(col lsr/trace.csv jac_smax) <(col lsr/trace.csv jac_smin))
check "pl_ratio, misfit, distance agree with a float64 recomputation" lsq_awk '
  END {
    t = resid(x, r); gg = atr(r, g)
    if (!near(pl, gg / t, 1e-5)) fail("pl_ratio " pl " vs " gg / t)
    r0 = sqrt(resid(x0, r))
    if (m0 != 1) fail("first misfit " m0)
    if (!near(m, sqrt(t) / r0, 1e-5)) fail("misfit " m " vs " sqrt(t) / r0)
    for (j = 0; j < 30; j++) { dn += (x[j] - x0[j]) ^ 2; xn += x0[j] ^ 2 }
    if (!near(dist, sqrt(dn / xn), 1e-6)) fail("distance " dist " vs " sqrt(dn / xn))
    exit bad
  }' lsr/params.npy -v pl="$(col lsr/trace.csv pl_ratio | tail -1)" -v m0="$(col lsr/trace.csv misfit | head -1)" \
  -v m="$(col lsr/trace.csv misfit | tail -1)" -v dist="$(col lsr/trace.csv distance | tail -1)"
check "hess_min = 50 writes its rows every 50 steps only" awk -F, '
  (($2 != "") != ($1 % 50 == 0)) { print "  iter " $1 > "/dev/stderr"; bad = 1 }
  END { exit bad || !NR }' <(paste -d, <(col lsr/trace.csv iter) <(col lsr/trace.csv hess_min))
check "summary.json: theta0_norm and misfit_r0" lsq_awk '
  END {
    for (j = 0; j < 30; j++) xn += x0[j] ^ 2
    if (!(abs(t0 - sqrt(xn)) < 1e-6 * sqrt(xn))) fail("theta0_norm " t0 " vs " sqrt(xn))
    if (!(abs(mr0 - sqrt(resid(x0, r))) < 1e-5 * mr0)) fail("misfit_r0 " mr0 " vs " sqrt(resid(x0, r)))
    exit bad
  }' x0.npy -v t0="$(jget lsr/summary.json theta0_norm)" -v mr0="$(jget lsr/summary.json misfit_r0)"
for f in probes.png probes.svg misfit_distance.png misfit_distance.svg; do check "plot $f" test -s "lsr/$f"; done
# a probe costs only its own work: the run without the other probes has the
# same trajectory and the same number of gradient evaluations (grad_norm
# stays: at the last row it is what asks for a gradient)
run lsn train ls.ini --out lsn --quiet --set probes.pl_ratio=false --set probes.hess_max=false \
  --set probes.hess_min=false --set probes.jac_smax=false --set probes.jac_smin=false --set probes.misfit=false \
  --set probes.distance=false --set probes.path_length=false
check "probes do not change the run (params.npy identical)" cmp -s lsr/params.npy lsn/params.npy
expect_eq "$(jget lsn/summary.json evaluations.grad)" "$(jget lsr/summary.json evaluations.grad)" "probes add no gradient evaluations"
expect_eq null "$(jget lsn/summary.json path_length)" "no path length when no probe needs it"

# misfit of ℓ2-regularised runs: the residual [Ax − b; √(2λ)x] (reg.h); under
# MEAN the loss is c·½‖Ax − b‖² + λ‖x‖² (the penalty unscaled), so the
# misfit is not √(2f/c)/‖r₀‖ there and comes from the residual itself
for red in sum mean; do
  run "l2$red" train ls.ini --out "l2$red" --quiet --set regularizer.type=l2 --set regularizer.lambda=0.1 --set problem.reduction=$red
  check "ℓ2, reduction $red: misfit = ‖[Ax − b; √(2λ)x]‖/‖r₀‖ (float64 awk, 1e-5)" lsq_awk '
    END {
      for (j = 0; j < 30; j++) { xx += x[j] ^ 2; xx0 += x0[j] ^ 2 }
      want = sqrt(resid(x, r) + 0.2 * xx) / sqrt(resid(x0, r) + 0.2 * xx0)
      if (!(abs(got - want) <= 1e-5 * want)) fail("misfit " got " vs " want)
      exit bad
    }' "l2$red/params.npy" -v got="$(col "l2$red/trace.csv" misfit | tail -1)"
done

# quasi_convexity and rsi with x* = the minimum-norm solution A⁺b = Qᵀdiag(1/s)b
npyw xstar.npy f4 30 $(vals b.npy | awk -v sig="$SIG" '{ b[NR] = $1 }
  END { pi = atan2(0, -1); split(sig, s, " ")
    for (j = 0; j < 30; j++) {
      v = 0
      for (k = 1; k <= 10; k++) v += sqrt(2 / 30) * cos(pi * (j + 0.5) * k / 30) * b[k] / s[k]
      printf "%.17g\n", v
    } }')
run qc train ls.ini --out qcr --quiet --set run.x_star=xstar.npy --set probes.quasi_convexity=true --set probes.rsi=true
expect_rc 0 "$RC" "quasi_convexity and rsi with run.x_star"
# for linear least squares with f* = 0 and Ax* = b: ⟨∇f, x − x*⟩ = ‖A(x − x*)‖²
# = 2f, so τ = 2 (Ma eq. 2.2); float32 x* and iterates: 1e-3 (f → 0 makes the
# ratio ill-conditioned late in the run, so the rows up to f ≥ 1e-6 count)
check "quasi_convexity = 2 for linear least squares" awk -F, '
  function abs(v) { return v < 0 ? -v : v }
  $1 >= 1e-6 { n++; if (!(abs($2 - 2) < 1e-3)) { print "  loss " $1 ": quasi_convexity " $2 > "/dev/stderr"; bad = 1 } }
  END { exit bad || !n }' <(paste -d, <(col qcr/trace.csv loss) <(col qcr/trace.csv quasi_convexity))
# ---- certify -------------------------------------------------------------------
run cert certify ls.ini --run lsr
expect_rc 0 "$RC" "certify linear least squares n < d"
check "certify writes lsr/certificate.json" test -s lsr/certificate.json
check "n < d linear least squares: Theorem 2.2 holds, Theorem 2.1 applies with its step" \
  jtrue lsr/certificate.json theorem_2_2.holds theorem_2_1.applies theorem_2_1.step_ok
check "n < d linear least squares: L = 0 (< 1e-3)" awk_ok "$(jget lsr/certificate.json theorem_2_1.L) < 1e-3"
check "n < d linear least squares: the run met (2.3)–(2.5)" \
  jtrue lsr/certificate.json run.rate_ok run.eq24_ok run.radius_ok run.path_ok
check "certify's text report" grep -q "^Theorem 2.2" cert.out
check "certify's ‖θ₀‖-scaled distance: dist_max = max distance × ‖θ₀‖" awk -v dm="$(jget lsr/certificate.json run.dist_max)" \
  -v t0="$(jget lsr/summary.json theta0_norm)" 'NR == 1 || $1 > d { d = $1 }
  END { e = dm - d * t0; if (e < 0) e = -e; exit !(NR > 0 && e <= 1e-12 * dm) }' <(col lsr/trace.csv distance)
cat >glm5.ini <<'EOF'
[data]
source = npy
features = A5.npy
targets = b5.npy
[problem]
type = glm
activation = sigmoid
[optimizer]
type = sgd
lr = 0.01
[run]
iterations = 10
init = x5.npy
EOF
run gf certify glm5.ini --json gf.json
expect_rc 0 "$RC" "certify a GLM with unreachable targets"
check "GLM with targets 5 > sup σ: (2.6) fails" awk_ok "\"$(jget gf.json theorem_2_2.holds)\" == \"false\" && $(jget gf.json theorem_2_2.margin) < 1e-2"
printf '[data]\nn = 64\nd = 8\n[problem]\ntype = glm\n[run]\niterations = 5\n' >glm64.ini
run g64 certify glm64.ini --json g64.json
check "n > d: Assumption 2 cannot hold (σ_N = 0)" bash -c '[ "$("$NCO_TOOL" json g64.json theorem_2_2.holds)" = false ] &&
  [ "$("$NCO_TOOL" json g64.json theorem_2_1.applies)" = false ] && "$NCO_TOOL" json g64.json notes | grep -q "cannot hold"'
run ct certify tensor.ini
expect_rc 2 "$RC" "certify on a problem without residuals"
check "certify on tensor: one located line" bash -c 'one_line() { [ "$(wc -l <"$1")" = 1 ]; }; one_line ct.err && grep -q "^tensor.ini:[0-9]*: problem.type: certify needs a least-squares problem" ct.err'
run cm certify glm64.ini --run lsr
expect_rc 1 "$RC" "certify --run with a run of another spec"
run cn certify ls.ini --run nowhere
expect_rc 2 "$RC" "certify --run without a run folder"

# ---- invex: PL ratio ≥ λ², certify's invex comparison ------------------------
cat >inv.ini <<'EOF'
[data]
seed = 1
n = 64
d = 8
binary = true
[problem]
type = glm
[regularizer]
type = invex
lambda = 0.3
[optimizer]
type = sgd
lr = 0.1
[run]
iterations = 400
log_every = 4
seed = 1
[probes]
pl_ratio = true
misfit = true
distance = true
EOF
run inv train inv.ini --out invr --quiet
expect_rc 0 "$RC" "invex run with pl_ratio"
# Crane & Roosta Theorem 2(ii): ‖∇f̂‖² ≥ 2λ²f̂, i.e. pl_ratio ≥ λ² = 0.09;
# the ratio is formed from a float32 gradient: 1e-5 relative slack
check "invex: pl_ratio ≥ λ² at every logged step" awk 'NR == 1 || $1 < m { m = $1 }
  END { if (!(NR == 101 && m >= 0.09 * (1 - 1e-5))) print "  " NR " rows, min " m > "/dev/stderr"
        exit !(NR == 101 && m >= 0.09 * (1 - 1e-5)) }' <(col invr/trace.csv pl_ratio)
run ic certify inv.ini --run invr
check "certify invex: PL constant λ² held, path within R(x₀, λ)" jtrue invr/certificate.json invex.pl_ok invex.path_ok
check "certify invex: PL constant = λ² = 0.09" awk_ok "$(jget invr/certificate.json invex.pl_const) - 0.09 < 1e-12 && 0.09 - $(jget invr/certificate.json invex.pl_const) < 1e-12"
check "misfit_distance plot redrawn with the bounds" test -s invr/misfit_distance.png

# ---- regularity: the replay --------------------------------------------------
cat >reg.ini <<'EOF'
[data]
source = npy
features = A.npy
targets = b.npy
[problem]
type = linear_ls
[optimizer]
type = sgd
lr = 0.005
[run]
iterations = 200
log_every = 50
init = x0.npy
[probes]
regularity = true
EOF
run reg train reg.ini --out regr --quiet
expect_rc 0 "$RC" "regularity on full-batch GD"
expect_eq true "$(jget regr/summary.json regularity.replay_identical)" "the replay reproduces the run bit for bit"
check "regularity.csv has a row per step, and regularity.png" bash -c '[ "$(wc -l <regr/regularity.csv)" = 201 ] && test -s regr/regularity.png'
# γ_k of GD on ½‖Ax − b‖² recomputed in float64 from x₀ (Chen, Yang & Zhou
# eq. 2: (⟨θ_k − θ_T, U_k⟩ − η/2‖U_k‖²)/ℓ(θ_k), U_k = ∇f(θ_k)). ncopt's
# trajectory is float32: the iterates differ by ~1e-7 relative, which γ_k's
# numerator (a difference) amplifies where θ_k is close to θ_T: compared on
# the first 100 steps at 1e-3 relative.
check "γ_k against a float64 recomputation of the trajectory" lsq_awk '
  END {
    eta = 0.005; n = split(gs, g, " ")
    for (j = 0; j < 30; j++) X[0, j] = x0[j]
    for (k = 0; k < 200; k++) {
      for (j = 0; j < 30; j++) z[j] = X[k, j]
      resid(z, r); atr(r, u)
      for (j = 0; j < 30; j++) X[k + 1, j] = z[j] - eta * u[j]
    }
    for (k = 0; k < 100; k++) {
      for (j = 0; j < 30; j++) z[j] = X[k, j]
      t = resid(z, r); uu = atr(r, u); ip = 0
      for (j = 0; j < 30; j++) ip += (z[j] - X[200, j]) * u[j]
      want = (ip - eta / 2 * uu) / (0.5 * t)
      if (!(abs(g[k + 1] - want) <= 1e-3 * abs(want))) fail("step " k ": gamma " g[k + 1] " vs " want)
    }
    m = g[1]; for (k = 2; k <= n; k++) if (g[k] < m) m = g[k]
    if (n != 200 || steps != 200 || gam != m) fail(n " rows, steps " steps ", gamma " gam " vs min " m)
    exit bad
  }' x0.npy -v gs="$(col regr/regularity.csv gamma | tr '\n' ' ')" \
  -v gam="$(jget regr/summary.json regularity.gamma)" -v steps="$(jget regr/summary.json regularity.steps)"
run regn train reg.ini --out regn --quiet --set probes.regularity=false
check "the regularity probe does not change the run (trace minus timing, params)" same_run regr regn
# minibatch Adam on a GLM, every 5 steps; interrupted and resumed, the
# regularity outputs equal an uninterrupted run's
cat >rega.ini <<'EOF'
[data]
n = 64
d = 8
[problem]
type = glm
[optimizer]
type = adam
lr = 0.01
batch = 8
[run]
iterations = 3000
log_every = 100
checkpoint_every = 10
[probes]
regularity = 5
EOF
run rega train rega.ini --out rega --quiet
expect_eq true "$(jget rega/summary.json regularity.replay_identical)" "minibatch Adam: the replay reproduces the run"
check "regularity = 5: rows every 5 steps" bash -c '[ "$(wc -l <rega/regularity.csv)" = 601 ] && sed -n 3p rega/regularity.csv | grep -q "^5,"'
if kill_at_row regak 10 INT train rega.ini --out regak; then
  expect_rc 130 "$RC" "SIGINT during a run with the regularity probe"
  run regk resume regak --quiet
  expect_rc 0 "$RC" "resume a run with the regularity probe"
  check "resumed: regularity.csv identical" cmp -s rega/regularity.csv regak/regularity.csv
  check "resumed: trace and params identical" same_run rega regak
fi

# ---- spec errors of the probes ------------------------------------------------
spec_err() {
  local name=$1 want=$2
  cat >"$name.ini"
  run "$name" show "$name.ini"
  expect_rc 2 "$RC" "$name"
  check "$name: one line" one_line "$name.err"
  check "$name: message '$want'" grep -qF -- "$want" "$name.err"
}
spec_err e_rsi "e_rsi.ini:4: probes.rsi: needs a known minimiser: set run.x_star" <<'EOF'
[run]
iterations = 3
[probes]
rsi = true
EOF
spec_err e_jac "e_jac.ini:6: probes.jac_smin: needs a least-squares problem (residuals); tensor has none" <<'EOF'
[problem]
type = tensor
[run]
iterations = 3
[probes]
jac_smin = true
EOF
spec_err e_lz "e_lz.ini:2: lanczos.tol = 0: must be in (0, 1]" <<'EOF'
[lanczos]
tol = 0
[run]
iterations = 3
EOF
spec_err e_lzs "e_lzs.ini:2: lanczo.max_iter: unknown section [lanczo] (did you mean [lanczos]?)" <<'EOF'
[lanczo]
max_iter = 3
[run]
iterations = 3
EOF
spec_err e_hess "e_hess.ini:4: probes.hes_max: unknown key (did you mean 'hess_max'?)" <<'EOF'
[run]
iterations = 3
[probes]
hes_max = true
EOF
printf '[problem]\ntype = linear_ls\n[data]\nd = 8\n[run]\niterations = 3\nx_star = x5.npy\n[probes]\nrsi = true\n' >e_xs.ini
run e_xs train e_xs.ini --out e_xs
expect_rc 2 "$RC" "run.x_star of the wrong size"
check "run.x_star of the wrong size: located" grep -q "^e_xs.ini:7: run.x_star: .* holds 20 values, the problem has 8 parameters" e_xs.err
check "no output folder for a spec error" test ! -e e_xs
printf '[problem]\ntype = glm\n[run]\niterations = 3\nf_star = 100\n[probes]\npl_ratio = true\n' >e_fs.ini
run e_fs train e_fs.ini --out e_fs --quiet
expect_rc 1 "$RC" "run.f_star above the loss"
check "f* above the loss: one line naming run.f_star" bash -c "[ \$(wc -l <e_fs.err) = 1 ] && grep -q 'below run.f_star = 100' e_fs.err"

# hess_trace: Hutchinson's estimate and its standard error as trace columns;
# on linear least squares the Hessian AᵀA is constant, so every row
# estimates the same trace: the rows agree within a few standard errors
printf '[problem]\ntype = linear_ls\n[data]\nn = 40\nd = 10\n[run]\niterations = 40\nlog_every = 10\n[lanczos]\ntrace_samples = 400\n[probes]\nhess_trace = true\nhess_trace_se = true\n' >tr.ini
run tr train tr.ini --out tr --quiet
expect_rc 0 "$RC" "hess_trace"
check "trace columns" grep -q '^iter,epoch,seconds,loss,lr,batch_loss,hess_trace,hess_trace_se$' tr/trace.csv
paste -d' ' <(csv_col tr/trace.csv hess_trace) <(csv_col tr/trace.csv hess_trace_se) >trv.txt
check "5 rows, each within 4 standard errors of the first, se > 0" awk 'NR == 1 { t = $1; s = $2 } { if ($2 <= 0 || ($1 - t) > 4 * (s + $2) || (t - $1) > 4 * (s + $2)) bad = 1 } END { exit !(NR == 5 && !bad) }' trv.txt
run tr2 train tr.ini --out tr2 --quiet --set run.iterations=20
run tr2r resume tr2 --quiet --set run.iterations=40
check "hess_trace: resumed = uninterrupted (the probes follow the step)" cmp -s <(csv_col tr/trace.csv hess_trace) <(csv_col tr2/trace.csv hess_trace)

# per-layer norms (Cockpit's instruments): on full-batch GD the last step's
# update of layer l is lr·∇_l f(θ_{t−1}), so update_ratio.l(t)·param_norm.l(t)
# = lr·layer_grad.l(t − 1), to the rounding of Δθ = θ_t − θ_{t−1} formed
# in float (2⁻²⁴·‖θ‖/‖Δθ‖ ≈ 6e-8·1.3/0.009 ≈ 1e-5 here; measured ≤ 2e-6);
# and the layers' squares add up to the whole
npy_write lx.npy f4 "12,6" $(seq 1 72 | awk '{ printf "%s ", sin($1) }') || bad "npy"
npy_write ly.npy f4 12 0 1 2 0 1 2 0 1 2 0 1 2 || bad "npy"
printf '[data]\nsource = npy\nfeatures = lx.npy\ntargets = ly.npy\n[problem]\ntype = mlp\nwidths = 5\n[optimizer]\ntype = sgd\nlr = 0.1\n[run]\niterations = 5\nlog_every = 1\n[probes]\nparam_norm = true\nlayer_grad = true\nupdate_ratio = true\n' >lp.ini
run lp train lp.ini --out lp --quiet
expect_rc 0 "$RC" "per-layer probes"
check "per-layer columns" grep -q '^iter,epoch,seconds,loss,lr,batch_loss,param_norm,param_norm.fc1,param_norm.fc2,layer_grad,layer_grad.fc1,layer_grad.fc2,update_ratio,update_ratio.fc1,update_ratio.fc2$' lp/trace.csv
tail -n +2 lp/trace.csv | cut -d, -f7- | tr , ' ' >lp.txt
check "update_ratio.l · param_norm.l = lr · layer_grad.l of the row before (rows 1-5, both layers)" awk '
  NR > 1 { for (k = 0; k < 2; k++) { a = $(8 + k) * $(2 + k); b = 0.1 * g[k]; if (a - b > 1e-5 * b || b - a > 1e-5 * b) bad = 1 } }
  { g[0] = $5; g[1] = $6 } END { exit !(NR == 6 && !bad) }' lp.txt
check "the layers' squares make the whole (param_norm, layer_grad)" awk '
  { for (k = 0; k < 2; k++) { t = $(1 + 3 * k); s = $(2 + 3 * k)^2 + $(3 + 3 * k)^2; if (s - t * t > 1e-9 * t * t || t * t - s > 1e-9 * t * t) bad = 1 } }
  END { exit bad }' lp.txt

# hess_topk: linear least squares with A = diag(1, …, 8) has the Hessian
# AᵀA = diag(1, 4, …, 64): the three largest eigenvalues are 64, 49, 36
npy_write dA.npy f4 "8,8" $(for i in 1 2 3 4 5 6 7 8; do for j in 1 2 3 4 5 6 7 8; do [ $i = $j ] && printf '%s ' $i || printf '0 '; done; done) || bad "npy"
npy_write db.npy f4 8 0 0 0 0 0 0 0 0 || bad "npy"
printf '[data]\nsource = npy\nfeatures = dA.npy\ntargets = db.npy\n[problem]\ntype = linear_ls\n[run]\niterations = 2\nlog_every = 1\n[probes]\nhess_topk = true\n' >tk.ini
run tk train tk.ini --out tk --quiet
expect_rc 0 "$RC" "hess_topk"
check "hess_topk columns (lanczos.topk = 3)" grep -q '^iter,epoch,seconds,loss,lr,batch_loss,hess_topk,hess_topk.2,hess_topk.3$' tk/trace.csv
tail -1 tk/trace.csv | cut -d, -f7- | tr , ' ' >tk.txt
check "hess_topk = 64, 49, 36 (to 1e-5)" awk '{ exit !(($1 - 64)^2 < 4e-6 && ($2 - 49)^2 < 2.4e-6 && ($3 - 36)^2 < 1.3e-6) }' tk.txt

# lanczos.batch = N: the Hessian probes on N fixed samples. With A = diag(1,
# …, 8) a sample i contributes i²·e_i e_iᵀ, so on a subset S the top
# eigenvalues are {i² : i ∈ S}: 4 samples give three squares of distinct
# integers, not the full data's 64, 49, 36; N = n is the full data, bit for bit; the same
# samples at every row and after a resume
run tb8 train tk.ini --out tb8 --quiet --set lanczos.batch=8
check "lanczos.batch = n: the full data's values" cmp -s <(nosec tk/trace.csv) <(nosec tb8/trace.csv)
run tb4 train tk.ini --out tb4 --quiet --set lanczos.batch=4 --set run.iterations=4
expect_rc 0 "$RC" "lanczos.batch = 4"
tail -n +2 tb4/trace.csv | cut -d, -f7- | tr , ' ' >tb4.txt
check "4 of the 8 samples: the top three are squares of distinct integers ≤ 8, not 64, 49, 36 (every row the same)" awk '
  { for (k = 1; k <= 3; k++) { r = sqrt($k); i = int(r + 0.5); if ((r - i)^2 > 1e-10 || i < 1 || i > 8) bad = 1; v[k] = i }
    if (!(v[1] > v[2] && v[2] > v[3]) || (v[1] == 8 && v[2] == 7 && v[3] == 6)) bad = 1; if (NR > 1 && $0 != first) bad = 1; first = $0 }
  END { exit !(NR == 5 && !bad) }' tb4.txt
run tb4a train tk.ini --out tb4a --quiet --set lanczos.batch=4 --set run.iterations=2
run tb4r resume tb4a --quiet --set run.iterations=4
check "lanczos.batch: resumed = uninterrupted" cmp -s <(nosec tb4/trace.csv) <(nosec tb4a/trace.csv)

finish
