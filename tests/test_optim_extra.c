/* accelegrad, rgd, lbfgs and lm: hand-computable first steps, rates
 * (AcceleGrad's O(1/k²) against AdaGrad-norm; Crane & Roosta's linear rate
 * of GD on the invex lifting), rgd on the orthogonal tensor problem,
 * L-BFGS against torch.optim.LBFGS fixtures, LM rejecting non-finite
 * trials, validation messages, and bitwise save/load resume. */
#include <float.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <math.h>

#include "optim/internal.h"
#include "testlib.h"

/* ---- small least-squares problems shared with scripts/make_lbfgs_fixtures.py
 * quad: r = M x − b (6 × 4), rosen: r = (10(x1 − x0²), 1 − x0). The loss
 * and gradient are computed from the double residual (as the fixture
 * script's closure does: float64 loss, gradient rounded to float32). */

typedef struct {
  int kind; /* 0 quad, 1 rosen, 2 "x − c with NaN outside ‖x‖ ≤ 10" */
} ls_impl;

static double quad_M(size_t i, size_t j) {
  return (double)((long)((3 * i + 5 * j) % 7) - 3) / 8.0 + (i == j ? 2.0 : 0.0);
}
static double quad_b(size_t i) { return (double)(i % 3) - 0.5; }
static const double NAN_C[2] = {20, 0};

static size_t ls_m(int kind) { return kind == 0 ? 6 : 2; }
static size_t ls_n(int kind) { return kind == 0 ? 4 : 2; }

static void ls_fj(int kind, const float *x, double *r, double *J) {
  if (kind == 0) {
    for (size_t i = 0; i < 6; i++) {
      double s = -quad_b(i);
      for (size_t j = 0; j < 4; j++) {
        s += quad_M(i, j) * x[j];
        J[i * 4 + j] = quad_M(i, j);
      }
      r[i] = s;
    }
  } else if (kind == 1) {
    double x0 = x[0], x1 = x[1];
    r[0] = 10 * (x1 - x0 * x0);
    r[1] = 1 - x0;
    J[0] = -20 * x0, J[1] = 10, J[2] = -1, J[3] = 0;
  } else {
    double n2 = (double)x[0] * x[0] + (double)x[1] * x[1];
    for (size_t i = 0; i < 2; i++) r[i] = n2 > 100 ? NAN : x[i] - NAN_C[i];
    J[0] = 1, J[1] = 0, J[2] = 0, J[3] = 1;
  }
}

static int ls_res(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *r) {
  (void)idx, (void)nb;
  double J[24];
  ls_fj(((ls_impl *)pb->impl)->kind, x, r, J);
  return NCO_OK;
}

static int ls_jvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *u,
                  float *ju) {
  (void)idx, (void)nb;
  int k = ((ls_impl *)pb->impl)->kind;
  double r[6], J[24];
  ls_fj(k, x, r, J);
  for (size_t i = 0; i < ls_m(k); i++) {
    double s = 0;
    for (size_t j = 0; j < ls_n(k); j++) s += J[i * ls_n(k) + j] * u[j];
    ju[i] = (float)s;
  }
  return NCO_OK;
}

static int ls_vjp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v,
                  float *jtv) {
  (void)idx, (void)nb;
  int k = ((ls_impl *)pb->impl)->kind;
  double r[6], J[24];
  ls_fj(k, x, r, J);
  for (size_t j = 0; j < ls_n(k); j++) {
    double s = 0;
    for (size_t i = 0; i < ls_m(k); i++) s += J[i * ls_n(k) + j] * v[i];
    jtv[j] = (float)s;
  }
  return NCO_OK;
}

static int ls_eval(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *loss,
                   float *grad) {
  (void)idx, (void)nb;
  int k = ((ls_impl *)pb->impl)->kind;
  double r[6], J[24], s = 0;
  ls_fj(k, x, r, J);
  for (size_t i = 0; i < ls_m(k); i++) s += r[i] * r[i];
  *loss = 0.5 * s;
  if (grad)
    for (size_t j = 0; j < ls_n(k); j++) {
      double g = 0;
      for (size_t i = 0; i < ls_m(k); i++) g += J[i * ls_n(k) + j] * r[i];
      grad[j] = (float)g;
    }
  return NCO_OK;
}

static void ls_destroy(void *impl) { free(impl); }

static const nco_problem_type ls_type = {
    .name = "ls_test",
    .eval = ls_eval,
    .residual64 = ls_res,
    .jvp = ls_jvp,
    .vjp = ls_vjp,
    .destroy = ls_destroy,
};

static nco_problem *ls_create(int kind) {
  ls_impl *I = malloc(sizeof *I);
  if (!I) return NULL;
  I->kind = kind;
  nco_problem *pb = NULL;
  if (nco_problem_alloc(&ls_type, I, ls_n(kind), 1, ls_m(kind), 0, &pb)) return NULL;
  return pb;
}

static void test_ls_derivatives(void) {
  static const float pts[3][4] = {{0.5f, -0.25f, 0.75f, -1.0f}, {-1.2f, 1.0f}, {1.5f, -2.0f}};
  for (int k = 0; k < 3; k++) {
    nco_problem *pb = ls_create(k);
    REQUIRE(pb);
    nco_check_opts o = nco_check_defaults();
    nco_check_report rep;
    CHECKF(nco_check_gradient(pb, pts[k], NULL, 1, &o, &rep) == NCO_OK, "kind %d: %s", k,
           rep.worst);
    CHECKF(nco_check_jvp_vjp(pb, pts[k], NULL, 1, &o, &rep) == NCO_OK, "kind %d: %s", k, rep.worst);
    nco_problem_free(pb);
  }
}

/* ---- validation ------------------------------------------------------------ */

/* The table (nco_optim_param_table) is every method's only range check:
 * the defaults pass, and lr = 0 and lr = -1 get the same message for every
 * method; the table is consistent (methods are real, ranges ordered). */
