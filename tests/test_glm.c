/* GLM g(x) = φ̃(Ax) − b (Oymak & Soltanolkotabi §4.1; Crane & Roosta §3
 * Fig. 1): values against independent formulas, derivative checks for every
 * activation, Theorem 4.1 (GD converges to the closest interpolating θ*),
 * the binary generator, input validation and a .npy round trip. */
#include <float.h>
#include <stdlib.h>

#include "testlib.h"

enum { N = 40, D = 8 };

static const size_t batch_idx[] = {3, 3, 0, N - 1, 17, 3, 17}; /* repeats on purpose */
#define NB (sizeof batch_idx / sizeof batch_idx[0])

/* The activations swept (testlib: all kinds, mix 0 and 0.3; ELU with its
 * default slope 1), checked against the textbook formulas nco_test_ref_act. */
static nco_act act_list(size_t i) { return nco_test_act_case(i, 1.0); }

static int make(const nco_act *act, uint64_t seed, double noise, nco_array *A, nco_array *b, nco_problem **pb) {
  nco_rng rng;
  nco_rng_seed(&rng, seed);
  int st = nco_glm_generate(N, D, act, noise, 0, &rng, A, b);
  if (st) return st;
  return nco_glm_create(A, b, act, pb);
}

/* A random point x ~ N(0, 1/d)·2. For activations with a kink at 0, the
 * point is redrawn until every a_iᵀx is farther from 0 than twice the
 * largest move of the HVP check's step (h = 1e-3·max(1,‖x‖∞) along a unit
 * direction moves a_iᵀx by at most h‖a_i‖), so no finite difference
 * straddles the kink. */
static void draw_point(const nco_act *act, const float *A, nco_rng *rng, float *x) {
  for (int tries = 0; tries < 1000; tries++) {
    nco_rng_normal_fill(rng, x, D, 0, 2 / sqrt((double)D));
    if (!nco_test_act_has_kink(act)) return;
    double xinf = 0, amax = 0, zmin = INFINITY;
    for (size_t j = 0; j < D; j++) xinf = fmax(xinf, fabs(x[j]));
    for (size_t i = 0; i < N; i++) {
      double z = 0, an = 0;
      for (size_t j = 0; j < D; j++) z += (double)A[i * D + j] * x[j], an += (double)A[i * D + j] * A[i * D + j];
      amax = fmax(amax, sqrt(an));
      zmin = fmin(zmin, fabs(z));
    }
    if (zmin > 2 * 1e-3 * fmax(1, xinf) * amax) return;
  }
}

/* Loss, gradient and exact HVP against formulas evaluated here in double:
 *   loss = c·½Σ r_i², grad = c·Σ r_i φ̃'(z_i) a_i,
 *   Hv = c·Σ (φ̃'(z_i)² + r_i φ̃''(z_i)) (a_iᵀv) a_i.
 * Loss: the two φ̃ implementations differ by a few ulp (e^{−|z|} forms vs
 * the textbook ones), so |Δloss| ≲ Σ|r_i|·8ε|φ̃(z_i)| — allowed with 10×
 * margin plus 1e-12 relative for summation order. Gradient and HVP: ncopt
 * rounds r (resp. Jv) to float32 before the VJP and the result to float32,
 * so each term carries ≤ 2·2⁻²⁴ relative error: tolerance 4·2⁻²⁴·Σ|terms|
 * + 2·2⁻²⁴|ref|. */
