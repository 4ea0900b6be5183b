# The diagnostics through the command line (issue 6): the new probes as
# trace columns against independent computations, `ncopt probe hessian`
# (closed-form spectra: PCA at its minimum and at a saddle, the tensor
# problem's Riemannian Hessian on the sphere; the spectral density),
# `ncopt certify` (Theorem 2.2 provably holds for linear least squares with
# n < d, fails for a GLM with unreachable targets and for n > d; the
# comparison with a run; the invex lifting's PL constant), the regularity
# replay (bitwise equal to the run; γ_k against a float64 recomputation of
# the trajectory), the PL ratio ≥ λ² on an invex run, and the spec errors of
# the probes. Independent references use numpy (Debian's python3-numpy).
. "$(dirname "$0")/cli_lib.sh" || exit 1
cd "$TMP" || exit 1

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
python3 - <<'EOF'
import numpy as np
def save(path, a):
    np.save(path, np.asarray(a, dtype=np.float32))
save('M.npy', np.diag([3.0, 2.0, 1.0, 0.5]))
# GD on ½‖M − xxᵀ‖² keeps x₁ = 0 exactly when it starts there (∂f/∂x₁ =
# 2x₁(‖x‖² − 3)): from x_sad0 it converges to the saddle √2·e₂, from x_min0
# to the minimum √3·e₁
save('x_min0.npy', [0.3, 1, 0.5, 0.2])
save('x_sad0.npy', [0, 1, 0.5, 0.2])
rng = np.random.default_rng(5)
A = rng.standard_normal((10, 30)).astype(np.float32)
b = rng.standard_normal(10).astype(np.float32)
save('A.npy', A); save('b.npy', b)
save('x0.npy', rng.standard_normal(30) / np.sqrt(30))
# a GLM whose targets a sigmoid cannot reach (Theorem 2.2 fails)
save('A5.npy', rng.standard_normal((5, 20)))
save('b5.npy', np.full(5, 5.0))
save('x5.npy', rng.standard_normal(20) * 1.5)
save('C.npy', np.eye(3))
save('e1.npy', [1, 0, 0])
EOF
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
check "PCA minimum: 2 largest = 12, 5 and 2 smallest = 2, 4" python3 -c "
o = dict(l.split(None, 1) for l in open('hmin.out').read().splitlines())
hi = [float(v) for v in o['largest'].split()]; lo = [float(v) for v in o['smallest'].split()]
for got, want in zip(hi + lo, [12, 5, 2, 4]): assert abs(got - want) <= 1e-4 * 12, (hi, lo)"
for f in dens/hessian_density.png dens/hessian_density.svg dens/hessian_density.csv; do check "--density writes $f" test -s "$f"; done
# the density integrates to 1 (a sum of unit Gaussians with weights Σ τ_j = 1;
# the grid pads 3σ around the nodes, so the tails miss ~0.3% at most)
check "the spectral density integrates to 1 (trapezoid, 1%)" python3 -c "
import numpy as np
d = np.loadtxt('dens/hessian_density.csv', delimiter=',', skiprows=1)
s = np.trapz(d[:, 1], d[:, 0]); assert abs(s - 1) < 1e-2, s"
run hsad probe hessian pca.ini --params psad/params.npy
expect_rc 0 "$RC" "probe hessian at the PCA saddle"
check "PCA saddle: kind strict_saddle" grep -qx "kind        strict_saddle" hsad.out
check "PCA saddle: λ_max = 8, λ_min = −2" python3 -c "
o = dict(l.split(None, 1) for l in open('hsad.out').read().splitlines())
assert abs(float(o['largest']) - 8) <= 8e-4 and abs(float(o['smallest']) + 2) <= 8e-4, o"
run hnc probe hessian pca.ini --params x_min0.npy
check "a random point is noncritical" grep -qx "kind        noncritical" hnc.out
# the tensor objective −Σ⟨a_i, x⟩⁴ on the sphere at a_1 = e₁: Riemannian
# Hessian P(∇²f − ⟨x,∇f⟩I)P = P(−12e₁e₁ᵀ + 4I)P = 4·I on the tangent space
printf '[data]\nsource = npy\ncomponents = C.npy\n[problem]\ntype = tensor\n[optimizer]\ntype = rgd\nlr = 0.1\n[run]\niterations = 1\n' >tensor.ini
run hten probe hessian tensor.ini --params e1.npy --k 2
expect_rc 0 "$RC" "probe hessian on the sphere"
check "tensor at a component: minimum of the loss, Riemannian eigenvalues 4, 4" python3 -c "
o = dict(l.split(None, 1) for l in open('hten.out').read().splitlines())
assert o['kind'] == 'minimum' and 'Riemannian' in o['hessian'], o
for v in o['largest'].split() + o['smallest'].split(): assert abs(float(v) - 4) < 1e-5, o"
run hk probe hessian pca.ini --params pmin/params.npy --k 0
expect_rc 2 "$RC" "--k 0"
run hk2 probe hessian pca.ini --params pmin/params.npy --k 9
expect_rc 2 "$RC" "--k above the dimension"
check "--k above the dimension: one line" one_line hk2.err
run hpar probe hessian pca.ini
expect_rc 2 "$RC" "probe hessian without --params"