static void test_param_table(void) {
  size_t n = 0;
  const nco_optim_param *t = nco_optim_param_table(&n);
  CHECK(t && n >= 30);
  float x0[3] = {1, 0, 0};
  for (size_t m = 0; nco_optim_types[m]; m++) {
    const nco_optim_type *ty = nco_optim_types[m];
    nco_optim_params hp = nco_optim_defaults(ty);
    CHECK(nco_optim_validate(ty, &hp) == NCO_OK);
    for (size_t i = 0; i < n; i++) CHECK(nco_optim_param_check(&t[i], &hp) == NCO_OK);
    hp.lr = 0;
    CHECK_ERR(nco_optim_validate(ty, &hp), NCO_ERR_RANGE, "optimizer.lr = 0: must be in (0, inf)");
    hp.lr = -1;
    CHECK_ERR(nco_optim_validate(ty, &hp), NCO_ERR_RANGE, "optimizer.lr = -1: must be in (0, inf)");
    nco_optim *o = NULL;
    CHECK_ERR(nco_optim_create(ty, 3, &hp, x0, &o), NCO_ERR_RANGE, "optimizer.lr = -1: must be in (0, inf)");
  }
  for (size_t i = 0; i < n; i++) {
    CHECK(nco_optim_param_find(t[i].name) == &t[i]);
    CHECK(t[i].help && *t[i].help);
    CHECK(t[i].lo <= t[i].hi);
    for (const char *p = t[i].methods; p && *p;) {
      size_t L = strcspn(p, " ");
      char name[32];
      snprintf(name, sizeof name, "%.*s", (int)L, p);
      CHECK(nco_optim_find(name) != NULL);
      p += L + (p[L] == ' ');
    }
  }
  nco_optim_params hp = nco_optim_defaults(nco_optim_adam);
  hp.beta2 = 1;
  CHECK_ERR(nco_optim_validate(nco_optim_adam, &hp), NCO_ERR_RANGE, "optimizer.beta2 = 1: must be in [0, 1)");
  hp = nco_optim_defaults(nco_optim_lbfgs);
  hp.tolerance_grad = INFINITY;
  CHECK_ERR(nco_optim_validate(nco_optim_lbfgs, &hp), NCO_ERR_RANGE, "optimizer.tolerance_grad = inf: must be in [0, inf)");
}

static void test_validation(void) {
  float x0[3] = {1, 0, 0};
  nco_optim *o = NULL;
  nco_optim_params hp = nco_optim_defaults(nco_optim_accelegrad);
  CHECK(hp.lr == 1 && hp.diameter == 1 && hp.G == 0);
  hp.diameter = 0;
  CHECK_ERR(nco_optim_create(nco_optim_accelegrad, 3, &hp, x0, &o), NCO_ERR_RANGE,
            "optimizer.diameter");
  hp = nco_optim_defaults(nco_optim_accelegrad);
  hp.G = -1;
  CHECK_ERR(nco_optim_create(nco_optim_accelegrad, 3, &hp, x0, &o), NCO_ERR_RANGE, "optimizer.G");

  hp = nco_optim_defaults(nco_optim_rgd);
  CHECK(hp.lr == 1e-3);
  hp.projection = NCO_PROJ_BOX;
  CHECK_ERR(nco_optim_create(nco_optim_rgd, 3, &hp, x0, &o), NCO_ERR_UNSUPPORTED,
            "optimizer.projection");
  float zero[3] = {0, 0, 0};
  CHECK_ERR(nco_optim_create(nco_optim_rgd, 3, NULL, zero, &o), NCO_ERR_INVALID, "rgd");

  hp = nco_optim_defaults(nco_optim_lbfgs);
  CHECK(hp.lr == 1 && hp.history_size == 100 && hp.max_iter == 20 && hp.max_eval == 0);
  CHECK(hp.tolerance_grad == 1e-7 && hp.tolerance_change == 1e-9 &&
        hp.line_search_fn == NCO_LS_NONE);
  hp.history_size = 0;
  CHECK_ERR(nco_optim_create(nco_optim_lbfgs, 3, &hp, x0, &o), NCO_ERR_RANGE,
            "optimizer.history_size");
  hp = nco_optim_defaults(nco_optim_lbfgs);
  hp.max_iter = 0;
  CHECK_ERR(nco_optim_create(nco_optim_lbfgs, 3, &hp, x0, &o), NCO_ERR_RANGE, "optimizer.max_iter");
  hp = nco_optim_defaults(nco_optim_lbfgs);
  hp.line_search_fn = (nco_line_search)7;
  CHECK_ERR(nco_optim_create(nco_optim_lbfgs, 3, &hp, x0, &o), NCO_ERR_RANGE,
            "optimizer.line_search_fn");
  hp = nco_optim_defaults(nco_optim_lbfgs);
  hp.weight_decay = 0.1;
  CHECK_ERR(nco_optim_create(nco_optim_lbfgs, 3, &hp, x0, &o), NCO_ERR_UNSUPPORTED,
            "optimizer.weight_decay");
  hp = nco_optim_defaults(nco_optim_lbfgs);
  hp.history_size = SIZE_MAX / 2; /* the table's range, before any size arithmetic */
  CHECK_ERR(nco_optim_create(nco_optim_lbfgs, 3, &hp, x0, &o), NCO_ERR_RANGE,
            "optimizer.history_size = 9223372036854775807: must be in [1, 1000000]");
  hp = nco_optim_defaults(nco_optim_lbfgs);
  hp.history_size = 1000000;
  CHECK_ERR(nco_optim_create(nco_optim_lbfgs, SIZE_MAX / 64, &hp, x0, &o), NCO_ERR_OVERFLOW, "lbfgs");

  hp = nco_optim_defaults(nco_optim_lm);
  CHECK(hp.mu0 == 1e-3 && hp.cg_max_iter == 50 && hp.cg_tol == 1e-6);
  hp.mu0 = 0;
  CHECK_ERR(nco_optim_create(nco_optim_lm, 3, &hp, x0, &o), NCO_ERR_RANGE, "optimizer.mu0");
  hp = nco_optim_defaults(nco_optim_lm);
  hp.cg_tol = 1;
  CHECK_ERR(nco_optim_create(nco_optim_lm, 3, &hp, x0, &o), NCO_ERR_RANGE, "optimizer.cg_tol");
  hp = nco_optim_defaults(nco_optim_lm);
  hp.maximize = 1;
  CHECK_ERR(nco_optim_create(nco_optim_lm, 3, &hp, x0, &o), NCO_ERR_UNSUPPORTED,
            "optimizer.maximize");

  /* type properties */
  CHECK(nco_optim_type_is_ask_tell(nco_optim_accelegrad) &&
        nco_optim_type_is_ask_tell(nco_optim_rgd));
  CHECK(!nco_optim_type_is_ask_tell(nco_optim_lbfgs) && !nco_optim_type_is_ask_tell(nco_optim_lm));
  CHECK(nco_optim_type_requires(nco_optim_rgd) == 2 && nco_optim_type_requires(nco_optim_lm) == 1);
  CHECK(nco_optim_type_requires(nco_optim_lbfgs) == 0 &&
        nco_optim_type_requires(nco_optim_accelegrad) == 0);
  CHECK(nco_optim_find("accelegrad") == nco_optim_accelegrad &&
        nco_optim_find("lm") == nco_optim_lm);
  CHECK(nco_optim_find("rgd") == nco_optim_rgd && nco_optim_find("lbfgs") == nco_optim_lbfgs);

  /* lbfgs refuses a minibatch; lm refuses a problem without residuals */
  nco_array A = {0}, b = {0}, C = {0};
  nco_problem *lin = NULL, *ten = NULL;
  nco_rng rng;
  nco_rng_seed(&rng, 3);
  REQUIRE_OK(nco_linear_ls_generate(10, 3, 0.1, &rng, &A, &b));
  REQUIRE_OK(nco_linear_ls_create(&A, &b, &lin));
  REQUIRE_OK(nco_tensor_generate(3, 3, &rng, &C));
  REQUIRE_OK(nco_tensor_create(&C, &ten));
  size_t idx[4] = {0, 1, 2, 3};
  REQUIRE_OK(nco_optim_create(nco_optim_lbfgs, 3, NULL, x0, &o));
  CHECK_ERR(nco_optim_iterate(o, lin, idx, 4, NULL, NULL), NCO_ERR_UNSUPPORTED, "full batch");
  CHECK(nco_optim_steps(o) == 0);
  CHECK(nco_optim_iterate(o, lin, NULL, 10, NULL, NULL) >= 0);
  CHECK(nco_optim_steps(o) == 1);
  nco_optim_free(o);
  REQUIRE_OK(nco_optim_create(nco_optim_lm, 3, NULL, x0, &o));
  CHECK_ERR(nco_optim_iterate(o, ten, NULL, 3, NULL, NULL), NCO_ERR_UNSUPPORTED, "least-squares");
  CHECK(nco_optim_iterate(o, lin, NULL, 10, NULL, NULL) >= 0);
  CHECK(nco_optim_steps(o) == 1);
  /* not ask/tell */
  float g[3] = {1, 1, 1};
  CHECK_ERR(nco_optim_step(o, g, 1.0), NCO_ERR_UNSUPPORTED, "nco_optim_iterate");
  nco_optim_free(o);
  nco_problem_free(lin);
  nco_problem_free(ten);
  nco_array_free(&A);
  nco_array_free(&b);
  nco_array_free(&C);
}