static void test_closed_form(void) {
  for (size_t ai = 0; ai < NCO_TEST_N_ACTS; ai++) {
    nco_act act = act_list(ai);
    nco_array A = {0}, b = {0};
    nco_problem *pb = NULL;
    REQUIRE_OK(make(&act, 100 + ai, 0.1, &A, &b, &pb));
    const float *Ad = A.data, *bd = b.data;
    nco_rng rng;
    nco_rng_seed(&rng, 7 + ai);
    float x[D], g[D], v[D], hv[D];
    draw_point(&act, Ad, &rng, x);
    nco_rng_normal_fill(&rng, v, D, 0, 1);
    for (int red = 0; red < 2; red++) {
      nco_problem_set_reduction(pb, red ? NCO_REDUCE_MEAN : NCO_REDUCE_SUM);
      for (int mb = 0; mb < 2; mb++) {
        const size_t *idx = mb ? batch_idx : NULL;
        size_t nb = mb ? NB : N;
        double c = red ? 1.0 / nb : 1.0, loss;
        double lref = 0, lerr = 0, gref[D] = {0}, gabs[D] = {0}, href[D] = {0}, habs[D] = {0};
        for (size_t s = 0; s < nb; s++) {
          size_t i = idx ? idx[s] : s;
          double z = 0, av = 0;
          for (size_t j = 0; j < D; j++) z += (double)Ad[i * D + j] * x[j], av += (double)Ad[i * D + j] * v[j];
          double f = nco_test_ref_act(&act, z, 0), f1 = nco_test_ref_act(&act, z, 1),
                 f2 = nco_test_ref_act(&act, z, 2);
          double r = f - bd[i];
          lref += 0.5 * c * r * r;
          lerr += c * fabs(r) * 8 * DBL_EPSILON * (fabs(f) + fabs(z));
          for (size_t j = 0; j < D; j++) {
            double a = Ad[i * D + j];
            gref[j] += c * r * f1 * a;
            gabs[j] += fabs(c * r * f1 * a);
            href[j] += c * (f1 * f1 + r * f2) * av * a;
            habs[j] += c * (f1 * f1 + fabs(r * f2)) * fabs(av * a);
          }
        }
        CHECK_OK(nco_problem_eval(pb, x, idx, nb, &loss, g));
        CHECK_OK(nco_problem_hvp(pb, x, idx, nb, v, hv));
        CHECKF(fabs(loss - lref) <= 10 * lerr + 1e-12 * lref, "%s: loss %.17g ref %.17g", pb->label, loss, lref);
        for (size_t j = 0; j < D; j++) {
          CHECKF(fabs(g[j] - gref[j]) <= 4 * 0x1p-24 * gabs[j] + 2 * 0x1p-24 * fabs(gref[j]) + 1e-15,
                 "%s: grad[%zu] %.9g ref %.9g", pb->label, j, g[j], gref[j]);
          CHECKF(fabs(hv[j] - href[j]) <= 4 * 0x1p-24 * habs[j] + 2 * 0x1p-24 * fabs(href[j]) + 1e-15,
                 "%s: hv[%zu] %.9g ref %.9g", pb->label, j, hv[j], href[j]);
        }
      }
    }
    CHECK(nco_problem_has_exact_hvp(pb));
    nco_problem_free(pb);
    nco_array_free(&A);
    nco_array_free(&b);
  }
}

/* nco_check_gradient / _jvp_vjp / _hvp (defaults: rtol 1e-5, see check.h)
 * for every activation and mix, at two random points (away from kinks),
 * full batch and a repeated-index minibatch, SUM and MEAN. */
static void test_derivative_checks(void) {
  for (size_t ai = 0; ai < NCO_TEST_N_ACTS; ai++) {
    nco_act act = act_list(ai);
    nco_array A = {0}, b = {0};
    nco_problem *pb = NULL;
    REQUIRE_OK(make(&act, 200 + ai, 0.3, &A, &b, &pb));
    nco_rng rng;
    nco_rng_seed(&rng, 30 + ai);
    CHECK(nco_problem_is_least_squares(pb) && nco_problem_has_exact_hvp(pb));
    float x[D];
    for (int trial = 0; trial < 2; trial++) {
      draw_point(&act, A.data, &rng, x);
      nco_test_check_derivatives(pb, x, batch_idx, NB);
    }
    nco_problem_free(pb);
    nco_array_free(&A);
    nco_array_free(&b);
  }
}

/* ---- Theorem 4.1 -------------------------------------------------------- */

