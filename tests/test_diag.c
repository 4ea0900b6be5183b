/* tests/test_diag.c — landscape and trajectory diagnostics (diag.h):
 *   - PL ratio, quasi-convexity and RSI on hand values, and on linear least
 *     squares where ⟨∇f, x − x*⟩ = 2(f − f*) (so τ = 2) and the RSI is the
 *     Rayleigh quotient ‖A e‖²/‖e‖², e = x − x*, both computed here;
 *   - the invex lifting's PL inequality (Crane & Roosta Theorem 2(ii)): the
 *     PL ratio ≥ λ² (c·λ² under MEAN) at every iterate of GD and SGD runs;
 *   - misfit and distance (whole and per slice) against double computations;
 *   - critical-point verdicts at PCA's minimum √λ₁v₁ (minimum), saddle √λ₂v₂
 *     (strict saddle), at 0 (maximum when M ≻ 0), on the tensor sphere, a
 *     rank-deficient least-squares minimiser (degenerate), a random point
 *     (noncritical);
 *   - stochastic Lanczos quadrature moments against tr(Aᵖ)/n (exact for a
 *     diagonal A with Rademacher probes: vᵀAᵖv = Σλᵢᵖ), nodes and weights at
 *     full Krylov dimension;
 *   - the Jacobian Lipschitz estimate: 0 for linear least squares, and for a
 *     one-parameter sigmoid GLM below its closed form a²·max|σ''| = a²/(6√3);
 *   - certificates: linear least squares with N < d (L = 0, so Theorem 2.2's
 *     α² ≥ 4L‖r₀‖ provably holds; GD within the step bound then satisfies
 *     (2.3)–(2.5)), a sigmoid GLM with unreachable targets (large ‖r₀‖,
 *     small α: (2.6) fails), N > d (Assumption 2 cannot hold), an invex run;
 *     text and JSON reports;
 *   - the regularity principle against a hand-computed 3-step trajectory.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/diag.h"
#include "ncopt/optim.h"
#include "testlib.h"

static int f32_matrix(nco_array *a, size_t r, size_t c, const double *v, const char *origin) {
  size_t shape[2] = {r, c};
  int st = nco_array_alloc(a, NCO_DTYPE_F32, 2, shape, origin);
  if (st) return st;
  float *p = a->data;
  for (size_t i = 0; i < r * c; i++) p[i] = (float)v[i];
  return NCO_OK;
}

static int f32_vector(nco_array *a, size_t n, const double *v, const char *origin) {
  size_t shape[1] = {n};
  int st = nco_array_alloc(a, NCO_DTYPE_F32, 1, shape, origin);
  if (st) return st;
  float *p = a->data;
  for (size_t i = 0; i < n; i++) p[i] = (float)v[i];
  return NCO_OK;
}

/* ---- 1. landscape values ------------------------------------------------ */

static void test_values(void) {
  float g[2] = {3, 4}, x[2] = {1, 1}, xs[2] = {0, 0};
  double v;
  /* ‖g‖² = 25, f − f* = 5: 25/10 */
  CHECK_OK(nco_pl_ratio(5, 0, 2, g, &v));
  CHECK(v == 2.5);
  /* ⟨g, x − x*⟩ = 7: τ = 7/5, RSI = 7/2 */
  CHECK_OK(nco_quasi_convexity(5, 0, 2, g, x, xs, &v));
  CHECK_CLOSE(v, 1.4, 1e-15, 0);
  CHECK_OK(nco_rsi(2, g, x, xs, &v));
  CHECK(v == 3.5);
  /* undefined ratios: NAN / ±INF with NCO_OK */
  float z[2] = {0, 0};
  CHECK_OK(nco_pl_ratio(1, 1, 2, z, &v));
  CHECK(isnan(v));
  CHECK_OK(nco_pl_ratio(1, 1, 2, g, &v));
  CHECK(isinf(v) && v > 0);
  CHECK_OK(nco_quasi_convexity(1, 1, 2, g, xs, x, &v)); /* ⟨g, −(1,1)⟩ = −7 over 0 */
  CHECK(isinf(v) && v < 0);
  CHECK_OK(nco_rsi(2, g, x, x, &v));
  CHECK(isnan(v));
  /* invalid input */
  CHECK_ERR(nco_pl_ratio(0.5, 1, 2, g, &v), NCO_ERR_RANGE, "f* is not a lower bound");
  CHECK(isnan(v));
  CHECK_ERR(nco_pl_ratio(NAN, 0, 2, g, &v), NCO_ERR_NONFINITE, "not finite");
  CHECK_ERR(nco_pl_ratio(1, 0, 2, NULL, &v), NCO_ERR_INVALID, "NULL");
  float gn[2] = {INFINITY, 0};
  CHECK_ERR(nco_pl_ratio(1, 0, 2, gn, &v), NCO_ERR_NONFINITE, "gradient");
  CHECK_ERR(nco_quasi_convexity(1, 2, 2, g, x, xs, &v), NCO_ERR_RANGE, "lower bound");
}

/* Normal equations AᵀA x = Aᵀb by Cholesky, in double (d ≤ 16). */
static void solve_ls(const float *A, const float *b, size_t n, size_t d, double *x) {
  double G[16 * 16] = {0}, r[16] = {0};
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < d; j++) {
      r[j] += (double)A[i * d + j] * b[i];
      for (size_t k = 0; k < d; k++) G[j * d + k] += (double)A[i * d + j] * A[i * d + k];
    }
  for (size_t j = 0; j < d; j++) { /* G = LLᵀ in place (lower) */
    for (size_t k = 0; k < j; k++) G[j * d + j] -= G[j * d + k] * G[j * d + k];
    G[j * d + j] = sqrt(G[j * d + j]);
    for (size_t i = j + 1; i < d; i++) {
      for (size_t k = 0; k < j; k++) G[i * d + j] -= G[i * d + k] * G[j * d + k];
      G[i * d + j] /= G[j * d + j];
    }
  }
  for (size_t i = 0; i < d; i++) { /* L y = r */
    for (size_t k = 0; k < i; k++) r[i] -= G[i * d + k] * r[k];
    r[i] /= G[i * d + i];
  }
  for (size_t i = d; i-- > 0;) { /* Lᵀ x = y */
    for (size_t k = i + 1; k < d; k++) r[i] -= G[k * d + i] * r[k];
    r[i] /= G[i * d + i];
  }
  memcpy(x, r, d * sizeof *x);
}

/* f = ½‖A x − b‖² in double */
static double ls_loss(const float *A, const float *b, size_t n, size_t d, const float *x, double *rn) {
  double s = 0;
  for (size_t i = 0; i < n; i++) {
    double r = -(double)b[i];
    for (size_t j = 0; j < d; j++) r += (double)A[i * d + j] * x[j];
    s += r * r;
  }
  if (rn) *rn = sqrt(s);
  return s / 2;
}

/* Linear least squares, n = 30 > d = 8 with noise: unique x*, f* > 0.
 * ∇f = Aᵀ(Ax − b) = AᵀA(x − x*) ⇒ ⟨∇f, x − x*⟩ = ‖A e‖² = 2(f − f*). */