/* ---- hand-computable steps --------------------------------------------------- */

/* AcceleGrad, x₀ = 0 ∈ R², D = 2 (K = unit ball), G = 0, lr = 1.
 * k = 0: α₀ = 1 (paper: α_t = 1 for t ≤ 2), τ₀ = 1, query x₁ = z₀ = 0;
 *   g₀ = (3, 4), Σα²‖g‖² = 25, η₀ = 2D/5 = 0.8;
 *   z₁ = Π(−0.8·(3,4)) = Π(−2.4, −3.2) = (−0.6, −0.8) (norm 4 → 1);
 *   y₁ = x₁ − η₀g₀ = (−2.4, −3.2); ȳ₁ = y₁; next query x₂ = z₁ (α₁ = 1).
 * k = 1: g₁ = (1, 0): Σ = 26, η₁ = 4/√26; y₂ = x₂ − η₁g₁;
 *   z₂ = Π(z₁ − η₁g₁); ȳ₂ = (y₁ + y₂)/2; x₃ = z₂ (α₂ = 1).
 * With the slide's α₀ = 1/4 the second query would be 2z₁ − y₁ instead.
 * Float32 results of a few double operations: 1e-6 relative. */
static void test_accelegrad_hand(void) {
  float x0[2] = {0, 0}, g0[2] = {3, 4}, g1[2] = {1, 0};
  nco_optim_params hp = nco_optim_defaults(nco_optim_accelegrad);
  hp.diameter = 2;
  nco_optim *o = NULL;
  REQUIRE_OK(nco_optim_create(nco_optim_accelegrad, 2, &hp, x0, &o));
  const float *q = nco_optim_query(o);
  CHECK(q[0] == 0 && q[1] == 0);
  REQUIRE_OK(nco_optim_step(o, g0, 1.0));
  const float *y = nco_optim_x(o), *yb = nco_optim_output(o);
  q = nco_optim_query(o);
  CHECK_CLOSE(y[0], -2.4, 0, 1e-6);
  CHECK_CLOSE(y[1], -3.2, 0, 1e-6);
  CHECK_CLOSE(yb[0], -2.4, 0, 1e-6);
  CHECK_CLOSE(yb[1], -3.2, 0, 1e-6);
  CHECK_CLOSE(q[0], -0.6, 0, 1e-6);
  CHECK_CLOSE(q[1], -0.8, 0, 1e-6);
  REQUIRE_OK(nco_optim_step(o, g1, 1.0));
  double eta = 4 / sqrt(26.0);
  double y2[2] = {-0.6 - eta, -0.8}, z2[2] = {-0.6 - eta, -0.8};
  double nz = sqrt(z2[0] * z2[0] + z2[1] * z2[1]);
  z2[0] /= nz, z2[1] /= nz;
  CHECK_CLOSE(y[0], y2[0], 0, 1e-6);
  CHECK_CLOSE(y[1], y2[1], 0, 1e-6);
  CHECK_CLOSE(yb[0], (-2.4 + y2[0]) / 2, 0, 1e-6);
  CHECK_CLOSE(yb[1], (-3.2 + y2[1]) / 2, 0, 1e-6);
  CHECK_CLOSE(q[0], z2[0], 0, 1e-6);
  CHECK_CLOSE(q[1], z2[1], 0, 1e-6);
  CHECK(nco_optim_steps(o) == 2);
  nco_optim_free(o);
}

/* rgd, x₀ = (2, 0, 0) (normalised to e₁ at creation), Euclidean g =
 * (5, 3, −4), lr = 0.5: P_x g = (0, 3, −4), x₁ = (1, −1.5, 2)/√7.25;
 * maximize: (1, 1.5, −2)/√7.25. Then g = (0, 0, 0) leaves x unchanged. */