/* ‖X‖ (spectral norm) by power iteration on XᵀX in double. */
static double spectral_norm(size_t n, size_t d, const float *X) {
  double *v = malloc(d * sizeof *v), *w = malloc(n * sizeof *w), lam = 0;
  for (size_t j = 0; j < d; j++) v[j] = 1 + 0.01 * (double)j;
  for (int it = 0; it < 2000; it++) {
    double nv = 0;
    for (size_t j = 0; j < d; j++) nv += v[j] * v[j];
    nv = sqrt(nv);
    for (size_t j = 0; j < d; j++) v[j] /= nv;
    for (size_t i = 0; i < n; i++) {
      w[i] = 0;
      for (size_t j = 0; j < d; j++) w[i] += (double)X[i * d + j] * v[j];
    }
    double nw = 0;
    for (size_t i = 0; i < n; i++) nw += w[i] * w[i];
    lam = nw; /* ‖Xv‖² → λmax(XᵀX) */
    for (size_t j = 0; j < d; j++) {
      v[j] = 0;
      for (size_t i = 0; i < n; i++) v[j] += (double)X[i * d + j] * w[i];
    }
  }
  free(v);
  free(w);
  return sqrt(lam);
}

/* φ̃ = 0.8·softplus + 0.2·id written here, and its inverse by bisection to
 * adjacent doubles (independent of nco_act_inverse). */
static double sp_mix(double z) { return 0.8 * (fmax(z, 0) + log1p(exp(-fabs(z)))) + 0.2 * z; }
static double sp_mix_inv(double y) {
  double lo = -1e4, hi = 1e4;
  for (int it = 0; it < 3000; it++) {
    double mid = 0.5 * (lo + hi);
    if (!(mid > lo && mid < hi)) break;
    if (sp_mix(mid) < y)
      lo = mid;
    else
      hi = mid;
  }
  return fabs(sp_mix(lo) - y) <= fabs(sp_mix(hi) - y) ? lo : hi;
}

/* Oymak & Soltanolkotabi Theorem 4.1 on an over-parameterised GLM (n = 20 <
 * d = 60) with φ̃ = 0.8·softplus + 0.2·z: γ = inf φ̃' = 0.2, Γ = sup φ̃' = 1.
 * Plain GD θ ← θ − η∇L (SUM), η = 1/(‖X‖²Γ²), from a random θ0 with N(0,1)
 * entries must converge to the closest global optimum
 *   θ* = θ0 + Xᵀ(XXᵀ)⁻¹(φ̃⁻¹(y) − Xθ0)      (computed here in double),
 * obeying (4.2) ‖θ_τ − θ*‖ ≤ (1 − ηγ²λmin(XXᵀ))^τ ‖θ0 − θ*‖ at every τ.
 *
 * Tolerance for float32 iterates: rounding θ to float32 costs 2⁻²⁴|θ_j| per
 * step; the null-space part of that is never corrected and random-walks,
 * ≈ √T·2⁻²⁴‖θ‖ ≈ 100·6e-8 ≈ 6e-6‖θ‖ for T ≈ 10⁴ steps; the row-space part
 * stalls where η‖∇‖ falls below an ulp, ≈ 2⁻²⁴·κ(J)‖θ‖ with κ(J) ≤
 * (Γ/γ)·‖X‖/σmin(X) ≈ 20 → 1e-6‖θ‖. Hence 1e-4·‖θ*‖ for the limit (≥ 10×
 * margin) and the same additive slack on (4.2), whose exact-arithmetic
 * bound ignores rounding. */