static void test_landscape_linear(void) {
  enum { N = 30, D = 8 };
  nco_rng rng;
  nco_rng_seed(&rng, 5);
  nco_array A = {0}, b = {0};
  REQUIRE_OK(nco_linear_ls_generate(N, D, 0.3, &rng, &A, &b));
  nco_problem *pb = NULL;
  REQUIRE_OK(nco_linear_ls_create(&A, &b, &pb));
  const float *Af = A.data, *bf = b.data;
  double xsd[D];
  solve_ls(Af, bf, N, D, xsd);
  float xs[D], x[D], g[D];
  for (size_t j = 0; j < D; j++) xs[j] = (float)xsd[j];
  double fstar = ls_loss(Af, bf, N, D, xs, NULL);
  CHECK(fstar > 0.1);
  for (int trial = 0; trial < 3; trial++) {
    nco_rng_normal_fill(&rng, x, D, 0, 1);
    nco_landscape_point lp;
    REQUIRE_OK(nco_landscape_eval(pb, x, NULL, N, fstar, xs, g, &lp));
    double f = ls_loss(Af, bf, N, D, x, NULL);
    CHECK_CLOSE(lp.loss, f, 0, 1e-12);
    /* τ = 2: float x* moves f* by O(u·‖∇f(x*)‖) = O(u²): 1e-5 is generous */
    CHECK_CLOSE(lp.quasi_convexity, 2, 1e-5, 0);
    double Ae2 = 0, e2 = 0;
    for (size_t i = 0; i < N; i++) {
      double s = 0;
      for (size_t j = 0; j < D; j++) s += (double)Af[i * D + j] * ((double)x[j] - xs[j]);
      Ae2 += s * s;
    }
    for (size_t j = 0; j < D; j++) e2 += ((double)x[j] - xs[j]) * ((double)x[j] - xs[j]);
    CHECK_CLOSE(lp.rsi, Ae2 / e2, 0, 1e-6); /* float32 gradient: ~u relative */
    CHECK_CLOSE(lp.dist_to_star, sqrt(e2), 0, 1e-12);
    double pl;
    CHECK_OK(nco_pl_ratio(lp.loss, fstar, D, g, &pl));
    CHECK(pl == lp.pl_ratio);
    CHECK_CLOSE(lp.grad_norm, nco_nrm2(D, g), 0, 1e-15);
  }
  nco_landscape_point lp;
  CHECK_OK(nco_landscape_eval(pb, x, NULL, N, fstar, NULL, g, &lp));
  CHECK(isnan(lp.rsi) && isnan(lp.quasi_convexity) && isfinite(lp.pl_ratio));
  CHECK_ERR(nco_landscape_eval(pb, x, NULL, N, 1e9, NULL, g, &lp), NCO_ERR_RANGE, "lower bound");
  nco_problem_free(pb);
  nco_array_free(&A), nco_array_free(&b);
}

/* Crane & Roosta Theorem 2(ii): ‖∇f̂‖² ≥ 2λ² f̂ for f̂ = ½‖g(x) + λp‖² (the p
 * block of the gradient alone is λ(g + λp)). Checked at every iterate of
 * GD on the invex lifting of a sigmoid classification GLM (their Fig. 1
 * setting), for two λ; and under MEAN with torch-style SGD on minibatches
 * (ratio ≥ λ²/nb there). Rounding: the gradient is float32, the ratio is
 * good to ~1e-6 relative; the bound is checked with 1e-5 slack. */
static void test_pl_invex(void) {
  enum { N = 40, D = 10 };
  nco_rng rng;
  nco_rng_seed(&rng, 17);
  nco_act act = nco_act_make(NCO_ACT_SIGMOID);
  nco_array A = {0}, b = {0};
  REQUIRE_OK(nco_glm_generate(N, D, &act, 0, 1, &rng, &A, &b));
  double lams[2] = {0.5, 0.05};
  for (int li = 0; li < 2; li++) {
    nco_problem *base = NULL, *pb = NULL;
    REQUIRE_OK(nco_glm_create(&A, &b, &act, &base));
    REQUIRE_OK(nco_invex_wrap(base, lams[li], 1, &pb));
    size_t dim = pb->dim;
    float *x = calloc(dim, sizeof *x), *g = calloc(dim, sizeof *g);
    nco_rng r2;
    nco_rng_seed(&r2, 3);
    REQUIRE_OK(nco_problem_init(pb, &r2, x));
    double lam2 = lams[li] * lams[li], minpl = INFINITY;
    for (int it = 0; it < 300; it++) {
      double f, pl;
      REQUIRE_OK(nco_problem_eval(pb, x, NULL, N, &f, g));
      REQUIRE_OK(nco_pl_ratio(f, 0, dim, g, &pl));
      minpl = fmin(minpl, pl);
      nco_axpy(dim, -0.05f, g, x);
    }
    printf("PL: invex λ = %g GD: min PL ratio %.6g ≥ λ² = %.6g\n", lams[li], minpl, lam2);
    CHECK(minpl >= lam2 * (1 - 1e-5));
    /* MEAN reduction, SGD (nco_optim_sgd) on minibatches of 8 */
    nco_problem_set_reduction(pb, NCO_REDUCE_MEAN);
    nco_optim_params hp = nco_optim_defaults(nco_optim_sgd);
    hp.lr = 0.5;
    nco_optim *opt = NULL;
    REQUIRE_OK(nco_optim_create(nco_optim_sgd, dim, &hp, x, &opt));
    size_t idx[8];
    double minb = INFINITY;
    for (int it = 0; it < 200; it++) {
      for (size_t k = 0; k < 8; k++) idx[k] = nco_rng_below(&r2, N);
      double f, pl;
      REQUIRE_OK(nco_optim_iterate(opt, pb, idx, 8, &f, g));
      REQUIRE_OK(nco_pl_ratio(f, 0, dim, g, &pl));
      minb = fmin(minb, pl);
    }
    CHECK(minb >= lam2 / 8 * (1 - 1e-5));
    nco_optim_free(opt);
    free(x), free(g);
    nco_problem_free(pb);
  }
  nco_array_free(&A), nco_array_free(&b);
}

/* ---- 4. misfit and distance ---------------------------------------------- */