static void test_rgd_hand(void) {
  float x0[3] = {2, 0, 0}, g[3] = {5, 3, -4}, z[3] = {0, 0, 0};
  double s = sqrt(7.25);
  for (int mx = 0; mx < 2; mx++) {
    nco_optim_params hp = nco_optim_defaults(nco_optim_rgd);
    hp.lr = 0.5;
    hp.maximize = mx;
    nco_optim *o = NULL;
    REQUIRE_OK(nco_optim_create(nco_optim_rgd, 3, &hp, x0, &o));
    const float *x = nco_optim_x(o);
    CHECK(x[0] == 1 && x[1] == 0 && x[2] == 0);
    REQUIRE_OK(nco_optim_step(o, g, 0.0));
    double sg = mx ? -1 : 1;
    CHECK_CLOSE(x[0], 1 / s, 0, 1e-6);
    CHECK_CLOSE(x[1], -sg * 1.5 / s, 0, 1e-6);
    CHECK_CLOSE(x[2], sg * 2 / s, 0, 1e-6);
    float keep[3] = {x[0], x[1], x[2]};
    REQUIRE_OK(nco_optim_step(o, z, 0.0));
    CHECK(x[0] == keep[0] && x[1] == keep[1] && x[2] == keep[2]);
    CHECK(nco_optim_output(o) == x && nco_optim_query(o) == x);
    nco_optim_free(o);
  }
}

/* ---- AcceleGrad's O(1/k²) against AdaGrad-norm's O(1/k) -------------------- */

/* f(x) = ½ Σ λ_i (x_i − x*_i)², d = 20, λ_i = κ^{−i/19} (log-uniform on
 * [1/κ, 1]), x*_i = 1/√20 (‖x*‖ = 1), x₀ = 0, f* = 0.
 *
 * Why κ = 10⁶ and not ~100: the O(1/k²) (accelerated) and O(1/k)
 * (non-accelerated) rates are the sublinear regime k ≪ √κ resp. k ≪ κ; on
 * a κ = 100 quadratic both methods turn linear within ~10 resp. ~100 steps
 * (measured: over k ∈ [64, 1024] the slopes are −4.0 for AcceleGrad's ȳ,
 * the k⁻⁴ tail of its α-weighted average, and −5.8 for AdaGrad-norm, which
 * is then plain GD converging linearly), so no window separates them. With
 * log-uniform eigenvalues and uniform coefficients, GD's f(x_k) ≈
 * ∫e^{−2ηλk}dλ ∝ 1/k for 1 ≪ k ≪ κ; κ = 10⁶ keeps the window k ∈ [64,
 * 1024] inside both sublinear regimes.
 *
 * Comparable tuning: the same feasible diameter D = 4 (ball of radius 2 ∋
 * x*) and the same step numerator: AcceleGrad η_k = 2D/√(Σα²‖g‖²)
 * (lr = 1, G = 0), AdaGrad-norm lr = 2D, i.e. η_k = 2D/√(b₀² + Σ‖g‖²) —
 * AcceleGrad with α ≡ 1 reduces to exactly this (τ = 1, projection aside).
 * Slopes: least squares of log(f − f*) on log k over k = 64·2^{j/4},
 * j = 0..16. Expected ≈ −2 and ≈ −1; asserted: AcceleGrad < −1.5 and
 * below AdaGrad-norm's. */
enum { QD = 20 };
static double q_lam[QD], q_xs[QD];

static void q_setup(double kappa) {
  for (int i = 0; i < QD; i++) {
    q_lam[i] = pow(kappa, -(double)i / (QD - 1));
    q_xs[i] = 1 / sqrt((double)QD);
  }
}

static double q_eval(const float *x, float *g) {
  double s = 0;
  for (int i = 0; i < QD; i++) {
    double e = (double)x[i] - q_xs[i];
    if (g) g[i] = (float)(q_lam[i] * e);
    s += 0.5 * q_lam[i] * e * e;
  }
  return s;
}

static double fit_slope(const double *lk, const double *lf, int n) {
  double mx = 0, my = 0, sxx = 0, sxy = 0;
  for (int i = 0; i < n; i++) mx += lk[i] / n, my += lf[i] / n;
  for (int i = 0; i < n; i++) {
    sxx += (lk[i] - mx) * (lk[i] - mx);
    sxy += (lk[i] - mx) * (lf[i] - my);
  }
  return sxy / sxx;
}

static void test_accelegrad_rate(void) {
  q_setup(1e6);
  float x0[QD] = {0}, g[QD];
  const double D = 4;
  nco_optim_params ha = nco_optim_defaults(nco_optim_accelegrad);
  ha.diameter = D;
  nco_optim_params hn = nco_optim_defaults(nco_optim_adagrad_norm);
  hn.lr = 2 * D;
  nco_optim *a = NULL, *n = NULL;
  REQUIRE_OK(nco_optim_create(nco_optim_accelegrad, QD, &ha, x0, &a));
  REQUIRE_OK(nco_optim_create(nco_optim_adagrad_norm, QD, &hn, x0, &n));
  enum { NPT = 17 };
  double lk[NPT], la[NPT], ln_[NPT];
  int next = 0;
  for (int k = 1; k <= 1024 && next < NPT; k++) {
    double f = q_eval(nco_optim_query(a), g);
    REQUIRE_OK(nco_optim_step(a, g, f));
    f = q_eval(nco_optim_query(n), g);
    REQUIRE_OK(nco_optim_step(n, g, f));
    int want = (int)floor(64 * pow(2.0, next / 4.0) + 0.5);
    if (k == want) {
      lk[next] = log((double)k);
      la[next] = log(q_eval(nco_optim_output(a), NULL));
      ln_[next] = log(q_eval(nco_optim_output(n), NULL));
      next++;
    }
  }
  REQUIRE(next == NPT);
  double sa = fit_slope(lk, la, NPT), sn = fit_slope(lk, ln_, NPT);
  fprintf(stderr,
          "  slopes of log(f - f*) vs log k over k in [64, 1024]: accelegrad %.3f, "
          "adagrad_norm %.3f; f at k = 1024: %.3e vs %.3e\n",
          sa, sn, exp(la[NPT - 1]), exp(ln_[NPT - 1]));
  CHECK(sa < -1.5);
  CHECK(sa < sn);
  nco_optim_free(a);
  nco_optim_free(n);
}