static void test_theorem_4_1(void) {
  enum { n = 20, d = 60 };
  nco_act act = nco_act_make(NCO_ACT_SOFTPLUS);
  act.mix = 0.2;
  const double gam = 0.2, Gam = 1.0;
  nco_rng rng;
  nco_rng_seed(&rng, 4242);
  nco_array A = {0}, b = {0};
  nco_problem *pb = NULL;
  /* labels: φ̃(Ax*) plus noise — arbitrary values, all in φ̃'s range ℝ */
  REQUIRE_OK(nco_glm_generate(n, d, &act, 0.5, 0, &rng, &A, &b));
  REQUIRE_OK(nco_glm_create(&A, &b, &act, &pb));
  const float *X = A.data, *y = b.data;

  double nX = spectral_norm(n, d, X);
  double G[n * n], L[n * n], ev[n];
  nco_test_gram(n, d, X, G); /* XXᵀ */
  nco_test_eig_sym(n, G, ev, NULL);
  double lmin = ev[n - 1], lmax = ev[0];
  CHECK_CLOSE(nX * nX, lmax, 0, 1e-9); /* power iteration agrees with Jacobi */
  memcpy(L, G, sizeof L);
  REQUIRE(nco_test_cholesky(n, L) == 0);

  float th[d], th0[d], prev[d], grad[d];
  double ths[d], c[n];
  nco_rng_normal_fill(&rng, th0, d, 0, 1);
  for (size_t i = 0; i < n; i++) {
    double z0 = 0;
    for (size_t j = 0; j < d; j++) z0 += (double)X[i * d + j] * th0[j];
    c[i] = sp_mix_inv(y[i]) - z0;
  }
  nco_test_chol_solve(n, L, c, c);
  for (size_t j = 0; j < d; j++) {
    ths[j] = th0[j];
    for (size_t i = 0; i < n; i++) ths[j] += (double)X[i * d + j] * c[i];
  }
  double nths = 0, e0 = 0;
  for (size_t j = 0; j < d; j++) nths += ths[j] * ths[j], e0 += (ths[j] - th0[j]) * (ths[j] - th0[j]);
  nths = sqrt(nths), e0 = sqrt(e0);

  double eta = 1 / (nX * nX * Gam * Gam), rho = 1 - eta * gam * gam * lmin;
  double slack = 1e-4 * nths, bound = e0, maxdist = 0, path = 0, loss, g0 = 0, gn = 0;
  size_t T = 0, viol = 0, Tmax = 200000;
  memcpy(th, th0, sizeof th);
  for (T = 0; T < Tmax; T++) {
    double e = 0, dist = 0;
    for (size_t j = 0; j < d; j++) {
      e += (th[j] - ths[j]) * (th[j] - ths[j]);
      dist += ((double)th[j] - th0[j]) * ((double)th[j] - th0[j]);
    }
    e = sqrt(e), dist = sqrt(dist);
    if (e > bound + slack) viol++;
    maxdist = fmax(maxdist, dist);
    bound *= rho;
    REQUIRE_OK(nco_problem_eval(pb, th, NULL, n, &loss, grad));
    gn = nco_nrm2(d, grad);
    if (T == 0) g0 = gn;
    if (gn <= 1e-7 * g0) break;
    memcpy(prev, th, sizeof th);
    nco_axpy(d, (float)-eta, grad, th);
    path += nco_dist2(d, th, prev);
    if (memcmp(prev, th, sizeof th) == 0) break; /* float32 fixed point */
  }
  double ef = 0, df = 0;
  for (size_t j = 0; j < d; j++)
    ef += (th[j] - ths[j]) * (th[j] - ths[j]), df += ((double)th[j] - th0[j]) * ((double)th[j] - th0[j]);
  ef = sqrt(ef), df = sqrt(df);
  double beta = Gam * nX, alpha = gam * sqrt(lmin);
  fprintf(stderr,
          "  theorem 4.1: n=%d d=%d |X|=%.4g lmin(XX^T)=%.4g eta=%.4g rate=%.6f; %zu GD steps, |grad| %.3g -> %.3g,"
          " loss %.3g\n  |theta_T - theta*|/|theta*| = %.3g, |theta*-theta0| = %.4g, |theta_T-theta0| = %.4g,"
          " max_t |theta_t-theta0| = %.4g, path = %.4g (bounds: 2|.|=%.4g, Gamma/gamma|.|=%.4g, 4beta/alpha|.|=%.4g)\n",
          n, d, nX, lmin, eta, rho, T, g0, gn, loss, ef / nths, e0, df, maxdist, path, 2 * e0, Gam / gam * e0,
          4 * beta / alpha * e0);
  CHECKF(ef <= 1e-4 * nths, "GD limit off theta* by %.3g relative", ef / nths);
  CHECKF(viol == 0, "(4.2) violated at %zu iterates", viol);
  /* distance travelled: (4.2) + triangle inequality give ≤ 2‖θ*−θ0‖;
   * the looser (Γ/γ)‖θ*−θ0‖; and Corollary 2.3 (2.8) bounds the whole
   * path by 4(β/α)‖θ*−θ0‖ with β = Γ‖X‖, α = γ σmin(X) */
  CHECK(maxdist <= 2 * e0 + slack);
  CHECK(maxdist <= Gam / gam * e0);
  CHECK(path <= 4 * beta / alpha * e0);
  CHECK_CLOSE(df, e0, 0, 1e-3); /* the limit is at the minimal distance */
  nco_problem_free(pb);
  nco_array_free(&A);
  nco_array_free(&b);
}