static void test_misfit_distance(void) {
  enum { N = 12, D = 5 };
  nco_rng rng;
  nco_rng_seed(&rng, 8);
  nco_array A = {0}, b = {0};
  REQUIRE_OK(nco_linear_ls_generate(N, D, 0.5, &rng, &A, &b));
  nco_problem *pb = NULL;
  REQUIRE_OK(nco_linear_ls_create(&A, &b, &pb));
  float x0[D], x1[D];
  nco_rng_normal_fill(&rng, x0, D, 0, 1);
  nco_rng_normal_fill(&rng, x1, D, 0, 1);
  nco_misfit *m = NULL;
  REQUIRE_OK(nco_misfit_create(pb, 0, x0, NULL, N, &m));
  double r0, r1, mf, rn;
  ls_loss(A.data, b.data, N, D, x0, &r0);
  ls_loss(A.data, b.data, N, D, x1, &r1);
  CHECK_CLOSE(nco_misfit_r0(m), r0, 0, 1e-13);
  CHECK_OK(nco_misfit_eval(m, x0, &mf, NULL));
  CHECK(mf == 1);
  CHECK_OK(nco_misfit_eval(m, x1, &mf, &rn));
  CHECK_CLOSE(mf, r1 / r0, 0, 1e-13);
  CHECK_CLOSE(rn, r1, 0, 1e-13);
  nco_misfit_free(m);
  /* a minibatch {1, 4, 4}: residual rows as listed */
  size_t S[3] = {1, 4, 4};
  REQUIRE_OK(nco_misfit_create(pb, 0, x0, S, 3, &m));
  {
    const float *Af = A.data, *bf = b.data;
    double s0 = 0, s1 = 0;
    for (size_t k = 0; k < 3; k++) {
      double a0 = -(double)bf[S[k]], a1 = a0;
      for (size_t j = 0; j < D; j++) a0 += (double)Af[S[k] * D + j] * x0[j], a1 += (double)Af[S[k] * D + j] * x1[j];
      s0 += a0 * a0, s1 += a1 * a1;
    }
    CHECK_OK(nco_misfit_eval(m, x1, &mf, NULL));
    CHECK_CLOSE(mf, sqrt(s1 / s0), 0, 1e-13);
  }
  nco_misfit_free(m);
  /* unreg: the invex lifting's data term g(x) alone (p ignored) */
  nco_problem *base = NULL, *inv = NULL;
  REQUIRE_OK(nco_linear_ls_create(&A, &b, &base));
  REQUIRE_OK(nco_invex_wrap(base, 1.0, 1, &inv));
  float z0[D + N], z1[D + N];
  memcpy(z0, x0, sizeof x0), memcpy(z1, x1, sizeof x1);
  for (size_t i = 0; i < N; i++) z0[D + i] = 0, z1[D + i] = 0.1f * (float)i;
  REQUIRE_OK(nco_misfit_create(inv, 1, z0, NULL, N, &m));
  CHECK_OK(nco_misfit_eval(m, z1, &mf, NULL));
  CHECK_CLOSE(mf, r1 / r0, 0, 1e-13);
  nco_misfit_free(m);
  REQUIRE_OK(nco_misfit_create(inv, 0, z0, NULL, N, &m)); /* with p: differs */
  CHECK_OK(nco_misfit_eval(m, z1, &mf, NULL));
  CHECK(fabs(mf - r1 / r0) > 1e-3);
  nco_misfit_free(m);
  nco_problem_free(inv);
  /* errors */
  double one = 1, two = 2;
  nco_array A1 = {0}, b1 = {0};
  REQUIRE_OK(f32_matrix(&A1, 1, 1, &one, "test:A1"));
  REQUIRE_OK(f32_vector(&b1, 1, &two, "test:b1"));
  nco_problem *p1 = NULL;
  REQUIRE_OK(nco_linear_ls_create(&A1, &b1, &p1));
  float xi[1] = {2};
  CHECK_ERR(nco_misfit_create(p1, 0, xi, NULL, 1, &m), NCO_ERR_RANGE, "already interpolates");
  CHECK(m == NULL);
  CHECK_ERR(nco_misfit_create(p1, 0, xi, NULL, 3, &m), NCO_ERR_INVALID, "nb = n = 1");
  nco_problem_free(p1);
  nco_array_free(&A1), nco_array_free(&b1);
  double comp[4] = {1, 0, 0, 1};
  nco_array C = {0};
  REQUIRE_OK(f32_matrix(&C, 2, 2, comp, "test:tensor"));
  nco_problem *pt = NULL;
  REQUIRE_OK(nco_tensor_create(&C, &pt));
  float xt[2] = {1, 0};
  CHECK_ERR(nco_misfit_create(pt, 0, xt, NULL, 2, &m), NCO_ERR_UNSUPPORTED, "least-squares");
  nco_problem_free(pt);
  nco_array_free(&C);
  nco_problem_free(pb);
  nco_array_free(&A), nco_array_free(&b);

  /* distance: θ = (1,2,3,4), θ₀ = (1,1,1,2): ‖Δ‖ = √(0+1+4+4) = 3, ‖θ₀‖ = √7 */
  float th[4] = {1, 2, 3, 4}, t0[4] = {1, 1, 1, 2}, zero[4] = {0};
  double dd, rel;
  CHECK_OK(nco_distance(4, th, t0, &dd, &rel));
  CHECK(dd == 3);
  CHECK_CLOSE(rel, 3 / sqrt(7.0), 0, 1e-15);
  CHECK_OK(nco_distance(4, th, zero, &dd, &rel));
  CHECK(isnan(rel) && dd == sqrt(30.0));
  /* slices "w1" = [0, 2): Δ = (0, 1), ‖θ₀‖ = √2; "w2" = [2, 4): Δ = (2, 2), ‖θ₀‖ = √5 */
  nco_slice sl[2] = {{"w1", 0, 2}, {"w2", 2, 2}};
  double ds[2], rs[2];
  CHECK_OK(nco_distance_slices(4, th, t0, sl, 2, ds, rs));
  CHECK(ds[0] == 1 && ds[1] == sqrt(8.0));
  CHECK_CLOSE(rs[0], 1 / sqrt(2.0), 0, 1e-15);
  CHECK_CLOSE(rs[1], sqrt(8.0 / 5), 0, 1e-15);
  nco_slice bad[2] = {{"w1", 0, 2}, {"fc2", 3, 2}};
  CHECK_ERR(nco_distance_slices(4, th, t0, bad, 2, ds, rs), NCO_ERR_RANGE, "slice 1 \"fc2\" [3, 3 + 2) ends past");
  nco_slice empty[1] = {{NULL, 1, 0}};
  CHECK_ERR(nco_distance_slices(4, th, t0, empty, 1, ds, NULL), NCO_ERR_RANGE, "is empty");
  nco_slice huge[1] = {{"big", SIZE_MAX, 2}};
  CHECK_ERR(nco_distance_slices(4, th, t0, huge, 1, NULL, rs), NCO_ERR_RANGE, "ends past");
}

/* ---- 2. classification ----------------------------------------------------- */

static void householder(size_t n, double *Q) {
  double uu = 0, u[16];
  for (size_t i = 0; i < n; i++) u[i] = 1 + (double)i + 0.3 * (double)(i * i), uu += u[i] * u[i];
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) Q[i * n + j] = (i == j) - 2 * u[i] * u[j] / uu;
}

/* PCA rank 1 with M = Σλ_k v_k v_kᵀ: ∇²f(√λ_i v_i) has eigenvalues 4λ_i and
 * 2(λ_i − λ_k) (test_spectra.c derives it); at x = 0 it is −2M. */
static nco_problem *pca_problem(const double *lam, double *Q, nco_array *Ma) {
  enum { N = 8 };
  double M[N * N];
  householder(N, Q);
  for (size_t i = 0; i < N; i++)
    for (size_t j = 0; j <= i; j++) {
      double s = 0;
      for (size_t k = 0; k < N; k++) s += Q[i * N + k] * lam[k] * Q[j * N + k];
      M[i * N + j] = M[j * N + i] = s;
    }
  nco_problem *pb = NULL;
  if (f32_matrix(Ma, N, N, M, "test:pca-M") || nco_pca_create(Ma, 1, &pb)) return NULL;
  return pb;
}