/* ---- rgd on the orthogonal tensor problem ----------------------------------- */

/* Ma §5: on the sphere the local minima of −Σ⟨a_i, x⟩⁴ (k ≤ d orthonormal
 * a_i) are exactly ±a_i; every other critical point is a strict saddle or
 * a maximum, so gradient descent from a random start ends at some ±a_i.
 * d = 8, k = 5, lr = 0.2, 800 steps from 8 random starts (4 through
 * nco_optim_iterate with Riemannian gradients, 4 through nco_optim_step
 * with Euclidean gradients, which rgd projects itself). At ±a_i,
 * |⟨a_i, x⟩| = 1; float32 normalisation leaves ~1e-7, and the last steps
 * converge linearly (the Riemannian Hessian at a_i has eigenvalues ≤ −4),
 * so we require |⟨a_i, x⟩| ≥ 1 − 1e-5 and |‖x‖ − 1| ≤ 1e-6. */
static void test_rgd_tensor(void) {
  enum { K = 5, DD = 8 };
  nco_rng rng;
  nco_rng_seed(&rng, 2024);
  nco_array C = {0};
  nco_problem *pb = NULL;
  REQUIRE_OK(nco_tensor_generate(K, DD, &rng, &C));
  REQUIRE_OK(nco_tensor_create(&C, &pb));
  const float *A = C.data;
  nco_optim_params hp = nco_optim_defaults(nco_optim_rgd);
  hp.lr = 0.2;
  int hits[K] = {0};
  for (int s = 0; s < 8; s++) {
    float x0[DD], g[DD];
    REQUIRE_OK(nco_problem_init(pb, &rng, x0));
    nco_optim *o = NULL;
    REQUIRE_OK(nco_optim_create(nco_optim_rgd, DD, &hp, x0, &o));
    double loss;
    for (int t = 0; t < 800; t++) {
      if (s < 4) {
        REQUIRE_OK(nco_optim_iterate(o, pb, NULL, K, &loss, g));
      } else {
        REQUIRE_OK(nco_problem_eval(pb, nco_optim_query(o), NULL, K, &loss, g));
        REQUIRE_OK(nco_optim_step(o, g, loss));
      }
    }
    const float *x = nco_optim_x(o);
    double best = 0;
    int bi = -1;
    for (int i = 0; i < K; i++) {
      double c = fabs(nco_dot(DD, A + i * DD, x));
      if (c > best) best = c, bi = i;
    }
    double nx = nco_nrm2(DD, x);
    CHECKF(best >= 1 - 1e-5, "start %d: max |<a_i, x>| = %.9f", s, best);
    CHECKF(fabs(nx - 1) <= 1e-6, "start %d: |x| = %.9f", s, nx);
    if (bi >= 0) hits[bi]++;
    nco_optim_free(o);
  }
  fprintf(stderr, "  rgd ended at components:");
  for (int i = 0; i < K; i++) fprintf(stderr, " a%d x%d", i, hits[i]);
  fprintf(stderr, "\n");
  nco_problem_free(pb);
  nco_array_free(&C);
}

/* ---- Crane & Roosta, Corollary 1: linear rate of GD on the invex lifting -- */

/* f̂(x, p) = ½‖g(x) + λp‖² for the sigmoid GLM g(x) = σ(Ax) − b with
 * Bernoulli labels (the setting of Crane & Roosta's Fig. 1), n = 64, d = 8,
 * λ = 1, from (x₀, 0). f̂ is PL with constant λ² (Theorem 2) and L-smooth
 * on the ball D̂ of radius R = 2√(2Δ₀)/λ around (x₀, 0) (Theorem 3,
 * Assumption 1); GD with α ≤ 1/L then gives f̂_t ≤ (1 − λ²/L)^t f̂₀ and a
 * path of length ≤ R (Corollary 1).
 *
 * L in the test: Δ₀ = f(x₀) − min f ≤ f(x₀) = f̂(x₀, 0) (f ≥ 0), so we use
 * the larger radius R = 2√(2f̂₀)/λ (the ball only grows, L only grows, the
 * corollary still applies). ‖∇²f̂‖ is estimated by 40 power iterations on
 * exact Hessian-vector products (the GLM's rhvp through the wrapper) at
 * the centre and at 32 points (x₀, 0) + ρu, u uniform on the unit sphere,
 * ρ ∈ {R/4, R/2, 3R/4, R}; the maximum times a safety factor of 2 (power
 * iteration underestimates, and 33 points sample the ball) is L.
 * T = 200 steps keep the bound ≥ 1e-7 (8.4·0.92²⁰⁰ ≈ 4e-7 for the
 * measured L), far above the float32 floor of f̂: the rounding of an update
 * (≤ 1e-6 per coordinate for |z_j| < 16) changes f̂ by at most
 * ‖∇f̂‖·8.5e-6 ≤ √(2Lf̂)·8.5e-6, a worst case the contraction absorbs in
 * practice (the test prints max_t f_t/bound_t). Allowed: f_t ≤
 * bound_t·(1 + 1e-6) + 1e-12·f̂₀ (the double evaluation of f̂ itself). */