/* Crane & Roosta §3, Fig. 1: sigmoid GLM, A (64, 8), b ∈ {0,1}. At x = 0
 * every residual is ½ − b_i = ±½: loss = 64·⅛ = 8 exactly, gradient
 * Σ (½ − b_i)·¼·a_i. */
static void test_binary_fig1(void) {
  nco_act sig = nco_act_make(NCO_ACT_SIGMOID);
  nco_rng rng;
  nco_rng_seed(&rng, 2021);
  nco_array A = {0}, b = {0};
  nco_problem *pb = NULL;
  REQUIRE_OK(nco_glm_generate(64, 8, &sig, 0.0, 1, &rng, &A, &b));
  CHECK(strcmp(A.origin, "synthetic:glm") == 0);
  size_t ones = 0;
  for (size_t i = 0; i < 64; i++) {
    float v = ((float *)b.data)[i];
    CHECK(v == 0.0f || v == 1.0f);
    ones += v == 1.0f;
  }
  CHECK(ones > 0 && ones < 64);
  REQUIRE_OK(nco_glm_create(&A, &b, &sig, &pb));
  CHECK(strcmp(pb->label, "glm(sigmoid) n=64 d=8") == 0);
  float x[8] = {0}, g[8];
  double loss;
  CHECK_OK(nco_problem_eval(pb, x, NULL, 64, &loss, g));
  CHECK(loss == 8.0);
  for (size_t j = 0; j < 8; j++) {
    double r = 0;
    for (size_t i = 0; i < 64; i++) r += (0.5 - ((float *)b.data)[i]) * 0.25 * ((float *)A.data)[i * 8 + j];
    CHECK_CLOSE(g[j], r, 1e-6, 1e-6); /* float32 result of an exact-ish sum */
  }
  nco_rng_normal_fill(&rng, x, 8, 0, 1);
  CHECK_OK(nco_check_gradient(pb, x, NULL, 64, NULL, NULL));
  CHECK_OK(nco_check_jvp_vjp(pb, x, NULL, 64, NULL, NULL));
  CHECK_OK(nco_check_hvp(pb, x, NULL, 64, NULL, NULL));
  /* same seed → same labels */
  nco_array A2 = {0}, b2 = {0};
  nco_rng_seed(&rng, 2021);
  REQUIRE_OK(nco_glm_generate(64, 8, &sig, 0.0, 1, &rng, &A2, &b2));
  CHECK(memcmp(b.data, b2.data, 64 * sizeof(float)) == 0);
  nco_problem_free(pb);
  nco_array_free(&A);
  nco_array_free(&b);
  nco_array_free(&A2);
  nco_array_free(&b2);
}

/* glm(identity) is linear least squares: bitwise the same loss and
 * gradient (same dot products, φ̃(z) = z exactly). act = NULL means identity. */
static void test_identity_is_linear(void) {
  nco_rng rng;
  nco_rng_seed(&rng, 8);
  nco_array A = {0}, b = {0};
  nco_problem *p1 = NULL, *p2 = NULL;
  REQUIRE_OK(nco_linear_ls_generate(N, D, 0.4, &rng, &A, &b));
  REQUIRE_OK(nco_linear_ls_create(&A, &b, &p1));
  CHECK_OK(nco_glm_create(&A, &b, NULL, &p2));
  if (p2) {
    CHECK(strcmp(p2->label, "glm(identity) n=40 d=8") == 0);
    float x[D], g1[D], g2[D];
    double l1, l2;
    nco_rng_normal_fill(&rng, x, D, 0, 1);
    CHECK_OK(nco_problem_eval(p1, x, batch_idx, NB, &l1, g1));
    CHECK_OK(nco_problem_eval(p2, x, batch_idx, NB, &l2, g2));
    CHECK(l1 == l2 && memcmp(g1, g2, sizeof g1) == 0);
  }
  nco_problem_free(p1);
  nco_problem_free(p2);
  nco_array_free(&A);
  nco_array_free(&b);
}