# ---- probes as trace columns, against numpy ---------------------------------
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
# references: H = AᵀA (constant), λ_min = 0 (rank 10 < 30), σ(A) from numpy's
# SVD; PL ratio ‖Aᵀr‖²/‖r‖² at the last row; misfit and distance at the last
# row from params.npy. Tolerances: Lanczos tol 1e-6 relative to ‖H‖ and
# float32 products (~1e-6): 1e-5 relative; the PL ratio and misfit come from
# float32 iterates evaluated twice (ncopt, numpy float64): 1e-5.
check "hess_*, jac_*, pl_ratio, misfit, distance agree with numpy" python3 -c "
import numpy as np, csv
A = np.load('A.npy').astype(float); b = np.load('b.npy').astype(float); x0 = np.load('x0.npy').astype(float)
x = np.load('lsr/params.npy').astype(float)
rows = list(csv.DictReader(open('lsr/trace.csv'))); last = rows[-1]
s = np.linalg.svd(A, compute_uv=False)
close = lambda a, b, rt: abs(a - b) <= rt * max(abs(b), 1e-300)
for r in rows:
    if r['hess_max']: assert close(float(r['hess_max']), s[0]**2, 1e-5), (r['hess_max'], s[0]**2)
    if r['hess_min']: assert abs(float(r['hess_min'])) <= 1e-5 * s[0]**2, r['hess_min']
    if r['jac_smax']: assert close(float(r['jac_smax']), s[0], 1e-5) and close(float(r['jac_smin']), s[-1], 1e-5), (r['jac_smin'], s[-1])
res = A @ x - b; g = A.T @ res
assert close(float(last['pl_ratio']), (g @ g) / (res @ res), 1e-5), (last['pl_ratio'], (g @ g) / (res @ res))
r0 = np.linalg.norm(A @ x0 - b)
assert float(rows[0]['misfit']) == 1.0
assert close(float(last['misfit']), np.linalg.norm(res) / r0, 1e-5), (last['misfit'], np.linalg.norm(res) / r0)
assert close(float(last['distance']), np.linalg.norm(x - x0) / np.linalg.norm(x0), 1e-6)
"
check "hess_min = 50 writes its rows every 50 steps only" python3 -c "
import csv
for r in csv.DictReader(open('lsr/trace.csv')): assert (r['hess_min'] != '') == (int(r['iter']) % 50 == 0), r['iter']"
check "summary.json: theta0_norm and misfit_r0" python3 -c "
import json, numpy as np
s = json.load(open('lsr/summary.json')); x0 = np.load('x0.npy').astype(float)
A = np.load('A.npy').astype(float); b = np.load('b.npy').astype(float)
assert abs(s['theta0_norm'] - np.linalg.norm(x0)) < 1e-6 * np.linalg.norm(x0)
assert abs(s['misfit_r0'] - np.linalg.norm(A @ x0 - b)) < 1e-5 * s['misfit_r0']"
for f in probes.png probes.svg misfit_distance.png misfit_distance.svg; do check "plot $f" test -s "lsr/$f"; done
# a probe costs only its own work: the run without the other probes has the
# same trajectory and the same number of gradient evaluations (grad_norm
# stays: at the last row it is what asks for a gradient)
run lsn train ls.ini --out lsn --quiet --set probes.pl_ratio=false --set probes.hess_max=false \
  --set probes.hess_min=false --set probes.jac_smax=false --set probes.jac_smin=false --set probes.misfit=false \
  --set probes.distance=false --set probes.path_length=false