static void test_invex_pl_linear_rate(void) {
  enum { N = 64, DX = 8 };
  const double lambda = 1.0;
  nco_rng rng;
  nco_rng_seed(&rng, 77);
  nco_array A = {0}, b = {0};
  nco_act act = nco_act_make(NCO_ACT_SIGMOID);
  nco_problem *base = NULL, *pb = NULL;
  REQUIRE_OK(nco_glm_generate(N, DX, &act, 0.0, 1, &rng, &A, &b));
  REQUIRE_OK(nco_glm_create(&A, &b, &act, &base));
  REQUIRE_OK(nco_invex_wrap(base, lambda, 1, &pb));
  size_t dim = pb->dim;
  REQUIRE(dim == DX + N);
  float *z0 = calloc(dim, sizeof *z0), *z = calloc(dim, sizeof *z), *v = calloc(dim, sizeof *v),
        *hv = calloc(dim, sizeof *hv), *prev = calloc(dim, sizeof *prev);
  REQUIRE(z0 && z && v && hv && prev);
  REQUIRE_OK(nco_problem_init(pb, &rng, z0));
  for (size_t j = DX; j < dim; j++) CHECK(z0[j] == 0);
  double f0;
  REQUIRE_OK(nco_problem_eval(pb, z0, NULL, N, &f0, NULL));
  double R = 2 * sqrt(2 * f0) / lambda;

  double hmax = 0;
  for (int pt = 0; pt < 33; pt++) {
    double rho = pt == 0 ? 0 : R * (double)(1 + (pt - 1) % 4) / 4;
    nco_rng_sphere(&rng, v, dim);
    for (size_t j = 0; j < dim; j++) z[j] = (float)(z0[j] + rho * v[j]);
    nco_rng_sphere(&rng, v, dim);
    double est = 0;
    for (int it = 0; it < 40; it++) {
      REQUIRE_OK(nco_problem_hvp(pb, z, NULL, N, v, hv));
      est = nco_nrm2(dim, hv);
      if (!(est > 0)) break;
      for (size_t j = 0; j < dim; j++) v[j] = (float)(hv[j] / est);
    }
    if (est > hmax) hmax = est;
  }
  double L = 2 * hmax;
  if (L < lambda * lambda) L = lambda * lambda;
  double q = 1 - lambda * lambda / L;

  nco_optim_params hp = nco_optim_defaults(nco_optim_sgd);
  hp.lr = 1 / L;
  nco_optim *o = NULL;
  REQUIRE_OK(nco_optim_create(nco_optim_sgd, dim, &hp, z0, &o));
  double path = 0, loss = 0, worst = 0, bound = f0;
  int ok = 1;
  const int T = 200;
  for (int t = 0; t <= T; t++) {
    nco_copy(dim, nco_optim_x(o), prev);
    REQUIRE_OK(nco_optim_iterate(o, pb, NULL, N, &loss, NULL)); /* loss = f̂(z_t) */
    if (!(loss <= bound * (1 + 1e-6) + 1e-12 * f0)) {
      if (ok) fprintf(stderr, "  t = %d: f = %.6e > bound %.6e\n", t, loss, bound);
      ok = 0;
    }
    if (t > 0 && loss / bound > worst) worst = loss / bound;
    path += nco_dist2(dim, nco_optim_x(o), prev);
    bound *= q;
  }
  fprintf(stderr,
          "  invex GLM: f0 = %.4g, R = %.4g, L = %.4g (2 x %.4g), rate 1 - lambda^2/L = %.5f; "
          "f_%d = %.3e <= bound %.3e (max over t >= 1 of f_t/bound_t %.3g); path %.4g <= R\n",
          f0, R, L, hmax, q, T, loss, bound / q, worst, path);
  CHECK(ok);
  CHECK(path <= R);
  nco_optim_free(o);
  free(z0), free(z), free(v), free(hv), free(prev);
  nco_problem_free(pb);
  nco_array_free(&A);
  nco_array_free(&b);
}

/* ---- L-BFGS against torch.optim.LBFGS ------------------------------------ */

/* Fixtures written by scripts/make_lbfgs_fixtures.py (torch 1.13): 5
 * .step() calls with history_size 10, max_iter 20, lr 1, on the quad and
 * rosen problems above, without and with the strong-Wolfe line search; and
 * the same runs with float64 parameters.
 *
 * Tolerance. Both sides keep x, d, s, y and gradients in float32, but
 * torch holds the scalars (gᵀd, yᵀs, ρ, α, H_diag, t) as float32 tensors
 * where ncopt uses double, so the two round differently from the first
 * step on (the first inner iterations agree to 1 ulp; checked by hand with
 * max_iter = 1..20). How far such rounding differences carry is a property
 * of the trajectory, which the fixtures measure: spread_s = |x_s(torch
 * float32) − x_s(torch float64)|_∞. We allow per coordinate
 *     |x − x_torch| ≤ 1e-6·(1 + |x_torch|) + 10·spread_s,
 * an order of magnitude above torch's own float32/float64 difference (the
 * measured ratio of ncopt's deviation to spread_s is at most 4.4, at
 * rosen/none's first step); the loss each step returns (f at the step's
 * start) within ‖∇f‖₁·tol_x + 1e3·tol_x² + 1e-12 of torch's (Rosenbrock's
 * Hessian norm is < 1e3 on the path), and torch's counters n_iter and
 * func_evals exactly. quad converges within the first step; rosen with
 * the strong-Wolfe search within two.
 *
 * rosen without a line search is chaotic: unit L-BFGS steps on Rosenbrock
 * overshoot, and torch's float32 and float64 runs are 5e-3 apart after two
 * steps and 43 apart after three. Once spread_s > 1e-3 the per-step
 * comparison is meaningless; from there on we only require that ncopt, like
 * torch, ends within 1e-4 of the minimiser (1, 1) after the 5 steps. */
static int read_fixture(const char *name, nco_array *a) {
  int st = nco_npy_read(nco_fixture(name), a);
  if (st) fprintf(stderr, "%s\n", nco_last_error());
  return st;
}