static void test_classify(void) {
  enum { N = 8 };
  double lam[N] = {5, 3, 2, 1, 0.5, 0.25, -0.5, -1}, Q[N * N];
  nco_array Ma = {0};
  nco_problem *pb = pca_problem(lam, Q, &Ma);
  REQUIRE(pb != NULL);
  nco_classify_opts co = nco_classify_defaults();
  co.k = 2;
  nco_classification c;
  float x[N];
  /* √λ₁v₁: spectrum {20, 12, 11, 9.5, 9, 8, 6, 4} */
  for (size_t j = 0; j < N; j++) x[j] = (float)(sqrt(lam[0]) * Q[j * N]);
  REQUIRE_OK(nco_classify_point(pb, x, NULL, N, &co, &c));
  CHECK(c.kind == NCO_POINT_MINIMUM);
  CHECK(strcmp(nco_point_kind_name(c.kind), "minimum") == 0);
  CHECK_CLOSE(c.lam_min, 4, 2e-4, 0);
  CHECK_CLOSE(c.lam_max, 20, 2e-4, 0);
  CHECK_CLOSE(c.hi[1], 12, 2e-4, 0);
  CHECK(c.grad_norm < 1e-4 && c.exact_hvp);
  /* √λ₂v₂: {12, 8, 7, 5.5, 5, 4, 2, −4}: strict saddle, escape curvature −4 */
  for (size_t j = 0; j < N; j++) x[j] = (float)(sqrt(lam[1]) * Q[j * N + 1]);
  REQUIRE_OK(nco_classify_point(pb, x, NULL, N, &co, &c));
  CHECK(c.kind == NCO_POINT_STRICT_SADDLE);
  CHECK(strcmp(nco_point_kind_name(c.kind), "strict_saddle") == 0);
  CHECK_CLOSE(c.lam_min, -4, 2e-4, 0);
  /* with β = 5 the curvature −4 is not "strict" enough: degenerate */
  nco_classify_opts cb = co;
  cb.beta = 5;
  CHECK_OK(nco_classify_point(pb, x, NULL, N, &cb, &c));
  CHECK(c.kind == NCO_POINT_DEGENERATE && c.beta == 5);
  /* a generic point: not critical, curvature still reported */
  for (size_t j = 0; j < N; j++) x[j] = 0.1f * (float)(j + 1);
  CHECK_OK(nco_classify_point(pb, x, NULL, N, &co, &c));
  CHECK(c.kind == NCO_POINT_NONCRITICAL && c.curvature != NCO_POINT_NONCRITICAL);
  CHECK_ERR(nco_classify_point(pb, x, NULL, N, &(nco_classify_opts){.k = 0}, &c), NCO_ERR_RANGE, "k = 0");
  nco_problem_free(pb);
  nco_array_free(&Ma);
  /* M ≻ 0: x = 0 is a strict local maximum (Hessian −2M) */
  double lp[N] = {5, 3, 2, 1, 0.5, 0.25, 0.2, 0.1};
  pb = pca_problem(lp, Q, &Ma);
  REQUIRE(pb != NULL);
  memset(x, 0, sizeof x);
  CHECK_OK(nco_classify_point(pb, x, NULL, N, &co, &c));
  CHECK(c.kind == NCO_POINT_MAXIMUM);
  CHECK_CLOSE(c.lam_max, -0.2, 1e-5, 0);
  CHECK_CLOSE(c.lam_min, -10, 1e-4, 0);
  nco_problem_free(pb);
  nco_array_free(&Ma);
  /* least squares with N = 3 < d = 6 at an interpolating point: AᵀA has a
   * 3-dimensional null space: degenerate (a manifold of minima) */
  {
    double Ad[18], xd[6] = {0.5, -1, 0.25, 2, 0, 1}, bd[3];
    for (size_t i = 0; i < 18; i++) Ad[i] = sin(1.0 + 3.7 * (double)i);
    nco_array A = {0}, b = {0};
    REQUIRE_OK(f32_matrix(&A, 3, 6, Ad, "test:A"));
    const float *Af = A.data;
    for (size_t i = 0; i < 3; i++) {
      bd[i] = 0;
      for (size_t j = 0; j < 6; j++) bd[i] += (double)Af[i * 6 + j] * (float)xd[j];
    }
    REQUIRE_OK(f32_vector(&b, 3, bd, "test:b"));
    REQUIRE_OK(nco_linear_ls_create(&A, &b, &pb));
    float xf[6];
    for (size_t j = 0; j < 6; j++) xf[j] = (float)xd[j];
    CHECK_OK(nco_classify_point(pb, xf, NULL, 3, NULL, &c));
    CHECK(c.kind == NCO_POINT_DEGENERATE);
    CHECK(fabs(c.lam_min) < c.tau);
    nco_problem_free(pb);
    nco_array_free(&A), nco_array_free(&b);
  }
  /* sphere: the tensor loss at a_1 (minimum of −f) and (a_1+a_2)/√2 */
  {
    double comp[3 * 4] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0};
    nco_array C = {0};
    REQUIRE_OK(f32_matrix(&C, 3, 4, comp, "test:tensor"));
    REQUIRE_OK(nco_tensor_create(&C, &pb));
    float a1[4] = {1, 0, 0, 0}, s[4] = {(float)(1 / sqrt(2.0)), (float)(1 / sqrt(2.0)), 0, 0};
    CHECK_OK(nco_classify_point(pb, a1, NULL, 3, NULL, &c));
    CHECK(c.kind == NCO_POINT_MINIMUM);
    CHECK_CLOSE(c.lam_min, 4, 1e-5, 0);
    CHECK_OK(nco_classify_point(pb, s, NULL, 3, NULL, &c));
    CHECK(c.kind == NCO_POINT_STRICT_SADDLE);
    CHECK_CLOSE(c.lam_min, -4, 1e-5, 0);
    nco_problem_free(pb);
    nco_array_free(&C);
  }
}

/* ---- 3. SLQ ---------------------------------------------------------------- */

typedef struct {
  size_t n;
  const double *d;
} diag_t;

static int diag_op(void *c, const float *v, float *out) {
  const diag_t *h = c;
  for (size_t i = 0; i < h->n; i++) out[i] = (float)(h->d[i] * v[i]);
  return NCO_OK;
}