check "probes do not change the run (params.npy identical)" cmp -s lsr/params.npy lsn/params.npy
expect_eq "$(json lsn/summary.json evaluations.grad)" "$(json lsr/summary.json evaluations.grad)" "probes add no gradient evaluations"
expect_eq None "$(json lsn/summary.json path_length)" "no path length when no probe needs it"

# misfit of ℓ2-regularised runs: the residual [Ax − b; √(2λ)x] (reg.h); under
# MEAN the loss is c·½‖Ax − b‖² + λ‖x‖² (the penalty unscaled), so the
# misfit is not √(2f/c)/‖r₀‖ there and comes from the residual itself
for red in sum mean; do
  run "l2$red" train ls.ini --out "l2$red" --quiet --set regularizer.type=l2 --set regularizer.lambda=0.1 --set problem.reduction=$red
  check "ℓ2, reduction $red: misfit = ‖[Ax − b; √(2λ)x]‖/‖r₀‖ (numpy, 1e-5)" python3 -c "
import numpy as np, csv
A = np.load('A.npy').astype(float); b = np.load('b.npy').astype(float); x0 = np.load('x0.npy').astype(float)
x = np.load('l2$red/params.npy').astype(float)
res = lambda z: np.concatenate([A @ z - b, np.sqrt(0.2) * z])
want = np.linalg.norm(res(x)) / np.linalg.norm(res(x0))
got = float(list(csv.DictReader(open('l2$red/trace.csv')))[-1]['misfit'])
assert abs(got - want) <= 1e-5 * want, (got, want)"
done

# quasi_convexity and rsi with x* = the minimum-norm solution A⁺b
python3 -c "
import numpy as np
A = np.load('A.npy').astype(float); b = np.load('b.npy').astype(float)
np.save('xstar.npy', (np.linalg.pinv(A) @ b).astype(np.float32))"
run qc train ls.ini --out qcr --quiet --set run.x_star=xstar.npy --set probes.quasi_convexity=true --set probes.rsi=true
expect_rc 0 "$RC" "quasi_convexity and rsi with run.x_star"
# for linear least squares with f* = 0 and Ax* = b: ⟨∇f, x − x*⟩ = ‖A(x − x*)‖²
# = 2f, so τ = 2 (Ma eq. 2.2); float32 x* and iterates: 1e-3 (f → 0 makes the
# ratio ill-conditioned late in the run, so the rows up to f ≥ 1e-6 count)
check "quasi_convexity = 2 for linear least squares" python3 -c "
import csv
for r in csv.DictReader(open('qcr/trace.csv')):
    if float(r['loss']) >= 1e-6: assert abs(float(r['quasi_convexity']) - 2) < 1e-3, r"