static void test_lbfgs_vs_torch(void) {
  static const char *const probs[2] = {"quad", "rosen"};
  static const char *const lss[2] = {"none", "strong_wolfe"};
  double maxdev = 0, maxlossdev = 0, maxratio = 0;
  for (int p = 0; p < 2; p++)
    for (int l = 0; l < 2; l++) {
      char name[128];
      nco_array X = {0}, X64 = {0}, F = {0}, C = {0};
      snprintf(name, sizeof name, "optim/lbfgs_%s_%s_x.npy", probs[p], lss[l]);
      REQUIRE_OK(read_fixture(name, &X));
      snprintf(name, sizeof name, "optim/lbfgs_%s_%s_x64.npy", probs[p], lss[l]);
      REQUIRE_OK(read_fixture(name, &X64));
      snprintf(name, sizeof name, "optim/lbfgs_%s_%s_loss.npy", probs[p], lss[l]);
      REQUIRE_OK(read_fixture(name, &F));
      snprintf(name, sizeof name, "optim/lbfgs_%s_%s_count.npy", probs[p], lss[l]);
      REQUIRE_OK(read_fixture(name, &C));
      nco_problem *pb = ls_create(p);
      REQUIRE(pb);
      size_t d = pb->dim;
      REQUIRE(X.dtype == NCO_DTYPE_F32 && X.ndim == 2 && X.shape[0] == 6 && X.shape[1] == d);
      REQUIRE(X64.dtype == NCO_DTYPE_F64 && X64.size == 6 * d);
      REQUIRE(F.dtype == NCO_DTYPE_F64 && F.size == 5);
      REQUIRE(C.dtype == NCO_DTYPE_I64 && C.size == 10);
      const float *xs = X.data;
      const double *x64 = X64.data, *fs = F.data;
      const int64_t *cs = C.data;
      nco_optim_params hp = nco_optim_defaults(nco_optim_lbfgs);
      hp.history_size = 10;
      hp.max_iter = 20;
      hp.line_search_fn = l ? NCO_LS_STRONG_WOLFE : NCO_LS_NONE;
      nco_optim *o = NULL;
      REQUIRE_OK(nco_optim_create(nco_optim_lbfgs, d, &hp, xs, &o));
      double dev = 0, ldev = 0, tol_prev = 0;
      int chaotic = 0;
      for (int s = 0; s < 5; s++) {
        double loss, floc, ft;
        float xprev[4], gt[4];
        nco_copy(d, nco_optim_x(o), xprev);
        int st = nco_optim_iterate(o, pb, NULL, 1, &loss, NULL);
        CHECKF(st >= 0, "%s/%s step %d: %s", probs[p], lss[l], s, nco_last_error());
        /* the returned loss is f at the step's starting point */
        REQUIRE_OK(nco_problem_eval(pb, xprev, NULL, 1, &floc, NULL));
        CHECK(loss == floc);
        const float *x = nco_optim_x(o);
        double spread = 0;
        for (size_t j = 0; j < d; j++) {
          double e = fabs(xs[(s + 1) * d + j] - x64[(s + 1) * d + j]);
          if (e > spread) spread = e;
        }
        if (!chaotic) {
          /* loss at the step's start vs torch's: x_s matched within tol_prev */
          REQUIRE_OK(nco_problem_eval(pb, xs + s * d, NULL, 1, &ft, gt));
          double g1 = 0;
          for (size_t j = 0; j < d; j++) g1 += fabs(gt[j]);
          double ltol = 1e-12 + g1 * tol_prev + 1e3 * tol_prev * tol_prev;
          double le = fabs(loss - fs[s]);
          if (le > ldev) ldev = le;
          CHECKF(le <= ltol, "%s/%s step %d loss %.12g, torch %.12g (tol %.3g)", probs[p], lss[l],
                 s, loss, fs[s], ltol);
          size_t h = o->hp.history_size;
          CHECKF((int64_t)o->d[h + 2] == cs[2 * s] && (int64_t)o->d[h + 3] == cs[2 * s + 1],
                 "%s/%s step %d: n_iter %g func_evals %g, torch %lld %lld", probs[p], lss[l], s,
                 o->d[h + 2], o->d[h + 3], (long long)cs[2 * s], (long long)cs[2 * s + 1]);
        }
        if (spread > 1e-3) chaotic = 1;
        if (chaotic) continue;
        tol_prev = 0;
        for (size_t j = 0; j < d; j++) {
          double ref = xs[(s + 1) * d + j];
          double e = fabs(x[j] - ref), tol = 1e-6 * (1 + fabs(ref)) + 10 * spread;
          if (e > dev) dev = e;
          if (tol > tol_prev) tol_prev = tol;
          if (spread > 0 && e / spread > maxratio) maxratio = e / spread;
          CHECKF(e <= tol, "%s/%s step %d x[%zu] = %.9g, torch %.9g (tol %.3g)", probs[p], lss[l],
                 s, j, (double)x[j], ref, tol);
        }
      }
      if (chaotic) {
        const float *x = nco_optim_x(o);
        for (size_t j = 0; j < d; j++) {
          CHECKF(fabs(x[j] - 1) <= 1e-4, "%s/%s: final x[%zu] = %.9g", probs[p], lss[l], j,
                 (double)x[j]);
          CHECK(fabs(xs[5 * d + j] - 1) <= 1e-4);
        }
      }
      fprintf(stderr, "  lbfgs %s/%s: max |x - x_torch| = %.3g, max |loss - loss_torch| = %.3g%s\n",
              probs[p], lss[l], dev, ldev, chaotic ? " (until the trajectory turns chaotic)" : "");
      if (dev > maxdev) maxdev = dev;
      if (ldev > maxlossdev) maxlossdev = ldev;
      nco_optim_free(o);
      nco_problem_free(pb);
      nco_array_free(&X);
      nco_array_free(&X64);
      nco_array_free(&F);
      nco_array_free(&C);
    }
  fprintf(stderr,
          "  lbfgs vs torch overall: max |dx| = %.3g, max |dloss| = %.3g, max |dx|/spread = %.3g\n",
          maxdev, maxlossdev, maxratio);
}

/* ---- LM rejects non-finite trials ---------------------------------------------- */

/* r(x) = x − (20, 0), NaN whenever ‖x‖ > 10; x₀ = 0, mu0 = 1e-3. The
 * Gauss–Newton step δ = (20, 0)/(1 + μ) lands outside the ball: the trial
 * loss is NaN, so the first trial must be rejected (x unchanged, status OK,
 * μ ← 2μ, ν ← 4), and every accepted point must have ‖x‖ ≤ 10 and a finite,
 * strictly decreasing loss. With Nielsen's schedule μ reaches ~1 after five
 * rejections (2, 4, 8, 16: 1e-3·2·4·8·16 ≈ 1), δ ≈ (20, 0)/2 is accepted;
 * after 200 trials x₁ is pressed against the wall: x₁ > 9.9. */
static void test_lm_rejects_nan(void) {
  nco_problem *pb = ls_create(2);
  REQUIRE(pb);
  float x0[2] = {0, 0};
  nco_optim *o = NULL;
  REQUIRE_OK(nco_optim_create(nco_optim_lm, 2, NULL, x0, &o));
  double loss;
  REQUIRE_OK(nco_optim_iterate(o, pb, NULL, 1, &loss, NULL));
  const float *x = nco_optim_x(o);
  CHECK(x[0] == 0 && x[1] == 0);
  CHECK_CLOSE(loss, 200, 0, 1e-12);
  CHECK(o->d[0] == 2e-3 && o->d[1] == 4 && o->d[3] == 1 && o->d[2] == 0);
  double prev = loss;
  int accepted = 0, bad = 0;
  for (int t = 0; t < 200; t++) {
    int st = nco_optim_iterate(o, pb, NULL, 1, &loss, NULL);
    if (st < 0) {
      fprintf(stderr, "%s\n", nco_last_error());
      bad++;
      break;
    }
    if (!(isfinite(loss) && loss <= prev)) bad++;
    if (loss < prev) accepted++;
    prev = loss;
    double nx = sqrt((double)x[0] * x[0] + (double)x[1] * x[1]);
    if (!(nx <= 10)) bad++;
    if (st == NCO_CONVERGED) break;
  }
  fprintf(stderr,
          "  lm with a NaN wall: %d accepted losses decreasing to %.6g at x = (%.7g, %.7g), "
          "%g rejections, mu = %g\n",
          accepted, prev, (double)x[0], (double)x[1], o->d[3], o->d[0]);
  CHECK(bad == 0);
  CHECK(accepted >= 1);
  CHECK(x[0] > 9.9f);
  nco_optim_free(o);
  nco_problem_free(pb);
}