static void test_slq(void) {
  enum { N = 50 };
  double lam[N];
  for (size_t i = 0; i < N; i++) lam[i] = -1 + 0.1 * (double)((i * 7) % N) + (i == 3 ? 6 : 0);
  diag_t h = {N, lam};
  /* eigenvalues −1, −0.9, …, 3.9 (a permutation) with 1.1 moved to 7.1.
   * m = 10 steps: Gauss quadrature exact for degree ≤ 19, and for a
   * diagonal A and a Rademacher v, vᵀAᵖv/‖v‖² = Σλᵢᵖ/n exactly. */
  nco_slq_opts o = nco_slq_defaults();
  o.n_probes = 3, o.n_iter = 10;
  nco_slq_result r;
  REQUIRE_OK(nco_slq(N, diag_op, &h, &o, &r));
  /* perturbing A by ‖E‖ ≤ 2u‖A‖ moves vᵀAᵖv/‖v‖² by ≤ 2pu‖A‖ᵖ ≤ 5e-7‖A‖ᵖ
   * (p ≤ 4): checked to 1e-5·‖A‖ᵖ, ‖A‖ = 7.1 */
  for (int p = 0; p <= 4; p++) {
    double ref = 0, scale = pow(7.1, p);
    for (size_t i = 0; i < N; i++) ref += pow(lam[i], p) / N;
    for (size_t q = 0; q < r.n_probes; q++) {
      double mom = 0;
      CHECK(r.n_nodes[q] == 10);
      for (size_t j = 0; j < r.n_nodes[q]; j++) mom += r.weights[q * r.n_iter + j] * pow(r.nodes[q * r.n_iter + j], p);
      CHECK_CLOSE(mom, ref, 1e-5 * scale, 0);
    }
  }
  /* the density integrates to 1 (trapezoid; the grid covers ±3σ beyond the
   * extreme nodes, which lose < 0.3% of their own weight) */
  double integ = 0;
  for (size_t g = 0; g + 1 < r.n_grid; g++)
    integ += 0.5 * (r.density[g] + r.density[g + 1]) * (r.grid[g + 1] - r.grid[g]);
  CHECK_CLOSE(integ, 1, 5e-3, 0);
  CHECK(r.lam_max <= 7.1 + 1e-5 && r.lam_min >= -1 - 1e-5 && r.sigma > 0);
  CHECK(r.matvecs == 30);
  nco_slq_free(&r);
  /* full Krylov dimension: the nodes are the eigenvalues, weights 1/n */
  o.n_iter = 200; /* capped at n */
  o.n_probes = 1;
  REQUIRE_OK(nco_slq(N, diag_op, &h, &o, &r));
  CHECK(r.n_iter == N && r.n_nodes[0] == N);
  double sorted[N];
  memcpy(sorted, lam, sizeof sorted);
  for (size_t i = 1; i < N; i++)
    for (size_t j = i; j > 0 && sorted[j] < sorted[j - 1]; j--) {
      double t = sorted[j];
      sorted[j] = sorted[j - 1], sorted[j - 1] = t;
    }
  for (size_t j = 0; j < N; j++) {
    CHECK_CLOSE(r.nodes[j], sorted[j], 2e-6 * 7.1, 0);
    CHECK_CLOSE(r.weights[j], 1.0 / N, 1e-6, 0);
  }
  nco_slq_free(&r);
  /* a Hessian with two distinct eigenvalues: each probe breaks down after
   * two steps (the tensor saddle (a₁ + a₂)/√2: {−4, 2, 2} on T_x). The
   * components are rotated (rows of a Householder reflector) so that no
   * ±1 probe is orthogonal to the −4 eigenvector a₁ − a₂. */
  {
    double Q[16], comp[3 * 4];
    householder(4, Q);
    memcpy(comp, Q, sizeof comp);
    nco_array C = {0};
    REQUIRE_OK(f32_matrix(&C, 3, 4, comp, "test:tensor"));
    nco_problem *pb = NULL;
    REQUIRE_OK(nco_tensor_create(&C, &pb));
    float s[4];
    for (size_t j = 0; j < 4; j++) s[j] = (float)((comp[j] + comp[4 + j]) / sqrt(2.0));
    o = nco_slq_defaults();
    o.n_probes = 4;
    REQUIRE_OK(nco_hessian_density(pb, s, NULL, 3, &o, &r));
    for (size_t q = 0; q < 4; q++) {
      CHECK(r.n_nodes[q] == 2);
      CHECK_CLOSE(r.nodes[q * r.n_iter], -4, 1e-5, 0);
      CHECK_CLOSE(r.nodes[q * r.n_iter + 1], 2, 1e-5, 0);
      CHECK_CLOSE(r.weights[q * r.n_iter] + r.weights[q * r.n_iter + 1], 1, 1e-12, 0);
    }
    CHECK(r.n_iter == 3); /* tangent space of S³ */
    nco_slq_free(&r);
    nco_problem_free(pb);
    nco_array_free(&C);
  }
  o = nco_slq_defaults();
  o.n_grid = 1;
  CHECK_ERR(nco_slq(N, diag_op, &h, &o, &r), NCO_ERR_RANGE, "n_grid = 1");
  nco_slq_free(&r); /* safe after an error */
}

/* ---- 5. Jacobian Lipschitz -------------------------------------------------- */

/* One sample, one parameter, g(x) = σ(a·x) − y: J(x) = a·σ'(ax), so
 * |J(x₁) − J(x₂)| ≤ a²·max|σ''|·|x₁ − x₂| with max|σ''| = 1/(6√3) (at
 * z = ln(2 ± √3) ≈ ±1.317); the ball |x| ≤ 2 with a = 2 contains the
 * maximisers, so L = 4/(6√3) ≈ 0.3849 exactly. Sampling gives a lower
 * bound: checked ≤ L (plus the rounding floor) and ≥ L/2. */
static void test_lipschitz(void) {
  double a = 2, y = 0.3;
  nco_array A = {0}, b = {0};
  REQUIRE_OK(f32_matrix(&A, 1, 1, &a, "test:a"));
  REQUIRE_OK(f32_vector(&b, 1, &y, "test:y"));
  nco_act act = nco_act_make(NCO_ACT_SIGMOID);
  nco_problem *pb = NULL;
  REQUIRE_OK(nco_glm_create(&A, &b, &act, &pb));
  float th[1] = {0};
  nco_jaclip_result jr;
  nco_jaclip_opts jo = nco_jaclip_defaults();
  jo.n_pairs = 64;
  REQUIRE_OK(nco_jacobian_lipschitz(pb, th, NULL, 1, 2.0, &jo, &jr));
  double Lt = 4 / (6 * sqrt(3.0));
  printf("Lipschitz: sigmoid GLM estimate %.6g vs exact %.6g (floor %.2g, %zu pairs)\n", jr.L, Lt, jr.floor, jr.pairs);
  CHECK(jr.L <= Lt * (1 + 1e-6) + jr.floor);
  CHECK(jr.L >= 0.5 * Lt);
  CHECK(jr.pairs == 64 && jr.resolved > 0 && jr.jnorm > 0 && jr.jnorm <= 0.5 + 1e-6);
  CHECK_ERR(nco_jacobian_lipschitz(pb, th, NULL, 1, 0.0, NULL, &jr), NCO_ERR_RANGE, "radius = 0");
  nco_problem_free(pb);
  nco_array_free(&A), nco_array_free(&b);
  /* linear least squares: J constant, L = 0 exactly (same float products) */
  nco_rng rng;
  nco_rng_seed(&rng, 4);
  REQUIRE_OK(nco_linear_ls_generate(6, 9, 0.1, &rng, &A, &b));
  REQUIRE_OK(nco_linear_ls_create(&A, &b, &pb));
  float x[9] = {0};
  CHECK_OK(nco_jacobian_lipschitz(pb, x, NULL, 6, 3.0, NULL, &jr));
  CHECK(jr.L == 0 && jr.resolved == 0 && jr.pairs == 16);
  nco_problem_free(pb);
  nco_array_free(&A), nco_array_free(&b);
}

/* ---- 6. certificates ----------------------------------------------------- */

typedef struct {
  size_t n;
  double step[2048], misfit[2048], dist[2048];
  double path, minpl;
} trace_t;

/* Plain GD θ ← θ − lr·∇f for T steps, recording misfit, distance, path and
 * the PL ratio (f* = 0) at every step. */
static int run_gd(nco_problem *pb, const float *x0, double lr, size_t T, trace_t *tr) {
  size_t d = pb->dim;
  float *x = malloc(d * sizeof *x), *xp = malloc(d * sizeof *xp), *g = malloc(d * sizeof *g);
  nco_misfit *m = NULL;
  int st = nco_misfit_create(pb, 0, x0, NULL, pb->n, &m);
  memcpy(x, x0, d * sizeof *x);
  tr->n = 0, tr->path = 0, tr->minpl = INFINITY;
  for (size_t t = 0; !st && t <= T; t++) {
    double f, pl, mf;
    if ((st = nco_problem_eval(pb, x, NULL, pb->n, &f, g)) || (st = nco_misfit_eval(m, x, &mf, NULL))) break;
    if ((st = nco_pl_ratio(f, 0, d, g, &pl))) break;
    tr->minpl = fmin(tr->minpl, pl);
    tr->step[tr->n] = (double)t, tr->misfit[tr->n] = mf;
    st = nco_distance(d, x, x0, &tr->dist[tr->n], NULL);
    tr->n++;
    if (t == T) break;
    memcpy(xp, x, d * sizeof *x);
    nco_axpy(d, (float)-lr, g, x);
    tr->path += nco_dist2(d, x, xp);
  }
  nco_misfit_free(m);
  free(x), free(xp), free(g);
  return st;
}