# ---- certify -------------------------------------------------------------------
run cert certify ls.ini --run lsr
expect_rc 0 "$RC" "certify linear least squares n < d"
check "certify writes lsr/certificate.json" test -s lsr/certificate.json
check "n < d linear least squares: Theorem 2.2 holds (L = 0), Theorem 2.1 applies, the run met (2.3)–(2.5)" python3 -c "
import json; c = json.load(open('lsr/certificate.json'))
t1, t2, r = c['theorem_2_1'], c['theorem_2_2'], c['run']
assert t2['holds'] and t1['applies'] and t1['L'] < 1e-3, (t1, t2)
assert t1['step_ok'], t1
assert r['rate_ok'] and r['eq24_ok'] and r['radius_ok'] and r['path_ok'], r"
check "certify's text report" grep -q "^Theorem 2.2" cert.out
check "certify's ‖θ₀‖-scaled distance: dist_max = max distance × ‖θ₀‖" python3 -c "
import json, csv
c = json.load(open('lsr/certificate.json')); s = json.load(open('lsr/summary.json'))
d = max(float(r['distance']) for r in csv.DictReader(open('lsr/trace.csv')))
assert abs(c['run']['dist_max'] - d * s['theta0_norm']) <= 1e-12 * c['run']['dist_max']"
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
check "GLM with targets 5 > sup σ: (2.6) fails" python3 -c "
import json; c = json.load(open('gf.json')); assert c['theorem_2_2']['holds'] is False and c['theorem_2_2']['margin'] < 1e-2, c['theorem_2_2']"
printf '[data]\nn = 64\nd = 8\n[problem]\ntype = glm\n[run]\niterations = 5\n' >glm64.ini
run g64 certify glm64.ini --json g64.json
check "n > d: Assumption 2 cannot hold (σ_N = 0)" python3 -c "
import json; c = json.load(open('g64.json'))
assert c['theorem_2_2']['holds'] is False and c['theorem_2_1']['applies'] is False and 'cannot hold' in c['notes'], c"
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
check "invex: pl_ratio ≥ λ² at every logged step" python3 -c "
import csv
v = [float(r['pl_ratio']) for r in csv.DictReader(open('invr/trace.csv'))]
assert len(v) == 101 and min(v) >= 0.09 * (1 - 1e-5), min(v)"
run ic certify inv.ini --run invr
check "certify invex: PL constant λ² held, path within R(x₀, λ)" python3 -c "
import json; c = json.load(open('invr/certificate.json'))['invex']
assert abs(c['pl_const'] - 0.09) < 1e-12 and c['pl_ok'] and c['path_ok'], c"
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
expect_eq True "$(json regr/summary.json regularity.replay_identical)" "the replay reproduces the run bit for bit"
check "regularity.csv has a row per step, and regularity.png" bash -c '[ "$(wc -l <regr/regularity.csv)" = 201 ] && test -s regr/regularity.png'
# γ_k of GD on ½‖Ax − b‖² recomputed in float64 from x₀ (Chen, Yang & Zhou
# eq. 2: (⟨θ_k − θ_T, U_k⟩ − η/2‖U_k‖²)/ℓ(θ_k), U_k = ∇f(θ_k)). ncopt's
# trajectory is float32: the iterates differ by ~1e-7 relative, which γ_k's
# numerator (a difference) amplifies where θ_k is close to θ_T: compared on
# the first 100 steps at 1e-3 relative.
check "γ_k against a float64 recomputation of the trajectory" python3 -c "
import numpy as np, csv
A = np.load('A.npy').astype(float); b = np.load('b.npy').astype(float); x = np.load('x0.npy').astype(float)
eta = 0.005; xs = [x]
for k in range(200): x = x - eta * A.T @ (A @ x - b); xs.append(x)
T = xs[-1]; g = [float(r['gamma']) for r in csv.DictReader(open('regr/regularity.csv'))]
for k in range(100):
    xk = xs[k]; r = A @ xk - b; U = A.T @ r
    want = ((xk - T) @ U - eta / 2 * (U @ U)) / (0.5 * r @ r)
    assert abs(g[k] - want) <= 1e-3 * abs(want), (k, g[k], want)
import json; s = json.load(open('regr/summary.json'))['regularity']
assert s['gamma'] == min(g) and s['steps'] == 200"
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
expect_eq True "$(json rega/summary.json regularity.replay_identical)" "minibatch Adam: the replay reproduces the run"
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
spec_err e_lz "e_lz.ini:2: lanczos.tol: 0 is out of range" <<'EOF'
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

finish