/* ---- save / load: bitwise resume ----------------------------------------------- */

typedef struct {
  nco_problem *pb; /* NULL: ask/tell on the quadratic q_eval */
  size_t nb;
} driver;

static int drive(nco_optim *o, const driver *dr, int steps) {
  for (int s = 0; s < steps; s++) {
    int st;
    if (dr->pb) {
      st = nco_optim_iterate(o, dr->pb, NULL, dr->nb, NULL, NULL);
    } else {
      float g[QD];
      double f = q_eval(nco_optim_query(o), g);
      st = nco_optim_step(o, g, f);
    }
    if (st < 0) return st;
  }
  return NCO_OK;
}

/* Run n1 steps, save; run n2 more (A). Fresh optimiser, load, run n2 (B).
 * The complete state images of A and B must be identical bytes. */
static void resume_check(const char *what, const nco_optim_type *t, const nco_optim_params *hp,
                         const float *x0, const driver *dr, int n1, int n2) {
  size_t dim = dr->pb ? dr->pb->dim : QD;
  nco_optim *a = NULL, *b = NULL;
  REQUIRE_OK(nco_optim_create(t, dim, hp, x0, &a));
  REQUIRE_OK(drive(a, dr, n1));
  size_t len = nco_optim_state_size(a);
  unsigned char *mid = malloc(len), *ea = malloc(len), *eb = malloc(len);
  REQUIRE(mid && ea && eb);
  REQUIRE_OK(nco_optim_save(a, mid, len));
  REQUIRE_OK(drive(a, dr, n2));
  REQUIRE_OK(nco_optim_save(a, ea, len));
  REQUIRE_OK(nco_optim_create(t, dim, hp, x0, &b));
  REQUIRE_OK(nco_optim_load(b, mid, len));
  REQUIRE_OK(drive(b, dr, n2));
  REQUIRE_OK(nco_optim_save(b, eb, len));
  CHECKF(memcmp(ea, eb, len) == 0, "%s: resumed state differs", what);
  CHECKF(memcmp(nco_optim_output(a), nco_optim_output(b), dim * sizeof(float)) == 0 &&
             memcmp(nco_optim_query(a), nco_optim_query(b), dim * sizeof(float)) == 0,
         "%s: resumed output/query differ", what);
  CHECKF(memcmp(mid, ea, len) != 0, "%s: the state did not change after the save", what);
  CHECK(nco_optim_steps(a) == (uint64_t)(n1 + n2) && nco_optim_steps(b) == (uint64_t)(n1 + n2));
  /* another method refuses the image */
  nco_optim *c = NULL;
  float xz[QD] = {1};
  if (nco_optim_create(nco_optim_adagrad_norm, dim, NULL, dr->pb ? x0 : xz, &c) == NCO_OK) {
    CHECK_ERR(nco_optim_load(c, mid, len), NCO_ERR_FORMAT, "method");
    nco_optim_free(c);
  }
  free(mid), free(ea), free(eb);
  nco_optim_free(a);
  nco_optim_free(b);
}

static void test_resume(void) {
  /* accelegrad: ask/tell on the κ = 100 quadratic, past the α = 1 phase */
  q_setup(100);
  float xq[QD] = {0};
  nco_optim_params hp = nco_optim_defaults(nco_optim_accelegrad);
  hp.diameter = 4;
  driver dq = {NULL, 0};
  resume_check("accelegrad", nco_optim_accelegrad, &hp, xq, &dq, 7, 10);

  /* rgd: tensor problem through the generic iterate */
  nco_rng rng;
  nco_rng_seed(&rng, 5);
  nco_array C = {0};
  nco_problem *ten = NULL;
  REQUIRE_OK(nco_tensor_generate(4, 6, &rng, &C));
  REQUIRE_OK(nco_tensor_create(&C, &ten));
  float xt[6];
  REQUIRE_OK(nco_problem_init(ten, &rng, xt));
  hp = nco_optim_defaults(nco_optim_rgd);
  hp.lr = 0.1;
  driver dt = {ten, 4};
  resume_check("rgd", nco_optim_rgd, &hp, xt, &dt, 5, 9);

  /* lbfgs: rosen, history 3 (the ring wraps), 4 inner iterations a call */
  nco_problem *ros = ls_create(1);
  REQUIRE(ros);
  float xr[2] = {-1.2f, 1.0f};
  driver dr = {ros, 1};
  for (int l = 0; l < 2; l++) {
    hp = nco_optim_defaults(nco_optim_lbfgs);
    hp.history_size = 3;
    hp.max_iter = 4;
    hp.line_search_fn = l ? NCO_LS_STRONG_WOLFE : NCO_LS_NONE;
    resume_check(l ? "lbfgs/strong_wolfe" : "lbfgs/none", nco_optim_lbfgs, &hp, xr, &dr, 3, 3);
  }
  /* lm: rosen, 5 + 8 trials */
  hp = nco_optim_defaults(nco_optim_lm);
  resume_check("lm", nco_optim_lm, &hp, xr, &dr, 5, 8);
  nco_problem_free(ros);
  nco_problem_free(ten);
  nco_array_free(&C);
}

int main(void) {
  RUN(test_ls_derivatives);
  RUN(test_validation);
  RUN(test_param_table);
  RUN(test_accelegrad_hand);
  RUN(test_rgd_hand);
  RUN(test_accelegrad_rate);
  RUN(test_rgd_tensor);
  RUN(test_invex_pl_linear_rate);
  RUN(test_lbfgs_vs_torch);
  RUN(test_lm_rejects_nan);
  RUN(test_resume);
  return nco_test_summary();
}