static void test_bad_input(void) {
  nco_act act = nco_act_make(NCO_ACT_TANH);
  nco_array A = {0}, b = {0}, bs = {0}, A3 = {0};
  nco_problem *pb = NULL;
  nco_rng rng;
  nco_rng_seed(&rng, 3);
  REQUIRE_OK(nco_glm_generate(N, D, &act, 0.1, 0, &rng, &A, &b));
  snprintf(A.origin, sizeof A.origin, "data/A.npy");
  snprintf(b.origin, sizeof b.origin, "data/b.npy");
  size_t shs[1] = {N + 1}, sh3[3] = {N, D, 1};
  REQUIRE_OK(nco_array_alloc(&bs, NCO_DTYPE_F32, 1, shs, "data/long.npy"));
  REQUIRE_OK(nco_array_alloc(&A3, NCO_DTYPE_F32, 3, sh3, "data/cube.npy"));
  CHECK_ERR(nco_glm_create(&A, &bs, &act, &pb), NCO_ERR_SHAPE,
            "data/A.npy: features has 40 rows but targets (data/long.npy) has 41 entries");
  CHECK_ERR(nco_glm_create(&A3, &b, &act, &pb), NCO_ERR_SHAPE, "data/cube.npy: features has shape (40, 8, 1)");
  CHECK_ERR(nco_glm_create(&bs, &b, &act, &pb), NCO_ERR_SHAPE, "features has shape (41,)");
  ((float *)A.data)[5 * D + 6] = INFINITY;
  CHECK_ERR(nco_glm_create(&A, &b, &act, &pb), NCO_ERR_NONFINITE, "data/A.npy: features has a non-finite value (inf) at index (5, 6)");
  ((float *)A.data)[5 * D + 6] = 0;
  nco_act bad = nco_act_make(NCO_ACT_LEAKY_RELU);
  bad.slope = -0.5;
  CHECK_ERR(nco_glm_create(&A, &b, &bad, &pb), NCO_ERR_RANGE, "glm: activation leaky_relu: slope -0.5");
  bad = nco_act_make(NCO_ACT_SIGMOID);
  bad.mix = 1.5;
  CHECK_ERR(nco_glm_create(&A, &b, &bad, &pb), NCO_ERR_RANGE, "mix 1.5");
  bad.mix = 0;
  bad.kind = (nco_activation)99;
  CHECK_ERR(nco_glm_create(&A, &b, &bad, &pb), NCO_ERR_INVALID, "unknown kind 99");
  CHECK(pb == NULL);
  nco_array G = {0}, H = {0};
  CHECK_ERR(nco_glm_generate(N, D, &act, 0, 2, &rng, &G, &H), NCO_ERR_INVALID, "binary = 2");
  CHECK_ERR(nco_glm_generate(N, 0, &act, 0, 0, &rng, &G, &H), NCO_ERR_RANGE, "d = 0");
  bad = nco_act_make(NCO_ACT_ELU);
  bad.slope = -1;
  CHECK_ERR(nco_glm_generate(N, D, &bad, 0, 0, &rng, &G, &H), NCO_ERR_RANGE, "slope -1");
  CHECK(G.data == NULL && H.data == NULL);
  nco_array_free(&A);
  nco_array_free(&b);
  nco_array_free(&bs);
  nco_array_free(&A3);
}

/* generate → .npy → read → create: bitwise the same loss and gradient. */
static void test_npy_roundtrip(void) {
  nco_act act = nco_act_make(NCO_ACT_ELU);
  act.mix = 0.1;
  nco_array A = {0}, b = {0}, Ar = {0}, br = {0};
  nco_problem *p1 = NULL, *p2 = NULL;
  REQUIRE_OK(make(&act, 55, 0.2, &A, &b, &p1));
  nco_test_npy_roundtrip(&A, "glm_A.npy", &Ar);
  nco_test_npy_roundtrip(&b, "glm_b.npy", &br);
  CHECK_OK(nco_glm_create(&Ar, &br, &act, &p2));
  nco_test_check_same_problem(p1, p2, 4);
  nco_problem_free(p1);
  nco_problem_free(p2);
  nco_array_free(&A);
  nco_array_free(&b);
  nco_array_free(&Ar);
  nco_array_free(&br);
}

int main(void) {
  RUN(test_closed_form);
  RUN(test_derivative_checks);
  RUN(test_theorem_4_1);
  RUN(test_binary_fig1);
  RUN(test_identity_is_linear);
  RUN(test_bad_input);
  RUN(test_npy_roundtrip);
  return nco_test_summary();
}