static void check_reports(const nco_certificate *c) {
  FILE *f = tmpfile();
  REQUIRE(f != NULL);
  CHECK_OK(nco_certificate_write_text(c, f));
  CHECK_OK(nco_certificate_write_json(c, f));
  long len = ftell(f);
  rewind(f);
  char *buf = calloc((size_t)len + 1, 1);
  CHECK(fread(buf, 1, (size_t)len, f) == (size_t)len);
  fclose(f);
  CHECK(strstr(buf, "Theorem 2.1") && strstr(buf, "Theorem 2.2") && strstr(buf, "(2.6)"));
  const char *js = strstr(buf, "{\"problem\"");
  CHECK(js != NULL);
  if (js) { /* balanced braces, no NaN/inf tokens */
    int depth = 0, ok = 1, instr = 0;
    for (const char *p = js; *p && *p != '\n'; p++) {
      if (*p == '"' && p[-1] != '\\') instr = !instr;
      if (instr) continue;
      if (*p == '{') depth++;
      if (*p == '}') depth--;
      if (depth < 0) ok = 0;
    }
    CHECK(ok && depth == 0);
    CHECK(!strstr(js, "nan") && !strstr(js, "inf") && strstr(js, "\"theorem_2_2\": {"));
  }
  free(buf);
}

/* Linear least squares with N = 10 < d = 30: J = A everywhere, so L = 0
 * and Theorem 2.2's (2.6) α² ≥ 4L‖r₀‖ = 0 holds; α = σ_min(A), β = σ_max(A)
 * on the whole ball. GD with η = 0.9/(2β²) then obeys (2.3)–(2.5). */
static void test_certificate_holds(void) {
  enum { N = 10, D = 30 };
  nco_rng rng;
  nco_rng_seed(&rng, 31);
  nco_array A = {0}, b = {0};
  REQUIRE_OK(nco_linear_ls_generate(N, D, 0.5, &rng, &A, &b));
  nco_problem *pb = NULL;
  REQUIRE_OK(nco_linear_ls_create(&A, &b, &pb));
  float x0[D];
  nco_rng_normal_fill(&rng, x0, D, 0, 0.3);
  nco_cert_opts co = nco_cert_defaults();
  nco_certificate c;
  REQUIRE_OK(nco_certify(pb, x0, NULL, N, &co, &c));
  CHECK(c.L == 0 && c.holds22 == 1 && isinf(c.margin22) && c.applies21 == 1);
  CHECK(c.alpha == c.smin0 && c.beta == c.smax0); /* J is the same matrix everywhere */
  CHECK(c.points > 1 && c.L_pairs == 8);
  CHECK_CLOSE(c.eta_max21, 1 / (2 * c.beta * c.beta), 0, 1e-15);
  CHECK_CLOSE(c.eta_max22, 1 / (8 * c.smax0 * c.smax0), 0, 1e-15);
  CHECK_CLOSE(c.radius, 4 * c.r0 / c.alpha, 0, 1e-15);
  CHECK(c.step_ok21 == -1 && isnan(c.margin21));
  double r0;
  ls_loss(A.data, b.data, N, D, x0, &r0);
  CHECK_CLOSE(c.r0, r0, 0, 1e-13);
  /* with the run's lr */
  double lr = 0.9 * c.eta_max21;
  co.lr = lr;
  REQUIRE_OK(nco_certify(pb, x0, NULL, N, &co, &c));
  CHECK(c.step_ok21 == 1 && c.step_ok22 == 0);
  CHECK_CLOSE(c.margin21, 1 / 0.9, 0, 1e-12);
  /* MEAN: the same lr is a step c·lr = lr/N on ½‖r‖² */
  nco_problem_set_reduction(pb, NCO_REDUCE_MEAN);
  nco_certificate cm;
  REQUIRE_OK(nco_certify(pb, x0, NULL, N, &co, &cm));
  CHECK_CLOSE(cm.eta, lr / N, 0, 1e-15);
  CHECK(strstr(cm.note, "MEAN reduction") != NULL);
  nco_problem_set_reduction(pb, NCO_REDUCE_SUM);
  /* the run */
  static trace_t tr;
  REQUIRE_OK(run_gd(pb, x0, lr, 400, &tr));
  nco_cert_observed ob = {tr.n, tr.step, tr.misfit, tr.dist, tr.path, tr.minpl};
  REQUIRE_OK(nco_certificate_compare(&c, &ob));
  printf("certificate (linear, holds): rate %.6g, worst misfit/pred %.4g, (2.4) %.4g, (2.13) %.4g, path %.4g ≤ %.4g\n",
         c.rate, c.rate_worst, c.eq24_worst, c.eq213_worst, c.path_obs, c.path_bound);
  CHECK(c.rate_ok == 1 && c.eq24_ok == 1 && c.radius_ok == 1 && c.path_ok == 1);
  CHECK(c.eq213_worst >= 1 - 1e-6); /* Theorem 2.4's lower bound */
  CHECK(c.misfit_obs_last < 0.1 && c.tau_last == 400);
  check_reports(&c);
  nco_problem_free(pb);
  nco_array_free(&A), nco_array_free(&b);
}

/* Theorem 2.1's step bound where the theorem applies to a non-linear
 * model (L > 0): a sigmoid GLM started near its targets, so that the ball
 * of radius 4‖r₀‖/α is small and α > 0 on it. The bound must be Oymak &
 * Soltanolkotabi's (1/(2β²))·min(1, α²/(L‖r₀‖)) (with the erratum noted in
 * test_certificate_holds), recomputed here from the reported α, β, L, ‖r₀‖. */
static void test_certificate_step_bound(void) {
  enum { N = 5, D = 20 };
  nco_rng rng;
  nco_rng_seed(&rng, 43);
  nco_array A = {0}, b = {0};
  REQUIRE_OK(nco_linear_ls_generate(N, D, 0, &rng, &A, &b));
  float x0[D];
  nco_rng_normal_fill(&rng, x0, D, 0, 0.3);
  /* targets σ(Ax₀) + 0.01: a small residual at x₀ */
  float *bf = b.data;
  const float *Af = A.data;
  for (size_t i = 0; i < N; i++) {
    double z = 0;
    for (size_t j = 0; j < D; j++) z += (double)Af[i * D + j] * x0[j];
    bf[i] = (float)(1 / (1 + exp(-z)) + 0.01);
  }
  nco_act act = nco_act_make(NCO_ACT_SIGMOID);
  nco_problem *pb = NULL;
  REQUIRE_OK(nco_glm_create(&A, &b, &act, &pb));
  nco_certificate c;
  REQUIRE_OK(nco_certify(pb, x0, NULL, N, NULL, &c));
  printf("certificate (GLM near its targets): α = %.4g, β = %.4g, L = %.4g, ‖r₀‖ = %.4g, η_max = %.6g\n", c.alpha, c.beta,
         c.L, c.r0, c.eta_max21);
  CHECK(c.applies21 && c.alpha > 0 && c.L > 0);
  CHECK(c.alpha * c.alpha < c.L * c.r0); /* the α²/(L‖r₀‖) factor binds: the case of the min() */
  double want = fmin(1, c.alpha * c.alpha / (c.L * c.r0)) / (2 * c.beta * c.beta);
  CHECK_CLOSE(c.eta_max21, want, 0, 1e-15);
  CHECK(c.eta_max21 <= 1 / (2 * c.beta * c.beta));
  check_reports(&c);
  nco_problem_free(pb);
  nco_array_free(&A), nco_array_free(&b);
}

/* A sigmoid GLM that cannot interpolate: targets 5 (outside (0, 1)), so
 * ‖r₀‖ ≥ 4√N, and x₀ of norm ~√d·1.5 so that σ'(a_iᵀx₀) is small and
 * α = σ_min(J) with it: (2.6) fails by orders of magnitude. */
static void test_certificate_fails(void) {
  enum { N = 5, D = 20 };
  nco_rng rng;
  nco_rng_seed(&rng, 41);
  nco_array A = {0}, b = {0};
  REQUIRE_OK(nco_linear_ls_generate(N, D, 0, &rng, &A, &b));
  float *bf = b.data;
  for (size_t i = 0; i < N; i++) bf[i] = 5;
  nco_act act = nco_act_make(NCO_ACT_SIGMOID);
  nco_problem *pb = NULL;
  REQUIRE_OK(nco_glm_create(&A, &b, &act, &pb));
  float x0[D];
  nco_rng_normal_fill(&rng, x0, D, 0, 1.5);
  nco_certificate c;
  REQUIRE_OK(nco_certify(pb, x0, NULL, N, NULL, &c));
  printf("certificate (GLM, fails): α₂² = %.3g, 4L‖r₀‖ = %.3g (L = %.3g, ‖r₀‖ = %.3g), margin %.3g\n", c.lhs22, c.rhs22,
         c.L, c.r0, c.margin22);
  CHECK(c.r0 >= 4 * sqrt((double)N));
  CHECK(c.L > 8 * c.L_floor);
  CHECK(c.holds22 == 0 && c.margin22 < 1e-2);
  /* Theorem 2.1: the ball of radius 4‖r₀‖/α is so large that the sigmoid
   * saturates on it (σ' underflows in float32): sampled α = 0, so the
   * theorem cannot apply either */
  printf("certificate (GLM, fails): Theorem 2.1: α = %.3g over %zu points (σ_min(J(θ₀)) = %.3g)\n", c.alpha, c.points,
         c.smin0);
  CHECK(c.alpha <= c.smin0 && c.beta >= c.smax0);
  CHECK(c.applies21 == (c.alpha > 0));
  CHECK(!c.applies21 || c.eta_max21 < 1 / (2 * c.beta * c.beta)); /* the α²/(L‖r₀‖) factor binds */
  check_reports(&c);
  nco_problem_free(pb);
  /* N > d: σ_N(J) = 0 */
  nco_array A2 = {0}, b2 = {0};
  REQUIRE_OK(nco_linear_ls_generate(30, 10, 0.1, &rng, &A2, &b2));
  REQUIRE_OK(nco_linear_ls_create(&A2, &b2, &pb));
  float z[10] = {0};
  REQUIRE_OK(nco_certify(pb, z, NULL, 30, NULL, &c));
  CHECK(c.smin0 == 0 && c.smin0_d > 0 && c.applies21 == 0 && c.holds22 == 0);
  CHECK(strstr(c.note, "Assumption 2 cannot hold") != NULL);
  check_reports(&c);
  nco_problem_free(pb);
  nco_array_free(&A2), nco_array_free(&b2);
  /* not least squares */
  double comp[4] = {1, 0, 0, 1};
  nco_array C = {0};
  REQUIRE_OK(f32_matrix(&C, 2, 2, comp, "test:tensor"));
  REQUIRE_OK(nco_tensor_create(&C, &pb));
  float xt[2] = {1, 0};
  CHECK_ERR(nco_certify(pb, xt, NULL, 2, NULL, &c), NCO_ERR_UNSUPPORTED, "least squares");
  nco_problem_free(pb);
  nco_array_free(&C);
  nco_array_free(&A), nco_array_free(&b);
}

/* Invex lifting of a sigmoid GLM (Crane & Roosta): PL constant λ², and the
 * GD path in (x, p) within R(x₀, λ) = 2√(2Δ₀)/λ, Δ₀ = f(x₀) (min f = 0
 * assumed: an over-estimate, so the bound stays valid). */
static void test_certificate_invex(void) {
  enum { N = 20, D = 8 };
  nco_rng rng;
  nco_rng_seed(&rng, 51);
  nco_act act = nco_act_make(NCO_ACT_SIGMOID);
  nco_array A = {0}, b = {0};
  REQUIRE_OK(nco_glm_generate(N, D, &act, 0, 1, &rng, &A, &b));
  nco_problem *base = NULL, *pb = NULL;
  REQUIRE_OK(nco_glm_create(&A, &b, &act, &base));
  double lam = 0.3;
  REQUIRE_OK(nco_invex_wrap(base, lam, 1, &pb));
  float *x0 = calloc(pb->dim, sizeof *x0);
  REQUIRE_OK(nco_problem_init(pb, &rng, x0));
  nco_cert_opts co = nco_cert_defaults();
  co.lr = 0.1;
  nco_certificate c;
  REQUIRE_OK(nco_certify(pb, x0, NULL, N, &co, &c));
  CHECK(c.invex == 1 && c.lambda == lam);
  CHECK_CLOSE(c.pl_const, lam * lam, 0, 1e-15);
  /* f(x₀) of the data term, here */
  const float *Af = A.data, *bf = b.data;
  double f0 = 0;
  for (size_t i = 0; i < N; i++) {
    double z = 0;
    for (size_t j = 0; j < D; j++) z += (double)Af[i * D + j] * x0[j];
    double r = 1 / (1 + exp(-z)) - bf[i];
    f0 += r * r / 2;
  }
  CHECK_CLOSE(c.delta0, f0, 0, 1e-6);
  CHECK_CLOSE(c.R_invex, 2 * sqrt(2 * f0) / lam, 0, 1e-6);
  CHECK(c.smin0 >= lam * (1 - 1e-6)); /* J = [J_g λI]: σ_min ≥ λ */
  static trace_t tr;
  REQUIRE_OK(run_gd(pb, x0, 0.1, 500, &tr));
  nco_cert_observed ob = {tr.n, tr.step, tr.misfit, tr.dist, tr.path, tr.minpl};
  REQUIRE_OK(nco_certificate_compare(&c, &ob));
  printf("certificate (invex λ = %g): min PL %.6g ≥ %.6g; path %.4g ≤ R %.4g\n", lam, c.pl_min_obs, c.pl_const,
         c.path_obs, c.R_invex);
  CHECK(c.pl_ok == 1 && c.path_invex_ok == 1);
  check_reports(&c);
  /* a given Δ₀ */
  co.delta0 = 2;
  REQUIRE_OK(nco_certify(pb, x0, NULL, N, &co, &c));
  CHECK_CLOSE(c.R_invex, 2 * sqrt(4.0) / lam, 0, 1e-15);
  co.delta0 = -1;
  CHECK_ERR(nco_certify(pb, x0, NULL, N, &co, &c), NCO_ERR_RANGE, "Δ₀ = -1");
  free(x0);
  nco_problem_free(pb);
  nco_array_free(&A), nco_array_free(&b);
}

/* ---- 7. regularity principle --------------------------------------------- */

/* θ₀ = (2, 0), η = ½, θ_T = θ₃ = (0, 0), inf ℓ = 0:
 *   k  θ_k        U_k       ℓ_k   ⟨θ_k − θ_T, U_k⟩  (η/2)‖U_k‖²   γ_k
 *   0  (2, 0)     (2, −1)   2     4                 ¼·5 = 1.25    2.75/2   = 1.375
 *   1  (1, ½)     (1, 1)    1     1.5               ¼·2 = 0.5     1/1      = 1
 *   2  (½, 0)     (1, 0)    ½     0.5               ¼·1 = 0.25    0.25/0.5 = 0.5
 * (θ_{k+1} = θ_k − ηU_k). γ = 0.5 at k = 2, ‖θ₀ − θ_T‖² = 4: factor ⅛.
 * All values are binary fractions: exact in floating point. */
static void test_regularity(void) {
  float th[4][2] = {{2, 0}, {1, 0.5f}, {0.5f, 0}, {0, 0}}, U[3][2] = {{2, -1}, {1, 1}, {1, 0}};
  double loss[3] = {2, 1, 0.5}, want[3] = {1.375, 1, 0.5};
  for (int variant = 0; variant < 2; variant++) {
    nco_regularity r;
    REQUIRE_OK(nco_regularity_init(&r, 2, th[3], 0));
    CHECK(isinf(r.gamma) && isnan(nco_regularity_factor(&r)));
    for (int k = 0; k < 3; k++) {
      double g;
      if (variant == 0)
        CHECK_OK(nco_regularity_add(&r, th[k], U[k], 0.5, loss[k], &g));
      else
        CHECK_OK(nco_regularity_add_step(&r, th[k], th[k + 1], 0.5, loss[k], &g));
      CHECK(g == want[k]);
    }
    CHECK(r.gamma == 0.5 && r.argmin == 2 && r.steps == 3 && r.n_violations == 0);
    CHECK(r.dist0_T == 2 && nco_regularity_factor(&r) == 0.125);
    nco_regularity_free(&r);
  }
  /* a step against the trajectory direction violates the principle */
  nco_regularity r;
  REQUIRE_OK(nco_regularity_init(&r, 2, th[3], 0));
  float back[2] = {-1, 0};
  double g;
  CHECK_OK(nco_regularity_add(&r, th[0], back, 0.5, 2, &g)); /* (−2 − 0.25)/2 */
  CHECK(g == -1.125 && r.n_violations == 1 && r.gamma == -1.125);
  /* zero loss gap: +INF if the numerator is ≥ 0, −INF otherwise */
  CHECK_OK(nco_regularity_add(&r, th[1], U[1], 0.5, 0, &g));
  CHECK(isinf(g) && g > 0 && r.n_zero_gap == 1);
  CHECK_OK(nco_regularity_add(&r, th[1], back, 0.5, 0, &g));
  CHECK(isinf(g) && g < 0 && r.gamma < 0 && r.argmin == 2);
  CHECK_ERR(nco_regularity_add(&r, th[1], U[1], 0.5, -1, &g), NCO_ERR_RANGE, "below inf");
  CHECK_ERR(nco_regularity_add(&r, th[1], U[1], 0, 1, &g), NCO_ERR_RANGE, "step size");
  nco_regularity_free(&r);
  CHECK_ERR(nco_regularity_add(&r, th[1], U[1], 0.5, 1, &g), NCO_ERR_INVALID, "not initialised");
  float nanv[2] = {NAN, 0};
  CHECK_ERR(nco_regularity_init(&r, 2, nanv, 0), NCO_ERR_NONFINITE, "θ_T");
}

/* γ of a real SGD run: ℓ ≥ 0 of linear least squares per sample (inf ℓ =
 * 0 when interpolating, N < d), replay-free here: the trajectory is kept
 * and fed afterwards. Checks: the identity behind Theorem 1's proof (their
 * eq. 4 before the inequality, telescoped):
 *     Σ_k 2η(⟨θ_k − θ_T, U_k⟩ − (η/2)‖U_k‖²) = ‖θ₀ − θ_T‖²,
 * i.e. 2η Σ_k γ_k (ℓ_k − inf ℓ) = ‖θ₀ − θ_T‖² with the accumulator's γ_k;
 * the last step's γ_{T−1} = (η/2)‖U‖²/ℓ > 0; and, when γ > 0, the bound
 * (3): mean loss ≤ ‖θ₀ − θ_T‖²/(2ηTγ). */
static void test_regularity_sgd(void) {
  enum { N = 8, D = 20, T = 64 };
  nco_rng rng;
  nco_rng_seed(&rng, 61);
  nco_array A = {0}, b = {0};
  REQUIRE_OK(nco_linear_ls_generate(N, D, 0, &rng, &A, &b));
  nco_problem *pb = NULL;
  REQUIRE_OK(nco_linear_ls_create(&A, &b, &pb));
  static float traj[T + 1][D];
  double losses[T];
  float g[D];
  size_t perm[N];
  const double eta = 0.02;
  memset(traj[0], 0, sizeof traj[0]);
  for (size_t k = 0; k < T; k++) {
    if (k % N == 0) nco_rng_permutation(&rng, perm, N); /* sampling with reshuffle */
    size_t i = perm[k % N];
    REQUIRE_OK(nco_problem_eval(pb, traj[k], &i, 1, &losses[k], g));
    memcpy(traj[k + 1], traj[k], sizeof traj[k]);
    nco_axpy(D, (float)-eta, g, traj[k + 1]);
  }
  nco_regularity r;
  REQUIRE_OK(nco_regularity_init(&r, D, traj[T], 0));
  double mean = 0, tele = 0;
  for (size_t k = 0; k < T; k++) {
    double gk;
    REQUIRE_OK(nco_regularity_add_step(&r, traj[k], traj[k + 1], eta, losses[k], &gk));
    mean += losses[k] / T;
    tele += 2 * eta * gk * losses[k];
  }
  /* double sums of T terms of size ≲ ‖θ‖²: 1e-9 relative */
  CHECK_CLOSE(tele, r.dist0_T * r.dist0_T, 0, 1e-9);
  printf("regularity: SGD on linear LS: γ = %.4g (k = %zu), γ/‖θ₀ − θ_T‖² = %.4g\n", r.gamma, r.argmin,
         nco_regularity_factor(&r));
  CHECK(r.gamma_last > 0);
  if (r.gamma > 0) CHECK(mean <= r.dist0_T * r.dist0_T / (2 * eta * T * r.gamma) * (1 + 1e-6));
  nco_regularity_free(&r);
  nco_problem_free(pb);
  nco_array_free(&A), nco_array_free(&b);
}

int main(void) {
  RUN(test_values);
  RUN(test_landscape_linear);
  RUN(test_pl_invex);
  RUN(test_misfit_distance);
  RUN(test_classify);
  RUN(test_slq);
  RUN(test_lipschitz);
  RUN(test_certificate_holds);
  RUN(test_certificate_step_bound);
  RUN(test_certificate_fails);
  RUN(test_certificate_invex);
  RUN(test_regularity);
  RUN(test_regularity_sgd);
  return nco_test_summary();
}
