/* Optimisers (optim.h) and step-size schedules.
 *
 * Three kinds of reference, never ncopt itself:
 *   - first steps computed by hand, with hyper-parameters chosen so that
 *     the result is exact or a one-line formula (ggml's trick);
 *   - PyTorch trajectories (tests/fixtures/optim/, written by
 *     scripts/make_optim_fixtures.py) compared iterate by iterate;
 *   - behaviours from the papers: Reddi, Kale & Kumar's counterexample
 *     (Adam → +1, AMSGrad → −1), PSGD escaping a strict saddle where GD
 *     stays, SGLD's stationary variance.
 * Plus the contract: non-finite gradients refused with the state untouched,
 * each invalid key its own message, save/load continuing bitwise. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "ncopt/optim.h"
#include "testlib.h"

#define U32 (0x1p-24) /* float32 unit roundoff */

/* ---- test problems (through the public problem interface) -------------- */

/* f(x) = ½xᵀQx − bᵀx, Q (d, d) row-major; gradient Qx − b in double. */
typedef struct {
  size_t d;
  const float *Q, *b;
} quad_impl;

static int quad_eval(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *loss,
                     float *grad) {
  (void)idx;
  (void)nb;
  const quad_impl *q = pb->impl;
  double f = 0;
  for (size_t i = 0; i < q->d; i++) {
    double qx = 0;
    for (size_t j = 0; j < q->d; j++) qx += (double)q->Q[i * q->d + j] * x[j];
    f += 0.5 * qx * x[i] - (double)q->b[i] * x[i];
    if (grad) grad[i] = (float)(qx - q->b[i]);
  }
  *loss = f;
  return NCO_OK;
}

static const nco_problem_type quad_type = {.name = "test_quad", .eval = quad_eval};

/* f(x, y) = x² − y² + y⁴/4: strict saddle at 0, minima (0, ±√2), f = −1. */
static int saddle_eval(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *loss,
                       float *grad) {
  (void)pb;
  (void)idx;
  (void)nb;
  double a = x[0], y = x[1];
  *loss = a * a - y * y + y * y * y * y / 4;
  if (grad) {
    grad[0] = (float)(2 * a);
    grad[1] = (float)(-2 * y + y * y * y);
  }
  return NCO_OK;
}

static const nco_problem_type saddle_type = {.name = "test_saddle", .eval = saddle_eval};

/* f(x) = ½·a·‖x‖² (impl points at a). */
static int diag_eval(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *loss,
                     float *grad) {
  (void)idx;
  (void)nb;
  double a = *(const double *)pb->impl, f = 0;
  for (size_t i = 0; i < pb->dim; i++) {
    f += 0.5 * a * (double)x[i] * x[i];
    if (grad) grad[i] = (float)(a * x[i]);
  }
  *loss = f;
  return NCO_OK;
}

static const nco_problem_type diag_type = {.name = "test_diag", .eval = diag_eval};

/* Reddi, Kale & Kumar (ICLR 2018), Theorem 1: the online sequence
 * f_t(x) = C·x if t mod 3 = 1, −x otherwise (t = 1, 2, ...), on [−1, 1].
 * The test sets t before each step. */
typedef struct {
  double C;
  uint64_t t;
} reddi_impl;

static int reddi_eval(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *loss,
                      float *grad) {
  (void)idx;
  (void)nb;
  const reddi_impl *r = pb->impl;
  double g = r->t % 3 == 1 ? r->C : -1.0;
  *loss = g * x[0];
  if (grad) grad[0] = (float)g;
  return NCO_OK;
}

static const nco_problem_type reddi_type = {.name = "test_reddi", .eval = reddi_eval};

static nco_problem *make_problem(const nco_problem_type *t, void *impl, size_t dim) {
  nco_problem *pb = NULL;
  if (nco_problem_alloc(t, impl, dim, 1, 0, 0, &pb) != NCO_OK) return NULL;
  return pb;
}

static void test_problem_gradients(void) {
  /* the test problems' own derivatives, against central differences */
  static const float Q[9] = {2, 0.5f, 0, 0.5f, 1, 0.25f, 0, 0.25f, 3};
  static const float b[3] = {1, -1, 0.5f};
  quad_impl qi = {3, Q, b};
  double a = 4;
  reddi_impl ri = {3, 1};
  nco_problem *pq = make_problem(&quad_type, &qi, 3), *ps = make_problem(&saddle_type, NULL, 2),
              *pd = make_problem(&diag_type, &a, 3), *pr = make_problem(&reddi_type, &ri, 1);
  REQUIRE(pq && ps && pd && pr);
  const float x3[3] = {0.3f, -1.2f, 0.7f}, x2[2] = {0.4f, 1.1f}, x1[1] = {0.25f};
  nco_check_opts opt = nco_check_defaults();
  CHECK_OK(nco_check_gradient(pq, x3, NULL, 1, &opt, NULL));
  CHECK_OK(nco_check_gradient(ps, x2, NULL, 1, &opt, NULL));
  CHECK_OK(nco_check_gradient(pd, x3, NULL, 1, &opt, NULL));
  CHECK_OK(nco_check_gradient(pr, x1, NULL, 1, &opt, NULL));
  ri.t = 2;
  CHECK_OK(nco_check_gradient(pr, x1, NULL, 1, &opt, NULL));
  nco_problem_free(pq);
  nco_problem_free(ps);
  nco_problem_free(pd);
  nco_problem_free(pr);
}

/* ---- registry ----------------------------------------------------------- */

static void test_registry(void) {
  static const char *names[] = {"sgd",     "psgd", "sgld",    "adagrad",    "adagrad_norm",
                                "rmsprop", "adam", "adamw",   "amsgrad",    "accelegrad",
                                "rgd",     "lbfgs", "lm"};
  const nco_optim_type *pub[] = {nco_optim_sgd,     nco_optim_psgd,    nco_optim_sgld,
                                 nco_optim_adagrad, nco_optim_adagrad_norm, nco_optim_rmsprop,
                                 nco_optim_adam,    nco_optim_adamw,   nco_optim_amsgrad,
                                 nco_optim_accelegrad, nco_optim_rgd,  nco_optim_lbfgs,
                                 nco_optim_lm};
  size_t n = 0;
  while (nco_optim_types[n]) n++;
  CHECK(n == 13);
  for (size_t i = 0; i < 13; i++) {
    const nco_optim_type *t = nco_optim_find(names[i]);
    CHECKF(t == pub[i], "%s", names[i]);
    CHECK(t && !strcmp(nco_optim_type_name(t), names[i]));
    CHECK(t && strlen(nco_optim_type_help(t)) > 10);
  }
  CHECK(nco_optim_find("nope") == NULL);
  CHECK(nco_optim_find(NULL) == NULL);
  for (size_t i = 0; i < 9; i++) CHECKF(nco_optim_type_is_ask_tell(pub[i]), "%s", names[i]);
  CHECK(!nco_optim_type_is_ask_tell(nco_optim_lbfgs));
  CHECK(!nco_optim_type_is_ask_tell(nco_optim_lm));
  CHECK(nco_optim_type_requires(nco_optim_lm) == 1);
  CHECK(nco_optim_type_requires(nco_optim_rgd) == 2);
  CHECK(nco_optim_type_requires(nco_optim_adam) == 0);

  /* defaults: PyTorch's (torch.optim pages) and optim.h's table */
  nco_optim_params p = nco_optim_defaults(nco_optim_sgd);
  CHECK(p.lr == 1e-3 && p.momentum == 0 && p.dampening == 0 && !p.nesterov && p.weight_decay == 0);
  p = nco_optim_defaults(nco_optim_adagrad);
  CHECK(p.lr == 1e-2 && p.eps == 1e-10 && p.lr_decay == 0 && p.initial_accumulator_value == 0);
  p = nco_optim_defaults(nco_optim_adagrad_norm);
  CHECK(p.lr == 1 && p.eps == 1e-10);
  p = nco_optim_defaults(nco_optim_rmsprop);
  CHECK(p.lr == 1e-2 && p.alpha == 0.99 && p.eps == 1e-8 && !p.centered && p.momentum == 0);
  p = nco_optim_defaults(nco_optim_adam);
  CHECK(p.lr == 1e-3 && p.beta1 == 0.9 && p.beta2 == 0.999 && p.eps == 1e-8 && !p.amsgrad &&
        p.weight_decay == 0 && !p.reddi);
  p = nco_optim_defaults(nco_optim_adamw);
  CHECK(p.lr == 1e-3 && p.weight_decay == 1e-2 && !p.amsgrad);
  p = nco_optim_defaults(nco_optim_amsgrad);
  CHECK(p.amsgrad == 1 && p.beta2 == 0.999);
  p = nco_optim_defaults(nco_optim_psgd);
  CHECK(p.radius == 1e-2 && p.lr == 1e-3);
  p = nco_optim_defaults(nco_optim_sgld);
  CHECK(p.inv_temp == 1);
  CHECK(p.projection == NCO_PROJ_NONE && p.proj_lo == -INFINITY && p.proj_hi == INFINITY &&
        p.proj_radius == INFINITY && p.proj_center_start == 1);
}

/* ---- hand-computed steps ---------------------------------------------------- */

/* Creates t with hp over x0[n] (REQUIRE-style: NULL on failure, reported). */
static nco_optim *mk(const nco_optim_type *t, const nco_optim_params *hp, size_t n, const float *x0) {
  nco_optim *o = NULL;
  int st = nco_optim_create(t, n, hp, x0, &o);
  if (st) {
    fprintf(stderr, "create %s: %s\n", nco_optim_type_name(t), nco_last_error());
    nco_test_failed_checks++;
    nco_test_current_failed = 1;
  }
  return o;
}

/* An sgd on x0[3] after the steps g1 then g2 (g2 NULL: g1 only), or NULL
 * when create failed (counted as a failure by mk). */
static nco_optim *sgd_after(const nco_optim_params *hp, const float *x0, const float *g1, const float *g2) {
  nco_optim *o = mk(nco_optim_sgd, hp, 3, x0);
  if (!o) return NULL;
  CHECK_OK(nco_optim_step(o, g1, 0));
  if (g2) CHECK_OK(nco_optim_step(o, g2, 0));
  return o;
}

static void test_sgd_by_hand(void) {
  /* exact binary values: every result below is exact in float32 */
  const float x0[3] = {1, -2, 0.5f}, g1[3] = {2, 1, -4}, g2[3] = {-1, 0.5f, 2};
  nco_optim_params hp = nco_optim_defaults(nco_optim_sgd);
  hp.lr = 0.25;
  nco_optim *o = mk(nco_optim_sgd, &hp, 3, x0);
  REQUIRE(o);
  CHECK(nco_optim_query(o) == nco_optim_x(o) && nco_optim_output(o) == nco_optim_x(o));
  CHECK_OK(nco_optim_step(o, g1, 0));
  const float *x = nco_optim_x(o);
  /* x1 = x0 − γ g */
  CHECK(x[0] == 0.5f && x[1] == -2.25f && x[2] == 1.5f);
  CHECK(nco_optim_steps(o) == 1);
  nco_optim_free(o);

  /* momentum μ = 0.5, dampening τ = 0.5: b1 = g1 (no dampening on the
   * first step), b2 = μ b1 + (1 − τ) g2 */
  hp.momentum = 0.5;
  hp.dampening = 0.5;
  o = sgd_after(&hp, x0, g1, g2);
  REQUIRE(o);
  x = nco_optim_x(o);
  for (int i = 0; i < 3; i++) {
    float x1 = x0[i] - 0.25f * g1[i];
    float b2 = 0.5f * g1[i] + 0.5f * g2[i];
    CHECKF(x[i] == x1 - 0.25f * b2, "i=%d x=%g want %g", i, x[i], x1 - 0.25f * b2);
  }
  nco_optim_free(o);

  /* Nesterov μ = 0.5: d1 = g1 + μ g1; b2 = μ g1 + g2, d2 = g2 + μ b2 */
  hp.dampening = 0;
  hp.nesterov = 1;
  o = sgd_after(&hp, x0, g1, g2);
  REQUIRE(o);
  x = nco_optim_x(o);
  for (int i = 0; i < 3; i++) {
    float x1 = x0[i] - 0.25f * (1.5f * g1[i]);
    float b2 = 0.5f * g1[i] + g2[i];
    float want = x1 - 0.25f * (g2[i] + 0.5f * b2);
    CHECKF(x[i] == want, "i=%d x=%g want %g", i, x[i], want);
  }
  nco_optim_free(o);

  /* weight decay λ = 0.5 and maximize: x1 = x0 − γ(−g + λ x0) */
  hp = nco_optim_defaults(nco_optim_sgd);
  hp.lr = 0.25;
  hp.weight_decay = 0.5;
  hp.maximize = 1;
  o = sgd_after(&hp, x0, g1, NULL);
  REQUIRE(o);
  x = nco_optim_x(o);
  for (int i = 0; i < 3; i++) CHECK(x[i] == x0[i] - 0.25f * (-g1[i] + 0.5f * x0[i]));
  nco_optim_free(o);
}

static void test_adam_by_hand(void) {
  const float x0[3] = {1, -2, 0.5f}, g1[3] = {2, -0.5f, 3}, g2[3] = {-1, 0.25f, 1};
  /* β1 = β2 = 0: m = g, v = g², corrections 1 → x ← x − γ g/(|g| + ε) each
   * step (ggml's test). Tolerance: 4 rounded float ops, 4u relative. */
  nco_optim_params hp = nco_optim_defaults(nco_optim_adam);
  hp.lr = 0.1;
  hp.beta1 = 0;
  hp.beta2 = 0;
  hp.eps = 1e-3;
  nco_optim *o = mk(nco_optim_adam, &hp, 3, x0);
  REQUIRE(o);
  CHECK_OK(nco_optim_step(o, g1, 0));
  double want[3];
  for (int i = 0; i < 3; i++) {
    want[i] = x0[i] - 0.1 * g1[i] / (fabs(g1[i]) + 1e-3);
    CHECK_CLOSE(nco_optim_x(o)[i], want[i], 0, 8 * U32);
  }
  CHECK_OK(nco_optim_step(o, g2, 0));
  for (int i = 0; i < 3; i++)
    CHECK_CLOSE(nco_optim_x(o)[i], want[i] - 0.1 * g2[i] / (fabs(g2[i]) + 1e-3), 8 * U32, 8 * U32);
  nco_optim_free(o);

  /* default betas, first step: m̂ = g, v̂ = g² after bias correction, so
   * again x1 = x0 − γ g/(|g| + ε) (the roundings of 0.1, 0.001 and the
   * corrections: ≤ 16u relative) */
  hp = nco_optim_defaults(nco_optim_adam);
  hp.lr = 0.1;
  o = mk(nco_optim_adam, &hp, 3, x0);
  REQUIRE(o);
  CHECK_OK(nco_optim_step(o, g1, 0));
  for (int i = 0; i < 3; i++)
    CHECK_CLOSE(nco_optim_x(o)[i], x0[i] - 0.1 * g1[i] / (fabs(g1[i]) + 1e-8), 0, 16 * U32);
  nco_optim_free(o);

  /* adamw: x1 = x0(1 − γλ) − γ g/(|g| + ε) (decoupled decay first) */
  hp = nco_optim_defaults(nco_optim_adamw);
  hp.lr = 0.1;
  hp.weight_decay = 0.5;
  o = mk(nco_optim_adamw, &hp, 3, x0);
  REQUIRE(o);
  CHECK_OK(nco_optim_step(o, g1, 0));
  for (int i = 0; i < 3; i++)
    CHECK_CLOSE(nco_optim_x(o)[i], x0[i] * (1 - 0.05) - 0.1 * g1[i] / (fabs(g1[i]) + 1e-8), 0, 16 * U32);
  nco_optim_free(o);

  /* adam with L2 weight decay: g ← g + λx0, first step −γ g/|g| */
  hp = nco_optim_defaults(nco_optim_adam);
  hp.lr = 0.1;
  hp.weight_decay = 0.5;
  hp.eps = 1e-3;
  o = mk(nco_optim_adam, &hp, 3, x0);
  REQUIRE(o);
  CHECK_OK(nco_optim_step(o, g1, 0));
  for (int i = 0; i < 3; i++) {
    double g = g1[i] + 0.5 * x0[i];
    CHECK_CLOSE(nco_optim_x(o)[i], x0[i] - 0.1 * g / (fabs(g) + 1e-3), 0, 16 * U32);
  }
  nco_optim_free(o);

  /* AMSGrad's max on the raw v before the bias correction (torch ≥ 1.13),
   * one coordinate, β1 = 0, β2 = 0.5, g = 2 then 1:
   *   v1 = 2, corr. 0.5: den1 = √2/√0.5 + ε = 2 + ε
   *   v2 = 1.5, v̂2 = max(2, 1.5) = 2, corr. 0.75: den2 = √2/√0.75 + ε
   * (a max of bias-corrected values would keep 4 → den2 = 2; plain Adam
   * has den2 = √(1.5/0.75) = √2). */
  const float y0[1] = {0}, h1[1] = {2}, h2[1] = {1};
  hp = nco_optim_defaults(nco_optim_amsgrad);
  hp.lr = 0.1;
  hp.beta1 = 0;
  hp.beta2 = 0.5;
  hp.eps = 1e-3;
  o = mk(nco_optim_amsgrad, &hp, 1, y0);
  REQUIRE(o);
  CHECK_OK(nco_optim_step(o, h1, 0));
  double y1 = -0.1 * 2 / (2 + 1e-3);
  CHECK_CLOSE(nco_optim_x(o)[0], y1, 0, 16 * U32);
  CHECK_OK(nco_optim_step(o, h2, 0));
  double y2 = y1 - 0.1 * 1 / (sqrt(2) / sqrt(0.75) + 1e-3);
  CHECK_CLOSE(nco_optim_x(o)[0], y2, 0, 16 * U32);
  nco_optim_free(o);

  /* Reddi et al.'s form (reddi = 1): no bias correction,
   *   step 1: m = g = 2, v = 0.5·4 = 2, x1 = −γ·2/(√2 + ε)
   *   step 2: m = 1, v = 0.5·2 + 0.5·1 = 1.5, v̂ = 2, x2 = x1 − γ/(√2 + ε) */
  hp.reddi = 1;
  o = mk(nco_optim_amsgrad, &hp, 1, y0);
  REQUIRE(o);
  CHECK_OK(nco_optim_step(o, h1, 0));
  y1 = -0.1 * 2 / (sqrt(2) + 1e-3);
  CHECK_CLOSE(nco_optim_x(o)[0], y1, 0, 16 * U32);
  CHECK_OK(nco_optim_step(o, h2, 0));
  CHECK_CLOSE(nco_optim_x(o)[0], y1 - 0.1 / (sqrt(2) + 1e-3), 0, 16 * U32);
  nco_optim_free(o);
}

static void test_adagrad_rmsprop_by_hand(void) {
  const float x0[3] = {1, -2, 0.5f}, g1[3] = {2, -0.5f, 3}, g2[3] = {-1, 0.25f, 1};
  /* adagrad: s1 = s0 + g², x1 = x0 − γ g/(√s1 + ε); lr_decay κ:
   * clr₂ = γ/(1 + κ). Tolerances: ≤ 6 rounded float ops per step. */
  nco_optim_params hp = nco_optim_defaults(nco_optim_adagrad);
  hp.lr = 0.1;
  hp.eps = 1e-3;
  hp.initial_accumulator_value = 1;
  hp.lr_decay = 0.5;
  nco_optim *o = mk(nco_optim_adagrad, &hp, 3, x0);
  REQUIRE(o);
  CHECK_OK(nco_optim_step(o, g1, 0));
  double want[3], s[3];
  for (int i = 0; i < 3; i++) {
    s[i] = 1 + (double)g1[i] * g1[i];
    want[i] = x0[i] - 0.1 * g1[i] / (sqrt(s[i]) + 1e-3);
    CHECK_CLOSE(nco_optim_x(o)[i], want[i], 0, 8 * U32);
  }
  CHECK_OK(nco_optim_step(o, g2, 0));
  for (int i = 0; i < 3; i++) {
    s[i] += (double)g2[i] * g2[i];
    want[i] -= 0.1 / (1 + 0.5) * g2[i] / (sqrt(s[i]) + 1e-3);
    CHECK_CLOSE(nco_optim_x(o)[i], want[i], 16 * U32, 16 * U32);
  }
  nco_optim_free(o);

  /* adagrad_norm: x1 = x0 − γ g1/√(ε + ‖g1‖²), x2 = x1 − γ g2/√(ε + ‖g1‖² + ‖g2‖²) */
  hp = nco_optim_defaults(nco_optim_adagrad_norm);
  hp.lr = 0.5;
  hp.eps = 0.25;
  o = mk(nco_optim_adagrad_norm, &hp, 3, x0);
  REQUIRE(o);
  CHECK_OK(nco_optim_step(o, g1, 0));
  double q1 = 0.25 + 4 + 0.25 + 9, q2 = q1 + 1 + 0.0625 + 1;
  for (int i = 0; i < 3; i++) {
    want[i] = x0[i] - 0.5 * g1[i] / sqrt(q1);
    CHECK_CLOSE(nco_optim_x(o)[i], want[i], 0, 4 * U32);
  }
  CHECK_OK(nco_optim_step(o, g2, 0));
  for (int i = 0; i < 3; i++)
    CHECK_CLOSE(nco_optim_x(o)[i], want[i] - 0.5 * g2[i] / sqrt(q2), 8 * U32, 8 * U32);
  nco_optim_free(o);

  /* rmsprop α = 0: v = g² → x1 = x0 − γ g/(|g| + ε) */
  hp = nco_optim_defaults(nco_optim_rmsprop);
  hp.lr = 0.1;
  hp.alpha = 0;
  hp.eps = 1e-3;
  o = mk(nco_optim_rmsprop, &hp, 3, x0);
  REQUIRE(o);
  CHECK_OK(nco_optim_step(o, g1, 0));
  for (int i = 0; i < 3; i++)
    CHECK_CLOSE(nco_optim_x(o)[i], x0[i] - 0.1 * g1[i] / (fabs(g1[i]) + 1e-3), 0, 8 * U32);
  nco_optim_free(o);

  /* centered, α = 0: ḡ = g, v − ḡ² = 0 exactly → x1 = x0 − γ g/ε; with
   * momentum μ = 0.5: b1 = g/ε, b2 = μ b1 + g2/ε (ε = 0.5 keeps it exact) */
  hp.centered = 1;
  hp.eps = 0.5;
  hp.momentum = 0.5;
  hp.lr = 0.25;
  o = mk(nco_optim_rmsprop, &hp, 3, x0);
  REQUIRE(o);
  CHECK_OK(nco_optim_step(o, g1, 0));
  for (int i = 0; i < 3; i++) CHECK(nco_optim_x(o)[i] == x0[i] - 0.25f * (g1[i] / 0.5f));
  CHECK_OK(nco_optim_step(o, g2, 0));
  for (int i = 0; i < 3; i++) {
    float x1 = x0[i] - 0.25f * (g1[i] / 0.5f);
    float b2 = 0.5f * (g1[i] / 0.5f) + g2[i] / 0.5f;
    CHECK(nco_optim_x(o)[i] == x1 - 0.25f * b2);
  }
  nco_optim_free(o);
}

static void test_psgd_sgld_by_hand(void) {
  const float x0[4] = {1, -2, 0.5f, 3}, g[4] = {0.5f, -1, 2, 0.25f}, zero[4] = {0};
  /* psgd with radius 0 is sgd, bitwise */
  nco_optim_params hp = nco_optim_defaults(nco_optim_psgd);
  hp.lr = 0.1;
  hp.radius = 0;
  nco_optim *a = mk(nco_optim_psgd, &hp, 4, x0);
  nco_optim_params hs = nco_optim_defaults(nco_optim_sgd);
  hs.lr = 0.1;
  nco_optim *b = mk(nco_optim_sgd, &hs, 4, x0);
  REQUIRE(a && b);
  for (int k = 0; k < 3; k++) {
    CHECK_OK(nco_optim_step(a, g, 0));
    CHECK_OK(nco_optim_step(b, g, 0));
  }
  CHECK(!memcmp(nco_optim_x(a), nco_optim_x(b), sizeof x0));
  nco_optim_free(a);
  nco_optim_free(b);

  /* with g = 0 the step is −γ r ξ, ‖ξ‖ = 1: ‖x1 − x0‖ = γ r. Rounding
   * x0 + step to float costs ≤ u|x0_i| per coordinate (≤ u‖x0‖ = 3.8u in
   * norm), the step itself ≤ 4u relative: 8u absolute covers both.
   * Seeded: same seed, same step. */
  hp.radius = 0.5;
  hp.seed = 11;
  a = mk(nco_optim_psgd, &hp, 4, x0);
  b = mk(nco_optim_psgd, &hp, 4, x0);
  REQUIRE(a && b);
  CHECK_OK(nco_optim_step(a, zero, 0));
  CHECK_OK(nco_optim_step(b, zero, 0));
  CHECK_CLOSE(nco_dist2(4, nco_optim_x(a), x0), 0.05, 8 * U32, 0);
  CHECK(!memcmp(nco_optim_x(a), nco_optim_x(b), sizeof x0));
  nco_optim_free(b);
  hp.seed = 12;
  b = mk(nco_optim_psgd, &hp, 4, x0);
  REQUIRE(b);
  CHECK_OK(nco_optim_step(b, zero, 0));
  CHECK(memcmp(nco_optim_x(a), nco_optim_x(b), sizeof x0) != 0);
  nco_optim_free(a);
  nco_optim_free(b);

  /* sgld with g = 0: x1 − x0 = √(2γ/β) ξ, ξ the optimiser rng's normals
   * (an independent generator seeded alike gives them) */
  hp = nco_optim_defaults(nco_optim_sgld);
  hp.lr = 0.02;
  hp.inv_temp = 4;
  hp.seed = 5;
  a = mk(nco_optim_sgld, &hp, 4, x0);
  REQUIRE(a);
  CHECK_OK(nco_optim_step(a, zero, 0));
  nco_rng r;
  nco_rng_seed(&r, 5);
  for (int i = 0; i < 4; i++)
    CHECK_CLOSE(nco_optim_x(a)[i], x0[i] + sqrt(2 * 0.02 / 4) * nco_rng_normal(&r),
                4 * U32 * (1 + fabs(x0[i])), 0);
  nco_optim_free(a);
}

/* ---- PyTorch fixtures ----------------------------------------------------------- */

/* Cases written by scripts/make_optim_fixtures.py (names only: the
 * hyper-parameters come from the fixture's _hp.npy). */
static const char *fixture_cases[] = {
    "sgd",     "sgd_momentum",     "sgd_nesterov", "sgd_wd_damp", "sgd_maximize",
    "adagrad", "rmsprop",          "rmsprop_centered", "adam",    "adam_l2_maximize",
    "adam_amsgrad", "adamw",       "adamw_amsgrad"};
enum { HP_METHOD, HP_LR, HP_MOMENTUM, HP_DAMPENING, HP_NESTEROV, HP_WD, HP_ALPHA, HP_CENTERED,
       HP_BETA1, HP_BETA2, HP_EPS, HP_AMSGRAD, HP_LR_DECAY, HP_INIT_ACC, HP_MAXIMIZE, HP_N };

static int read_npy(const char *name, nco_array *a) {
  int st = nco_npy_read(nco_fixture(name), a);
  if (st) fprintf(stderr, "%s\n", nco_last_error());
  return st;
}

/* Runs one fixture case on pb; returns the max |x − x_torch| over all
 * iterates and coordinates (-1 on a setup failure). */
static double run_fixture(nco_problem *pb, const char *prob, const char *cname) {
  char name[128];
  nco_array traj = {0}, hpa = {0};
  snprintf(name, sizeof name, "optim/%s_%s.npy", prob, cname);
  if (read_npy(name, &traj)) return -1;
  snprintf(name, sizeof name, "optim/%s_%s_hp.npy", prob, cname);
  if (read_npy(name, &hpa)) {
    nco_array_free(&traj);
    return -1;
  }
  double maxdev = -1;
  size_t d = pb->dim;
  const nco_optim_type *types[] = {nco_optim_sgd, nco_optim_adagrad, nco_optim_rmsprop,
                                   nco_optim_adam, nco_optim_adamw};
  const double *h = hpa.data;
  const float *ref = traj.data;
  nco_optim *o = NULL;
  if (traj.dtype != NCO_DTYPE_F32 || traj.ndim != 2 || traj.shape[1] != d || traj.shape[0] != 51 ||
      hpa.dtype != NCO_DTYPE_F64 || hpa.size != HP_N || h[HP_METHOD] < 0 || h[HP_METHOD] > 4) {
    fprintf(stderr, "%s: unexpected fixture layout\n", name);
    goto done;
  }
  const nco_optim_type *t = types[(int)h[HP_METHOD]];
  nco_optim_params hp = nco_optim_defaults(t);
  hp.lr = h[HP_LR];
  hp.momentum = h[HP_MOMENTUM];
  hp.dampening = h[HP_DAMPENING];
  hp.nesterov = (int)h[HP_NESTEROV];
  hp.weight_decay = h[HP_WD];
  hp.alpha = h[HP_ALPHA];
  hp.centered = (int)h[HP_CENTERED];
  hp.beta1 = h[HP_BETA1];
  hp.beta2 = h[HP_BETA2];
  hp.eps = h[HP_EPS];
  hp.amsgrad = (int)h[HP_AMSGRAD];
  hp.lr_decay = h[HP_LR_DECAY];
  hp.initial_accumulator_value = h[HP_INIT_ACC];
  hp.maximize = (int)h[HP_MAXIMIZE];
  if (nco_optim_create(t, d, &hp, ref, &o)) {
    fprintf(stderr, "%s: %s\n", cname, nco_last_error());
    goto done;
  }
  /* Tolerance on iterate k (1..50), per coordinate:
   *     |x_k − x_k^torch| ≤ 16·u·k·(1 + |x_k^torch|)/(1 − μ),  u = 2⁻²⁴.
   * Both sides run the same float32 update formula from the same start,
   * with gradients computed in double at the float32 iterate and rounded
   * (the fixture script does the same). One step of one coordinate is at
   * most ~8 rounded float32 operations on quantities bounded by 1 + |x|
   * (|Δx| < 1 per step at these learning rates); where the two
   * implementations round differently (operation order, PyTorch's FMA
   * contraction) each side errs by ≤ u per operation: ≤ 16u(1 + |x|) new
   * difference per step. Inherited differences do not grow: the steps are
   * non-expansive here (γL < 2 for the quadratic, L ≤ 3.41, and the GLM,
   * L ≤ ¼‖A‖² ≈ 1.6; adaptive steps are smooth in (m, v) with v bounded
   * away from 0 by g = O(1) and ε), so the differences add up over k
   * steps. Heavy-ball buffers (sgd and rmsprop momentum μ) re-apply each
   * step's difference with weights μʲ, i.e. up to 1/(1 − μ) times. */
  double mu = hp.momentum;
  int reported = 0;
  maxdev = 0;
  float *g = calloc(d, sizeof *g);
  if (!g) goto done;
  for (size_t k = 1; k <= 50; k++) {
    double loss;
    if (nco_problem_eval(pb, nco_optim_query(o), NULL, pb->n, &loss, g)) {
      maxdev = -1;
      break;
    }
    if (hp.maximize) /* the fixture's maximize cases ascend −f */
      for (size_t i = 0; i < d; i++) g[i] = -g[i];
    if (nco_optim_step(o, g, hp.maximize ? -loss : loss)) {
      fprintf(stderr, "%s: %s\n", cname, nco_last_error());
      maxdev = -1;
      break;
    }
    const float *x = nco_optim_x(o), *xr = ref + k * d;
    for (size_t i = 0; i < d; i++) {
      double dev = fabs((double)x[i] - xr[i]);
      double tol = 16 * U32 * (double)k * (1 + fabs((double)xr[i])) / (1 - mu);
      if (dev > maxdev) maxdev = dev;
      if (!(dev <= tol) && !reported) { /* the first failure of the case only */
        CHECKF(dev <= tol, "%s %s step %zu x[%zu] = %.9g, torch %.9g (|diff| %.3g > tol %.3g)", prob,
               cname, k, i, (double)x[i], (double)xr[i], dev, tol);
        reported = 1;
      }
    }
  }
  free(g);
done:
  nco_optim_free(o);
  nco_array_free(&traj);
  nco_array_free(&hpa);
  return maxdev;
}

static void test_torch_fixtures(void) {
  nco_array Q = {0}, qb = {0}, qx0 = {0}, A = {0}, gb = {0}, gx0 = {0};
  REQUIRE(!read_npy("optim/quad_Q.npy", &Q) && !read_npy("optim/quad_b.npy", &qb) &&
          !read_npy("optim/quad_x0.npy", &qx0) && !read_npy("optim/glm_A.npy", &A) &&
          !read_npy("optim/glm_b.npy", &gb) && !read_npy("optim/glm_x0.npy", &gx0));
  REQUIRE(Q.ndim == 2 && Q.shape[0] == 5 && Q.shape[1] == 5 && qb.size == 5 && A.shape[1] == 4);
  quad_impl qi = {5, Q.data, qb.data};
  nco_problem *pq = make_problem(&quad_type, &qi, 5), *pg = NULL;
  nco_act act = nco_act_make(NCO_ACT_SIGMOID);
  CHECK_OK(nco_glm_create(&A, &gb, &act, &pg));
  if (pq && pg) {
    for (size_t c = 0; c < sizeof fixture_cases / sizeof *fixture_cases; c++) {
      double dq = run_fixture(pq, "quad", fixture_cases[c]);
      double dg = run_fixture(pg, "glm", fixture_cases[c]);
      CHECKF(dq >= 0 && dg >= 0, "%s: fixture could not be run", fixture_cases[c]);
      fprintf(stderr, "  torch %-17s max |x - x_torch|: quad %.3g, glm %.3g\n", fixture_cases[c], dq, dg);
    }
  }
  nco_problem_free(pq);
  nco_problem_free(pg);
  nco_array_free(&Q);
  nco_array_free(&qb);
  nco_array_free(&qx0);
  nco_array_free(&A);
  nco_array_free(&gb);
  nco_array_free(&gx0);
}

/* ---- the papers' behaviours -------------------------------------------------- */

/* Reddi, Kale & Kumar (ICLR 2018), Thm 1: C = 3, β1 = 0, β2 = 1/(1 + C²),
 * α_t = α/√t, x ∈ [−1, 1] (box projection). Adam (no bias correction, the
 * paper's form) drifts to +1, the worst point; AMSGrad reaches ≈ −1, the
 * optimum of Σ f_t. The expectation comes from a plain double loop here. */
static double reddi_double(int ams, double alpha, uint64_t T) {
  double C = 3, b2 = 1 / (1 + C * C), v = 0, vh = 0, x = 0;
  for (uint64_t t = 1; t <= T; t++) {
    double g = t % 3 == 1 ? C : -1.0;
    v = b2 * v + (1 - b2) * g * g;
    vh = ams ? (vh > v ? vh : v) : v;
    x -= alpha / sqrt((double)t) * g / (sqrt(vh) + 1e-8);
    x = x < -1 ? -1 : x > 1 ? 1 : x;
  }
  return x;
}

static void test_reddi_counterexample(void) {
  const uint64_t T = 30000;
  const double alpha = 0.5;
  reddi_impl ri = {3, 1};
  nco_problem *pb = make_problem(&reddi_type, &ri, 1);
  REQUIRE(pb);
  for (int ams = 0; ams <= 1; ams++) {
    const nco_optim_type *t = ams ? nco_optim_amsgrad : nco_optim_adam;
    nco_optim_params hp = nco_optim_defaults(t);
    hp.beta1 = 0;
    hp.beta2 = 1.0 / (1 + 9);
    hp.reddi = 1;
    hp.lr = alpha;
    hp.projection = NCO_PROJ_BOX;
    hp.proj_lo = -1;
    hp.proj_hi = 1;
    const float x0[1] = {0};
    nco_optim *o = mk(t, &hp, 1, x0);
    if (!o) break;
    for (uint64_t k = 1; k <= T; k++) {
      ri.t = k;
      nco_optim_set_lr(o, alpha / sqrt((double)k));
      int st = nco_optim_iterate(o, pb, NULL, 1, NULL, NULL);
      if (st) {
        CHECK_OK(st);
        break;
      }
    }
    double x = nco_optim_x(o)[0], want = reddi_double(ams, alpha, T);
    /* float32 vs double: each step rounds x and the update (≤ 4u each,
     * |x| ≤ 1, |Δ| ≤ α), so after T steps |diff| ≤ 4u·T(1 + α) ≈ 1e-2 at
     * worst (random rounding gives ~√T·u in practice). */
    CHECK_CLOSE(x, want, 4 * U32 * (double)T * (1 + alpha), 0);
    if (ams)
      CHECKF(x < -0.99, "amsgrad ends at %g", x);
    else
      CHECKF(x > 0.99, "adam ends at %g", x);
    fprintf(stderr, "  reddi %s: x_T = %.6f (double loop %.6f)\n", t == nco_optim_adam ? "adam" : "amsgrad",
            x, want);
    nco_optim_free(o);
  }
  nco_problem_free(pb);
}

/* f(x, y) = x² − y² + y⁴/4 from the strict saddle (0, 0): GD's gradient is
 * exactly 0 there so it never moves (Lee et al. 2019 need a random start);
 * PSGD's perturbation escapes (Ge et al. 2015; Cevher L9) and settles at a
 * minimum (0, ±√2), f = −1. At γ = 0.05, r = 0.1 the iterate fluctuates
 * around the minimum with per-coordinate variance ≈ γr²/(4h) (h = 2, 4 the
 * curvatures): standard deviation < 0.01, so the bounds below are ≥ 5σ. */
static void test_psgd_escapes_saddle(void) {
  nco_problem *pb = make_problem(&saddle_type, NULL, 2);
  REQUIRE(pb);
  const float x0[2] = {0, 0};
  nco_optim_params hp = nco_optim_defaults(nco_optim_sgd);
  hp.lr = 0.05;
  nco_optim *gd = mk(nco_optim_sgd, &hp, 2, x0);
  hp = nco_optim_defaults(nco_optim_psgd);
  hp.lr = 0.05;
  hp.radius = 0.1;
  hp.seed = 3;
  nco_optim *ps = mk(nco_optim_psgd, &hp, 2, x0);
  REQUIRE(gd && ps);
  double fg = 0, fp = 0;
  for (int k = 0; k < 2000; k++) {
    CHECK_OK(nco_optim_iterate(gd, pb, NULL, 1, &fg, NULL));
    CHECK_OK(nco_optim_iterate(ps, pb, NULL, 1, &fp, NULL));
  }
  const float *xg = nco_optim_x(gd), *xp = nco_optim_x(ps);
  CHECK(xg[0] == 0 && xg[1] == 0 && fg == 0);
  CHECKF(fabs(xp[0]) < 0.05 && fabs(fabs(xp[1]) - sqrt(2)) < 0.05 && fp < -0.99,
         "psgd ends at (%g, %g), f = %g", xp[0], xp[1], fp);
  nco_optim_free(gd);
  nco_optim_free(ps);
  nco_problem_free(pb);
}

/* SGLD on f = ½·a·‖x‖² at inverse temperature β: each coordinate is the
 * AR(1) chain x' = ρx + σξ, ρ = 1 − γa, σ² = 2γ/β (Euler–Maruyama for the
 * Ornstein–Uhlenbeck process), whose stationary variance is
 *     σ²/(1 − ρ²) = 1/(βa(1 − γa/2))
 * (0.1389 at a = 4, β = 2, γ = 0.05; the continuous 1/(βa) = 0.125 is
 * 10% off, and the test distinguishes them). The estimate is the mean of
 * x² over d = 64 independent coordinates and N = 20000 steps after a
 * burn-in of 500 (ρ^1000 ≈ 1e-97). For a Gaussian AR(1), x² has lag-j
 * correlation ρ^{2j}, so the integrated autocorrelation time is
 * τ = (1 + ρ²)/(1 − ρ²) = 4.56 and the relative standard error of the
 * mean is √(2τ/(dN)) = 2.7e-3; tolerance 5 standard errors = 1.33%. */
static void test_sgld_variance(void) {
  const double a = 4, beta = 2, gamma = 0.05;
  const size_t d = 64, burn = 500, N = 20000;
  double aa = a;
  nco_problem *pb = make_problem(&diag_type, &aa, d);
  REQUIRE(pb);
  float x0[64] = {0};
  nco_optim_params hp = nco_optim_defaults(nco_optim_sgld);
  hp.lr = gamma;
  hp.inv_temp = beta;
  hp.seed = 2024;
  nco_optim *o = mk(nco_optim_sgld, &hp, d, x0);
  REQUIRE(o);
  double s2 = 0;
  for (size_t k = 0; k < burn + N; k++) {
    CHECK_OK(nco_optim_iterate(o, pb, NULL, 1, NULL, NULL));
    if (k >= burn) s2 += nco_dot(d, nco_optim_x(o), nco_optim_x(o));
  }
  double var = s2 / (double)(d * N), want = 1 / (beta * a * (1 - gamma * a / 2));
  double rho = 1 - gamma * a, tau = (1 + rho * rho) / (1 - rho * rho);
  double se = sqrt(2 * tau / (double)(d * N));
  CHECK_CLOSE(var, want, 0, 5 * se);
  CHECK(fabs(var - 1 / (beta * a)) > 20 * se * want); /* not the continuous value */
  fprintf(stderr, "  sgld variance %.5f, discrete-chain value %.5f (rel. s.e. %.2g)\n", var, want, se);
  nco_optim_free(o);
  nco_problem_free(pb);
}

/* ---- projection ------------------------------------------------------------- */

static void test_projection(void) {
  const float x0[2] = {0.5f, -0.5f}, g[2] = {-10, 10};
  nco_optim_params hp = nco_optim_defaults(nco_optim_sgd);
  hp.lr = 1;
  hp.projection = NCO_PROJ_BOX;
  hp.proj_lo = -1;
  hp.proj_hi = 2;
  nco_optim *o = mk(nco_optim_sgd, &hp, 2, x0);
  REQUIRE(o);
  CHECK_OK(nco_optim_step(o, g, 0));
  CHECK(nco_optim_x(o)[0] == 2 && nco_optim_x(o)[1] == -1);
  nco_optim_free(o);
  /* ball of radius 1 around x0: x0 + (−γg)/‖γg‖ */
  hp.projection = NCO_PROJ_BALL;
  hp.proj_radius = 1;
  o = mk(nco_optim_sgd, &hp, 2, x0);
  REQUIRE(o);
  CHECK_OK(nco_optim_step(o, g, 0));
  CHECK_CLOSE(nco_optim_x(o)[0], 0.5 + 1 / sqrt(2), 0, 4 * U32);
  CHECK_CLOSE(nco_optim_x(o)[1], -0.5 - 1 / sqrt(2), 0, 4 * U32);
  nco_optim_free(o);
  /* ball around 0 */
  hp.proj_center_start = 0;
  hp.proj_radius = 0.5;
  const float gz[2] = {0, 0};
  o = mk(nco_optim_sgd, &hp, 2, x0);
  REQUIRE(o);
  CHECK_OK(nco_optim_step(o, gz, 0));
  CHECK_CLOSE(nco_nrm2(2, nco_optim_x(o)), 0.5, 0, 4 * U32);
  nco_optim_free(o);
}

/* ---- contract: refusal, validation ----------------------------------------------- */

static void test_nonfinite_refused(void) {
  const float x0[5] = {1, 2, 3, 4, 5};
  float g[5] = {0.1f, 0.2f, NAN, 0.4f, INFINITY};
  for (size_t ti = 0; nco_optim_types[ti]; ti++) {
    const nco_optim_type *t = nco_optim_types[ti];
    if (!nco_optim_type_is_ask_tell(t)) continue;
    nco_optim_params hp = nco_optim_defaults(t);
    nco_optim *o = mk(t, &hp, 5, x0);
    if (!o) continue;
    const float good[5] = {1, 1, 1, 1, 1};
    CHECK_OK(nco_optim_step(o, good, 1.0));
    size_t sz = nco_optim_state_size(o);
    unsigned char *s0 = malloc(sz), *s1 = malloc(sz);
    float xb[5];
    memcpy(xb, nco_optim_x(o), sizeof xb);
    if (s0 && s1) {
      CHECK_OK(nco_optim_save(o, s0, sz));
      CHECK_ERR(nco_optim_step(o, g, 1.0), NCO_ERR_NONFINITE, "grad[2] = nan");
      CHECK_ERR(nco_optim_step(o, good, INFINITY), NCO_ERR_NONFINITE, "loss = inf");
      CHECK_ERR(nco_optim_step(o, good, NAN), NCO_ERR_NONFINITE, "loss = nan");
      CHECK_OK(nco_optim_save(o, s1, sz));
      CHECKF(!memcmp(s0, s1, sz), "%s: state changed by a refused step", nco_optim_type_name(t));
      CHECK(!memcmp(xb, nco_optim_x(o), sizeof xb));
      CHECK(nco_optim_steps(o) == 1);
    }
    free(s0);
    free(s1);
    nco_optim_free(o);
  }
  /* a long vector: the chunked check finds the first bad index */
  size_t n = 3 * 32768 + 5;
  float *xl = calloc(n, sizeof *xl), *gl = calloc(n, sizeof *gl);
  REQUIRE(xl && gl);
  gl[70001] = -INFINITY;
  gl[90000] = NAN;
  nco_optim_params hp = nco_optim_defaults(nco_optim_adam);
  nco_optim *o = mk(nco_optim_adam, &hp, n, xl);
  if (o) {
    CHECK_ERR(nco_optim_step(o, gl, 0), NCO_ERR_NONFINITE, "grad[70001] = -inf");
    gl[70001] = 0;
    gl[90000] = 0;
    gl[n - 1] = NAN;
    CHECK_ERR(nco_optim_step(o, gl, 0), NCO_ERR_NONFINITE, "grad[98308] = nan");
    CHECK(nco_optim_steps(o) == 0 && nco_amax(n, nco_optim_x(o)) == 0);
    nco_optim_free(o);
  }
  free(xl);
  free(gl);
  /* not ask/tell */
  hp = nco_optim_defaults(nco_optim_lbfgs);
  o = mk(nco_optim_lbfgs, &hp, 5, x0);
  if (o) {
    const float good[5] = {1, 1, 1, 1, 1};
    CHECK_ERR(nco_optim_step(o, good, 0), NCO_ERR_UNSUPPORTED, "lbfgs");
    nco_optim_free(o);
  }
}

static void test_invalid_hyperparameters(void) {
  const float x0[2] = {0, 1}, xbad[2] = {0, NAN};
  nco_optim *o = NULL;
  nco_optim_params hp;
#define BAD(type, field, value, status, needle)                     \
  do {                                                              \
    hp = nco_optim_defaults(type);                                  \
    hp.field = value;                                               \
    o = NULL;                                                       \
    CHECK_ERR(nco_optim_create(type, 2, &hp, x0, &o), status, needle); \
    CHECK(o == NULL);                                               \
  } while (0)
  BAD(nco_optim_sgd, lr, -1, NCO_ERR_RANGE, "optimizer.lr = -1");
  BAD(nco_optim_sgd, lr, 0, NCO_ERR_RANGE, "optimizer.lr = 0");
  BAD(nco_optim_adam, lr, NAN, NCO_ERR_RANGE, "optimizer.lr = nan");
  BAD(nco_optim_sgd, weight_decay, -0.5, NCO_ERR_RANGE, "optimizer.weight_decay = -0.5");
  BAD(nco_optim_sgd, maximize, 2, NCO_ERR_RANGE, "optimizer.maximize = 2");
  BAD(nco_optim_sgd, momentum, 1, NCO_ERR_RANGE, "optimizer.momentum = 1");
  BAD(nco_optim_sgd, dampening, 1.5, NCO_ERR_RANGE, "optimizer.dampening = 1.5");
  BAD(nco_optim_sgd, nesterov, 1, NCO_ERR_INVALID, "optimizer.nesterov = 1: needs momentum > 0");
  BAD(nco_optim_sgd, nesterov, 3, NCO_ERR_RANGE, "optimizer.nesterov = 3");
  BAD(nco_optim_rmsprop, alpha, 1, NCO_ERR_RANGE, "optimizer.alpha = 1");
  BAD(nco_optim_rmsprop, centered, 2, NCO_ERR_RANGE, "optimizer.centered = 2");
  BAD(nco_optim_rmsprop, momentum, -0.1, NCO_ERR_RANGE, "optimizer.momentum = -0.1");
  BAD(nco_optim_rmsprop, eps, 0, NCO_ERR_RANGE, "optimizer.eps = 0");
  BAD(nco_optim_adam, beta1, 1, NCO_ERR_RANGE, "optimizer.beta1 = 1");
  BAD(nco_optim_adamw, beta2, -0.25, NCO_ERR_RANGE, "optimizer.beta2 = -0.25");
  BAD(nco_optim_adam, eps, -1, NCO_ERR_RANGE, "optimizer.eps = -1");
  BAD(nco_optim_adam, amsgrad, 2, NCO_ERR_RANGE, "optimizer.amsgrad = 2");
  BAD(nco_optim_amsgrad, amsgrad, 0, NCO_ERR_INVALID, "optimizer.amsgrad = 0");
  BAD(nco_optim_adam, reddi, 7, NCO_ERR_RANGE, "optimizer.reddi = 7");
  BAD(nco_optim_adagrad, lr_decay, -1, NCO_ERR_RANGE, "optimizer.lr_decay = -1");
  BAD(nco_optim_adagrad, initial_accumulator_value, -2, NCO_ERR_RANGE,
      "optimizer.initial_accumulator_value = -2");
  BAD(nco_optim_adagrad, eps, INFINITY, NCO_ERR_RANGE, "optimizer.eps = inf");
  BAD(nco_optim_adagrad_norm, eps, 0, NCO_ERR_RANGE, "optimizer.eps = 0");
  BAD(nco_optim_psgd, radius, -1, NCO_ERR_RANGE, "optimizer.radius = -1");
  BAD(nco_optim_sgld, inv_temp, 0, NCO_ERR_RANGE, "optimizer.inv_temp = 0");
  BAD(nco_optim_sgd, projection, (nco_projection)7, NCO_ERR_RANGE, "optimizer.projection = 7");
#undef BAD
  hp = nco_optim_defaults(nco_optim_sgd);
  hp.projection = NCO_PROJ_BOX;
  hp.proj_lo = 2;
  hp.proj_hi = 1;
  CHECK_ERR(nco_optim_create(nco_optim_sgd, 2, &hp, x0, &o), NCO_ERR_RANGE, "optimizer.proj_lo = 2");
  hp.proj_lo = NAN;
  CHECK_ERR(nco_optim_create(nco_optim_sgd, 2, &hp, x0, &o), NCO_ERR_RANGE, "optimizer.proj_lo = nan");
  hp = nco_optim_defaults(nco_optim_sgd);
  hp.projection = NCO_PROJ_BALL;
  hp.proj_radius = 0;
  CHECK_ERR(nco_optim_create(nco_optim_sgd, 2, &hp, x0, &o), NCO_ERR_RANGE, "optimizer.proj_radius = 0");
  hp.proj_radius = 1;
  hp.proj_center_start = 5;
  CHECK_ERR(nco_optim_create(nco_optim_sgd, 2, &hp, x0, &o), NCO_ERR_RANGE,
            "optimizer.proj_center_start = 5");
  hp = nco_optim_defaults(nco_optim_sgd);
  CHECK_ERR(nco_optim_create(nco_optim_sgd, 0, &hp, x0, &o), NCO_ERR_INVALID, "dim = 0");
  CHECK_ERR(nco_optim_create(nco_optim_sgd, 2, &hp, xbad, &o), NCO_ERR_NONFINITE, "x0[1] = nan");
  CHECK_ERR(nco_optim_create(nco_optim_sgd, 2, &hp, NULL, &o), NCO_ERR_INVALID, "x0 is NULL");
  CHECK_ERR(nco_optim_create(NULL, 2, &hp, x0, &o), NCO_ERR_INVALID, "method is NULL");
  CHECK_ERR(nco_optim_create(nco_optim_adam, SIZE_MAX / 2, NULL, x0, &o), NCO_ERR_OVERFLOW, "dim");
  /* lr set later must be finite and ≥ 0 */
  REQUIRE_OK(nco_optim_create(nco_optim_sgd, 2, &hp, x0, &o));
  nco_optim_set_lr(o, 0.5);
  CHECK(nco_optim_get_lr(o) == 0.5);
  nco_optim_set_lr(o, -1);
  const float g[2] = {1, 1};
  CHECK_ERR(nco_optim_step(o, g, 0), NCO_ERR_RANGE, "lr = -1");
  nco_optim_free(o);
  nco_optim_free(NULL);
}

/* ---- save / load ------------------------------------------------------------------ */

static void test_save_load_bitwise(void) {
  static const float Q[16] = {2, 0.5f, 0, 0.25f, 0.5f, 1.5f, 0.25f, 0, 0, 0.25f, 1, 0.125f, 0.25f, 0, 0.125f, 0.75f};
  static const float b[4] = {1, -1, 0.5f, 2};
  quad_impl qi = {4, Q, b};
  nco_problem *pb = make_problem(&quad_type, &qi, 4);
  REQUIRE(pb);
  const float x0[4] = {1, -2, 0.5f, 3}, x0b[4] = {9, 9, 9, 9};
  for (size_t ti = 0; nco_optim_types[ti]; ti++) {
    const nco_optim_type *t = nco_optim_types[ti];
    if (!nco_optim_type_is_ask_tell(t)) continue;
    for (int variant = 0; variant < 2; variant++) {
      nco_optim_params hp = nco_optim_defaults(t);
      hp.lr = 0.05;
      hp.seed = 77;
      hp.weight_decay = t == nco_optim_rgd ? 0 : 0.01; /* rgd refuses L2 (constant on the sphere) */
      if (variant) { /* the stateful options */
        hp.momentum = 0.9;
        hp.centered = 1;
        hp.amsgrad = 1;
        hp.reddi = t == nco_optim_adam;
        hp.initial_accumulator_value = 0.1;
      }
      nco_optim *a = mk(t, &hp, 4, x0), *c = mk(t, &hp, 4, x0b);
      if (!a || !c) {
        nco_optim_free(a);
        nco_optim_free(c);
        continue;
      }
      for (int k = 0; k < 10; k++) CHECK_OK(nco_optim_iterate(a, pb, NULL, 1, NULL, NULL));
      size_t sz = nco_optim_state_size(a);
      unsigned char *s = malloc(sz), *sa = malloc(sz), *sc = malloc(sz);
      if (s && sa && sc) {
        CHECK_OK(nco_optim_save(a, s, sz));
        for (int k = 0; k < 10; k++) CHECK_OK(nco_optim_iterate(a, pb, NULL, 1, NULL, NULL));
        CHECK_OK(nco_optim_load(c, s, sz));
        for (int k = 0; k < 10; k++) CHECK_OK(nco_optim_iterate(c, pb, NULL, 1, NULL, NULL));
        CHECKF(!memcmp(nco_optim_x(a), nco_optim_x(c), sizeof x0), "%s variant %d: x differs", nco_optim_type_name(t),
               variant);
        CHECK_OK(nco_optim_save(a, sa, sz));
        CHECK_OK(nco_optim_save(c, sc, sz));
        CHECKF(!memcmp(sa, sc, sz), "%s variant %d: state differs", nco_optim_type_name(t), variant);
        CHECK(nco_optim_steps(c) == 20);
        /* refusals: truncated, corrupted, other method / dim / layout */
        CHECK_ERR(nco_optim_load(c, s, sz - 1), NCO_ERR_FORMAT, "expected");
        CHECK_ERR(nco_optim_load(c, s, 10), NCO_ERR_FORMAT, "shorter than the state header");
        s[0] = 'X';
        CHECK_ERR(nco_optim_load(c, s, sz), NCO_ERR_FORMAT, "magic");
        s[0] = 'N';
        s[4] ^= 0x40; /* version */
        CHECK_ERR(nco_optim_load(c, s, sz), NCO_ERR_FORMAT, "version");
        s[4] ^= 0x40;
        CHECK_OK(nco_optim_save(c, sc, sz));
        CHECK(!memcmp(sa, sc, sz)); /* c untouched by the refused loads */
      }
      free(s);
      free(sa);
      free(sc);
      nco_optim_free(a);
      nco_optim_free(c);
    }
  }
  /* method, dim and layout mismatches */
  nco_optim_params hp = nco_optim_defaults(nco_optim_adam);
  nco_optim *a = mk(nco_optim_adam, &hp, 4, x0), *s2 = NULL, *d3 = NULL, *ams = NULL;
  hp = nco_optim_defaults(nco_optim_sgd);
  s2 = mk(nco_optim_sgd, &hp, 4, x0);
  hp = nco_optim_defaults(nco_optim_adam);
  d3 = mk(nco_optim_adam, &hp, 3, x0);
  hp.amsgrad = 1;
  ams = mk(nco_optim_adam, &hp, 4, x0);
  if (a && s2 && d3 && ams) {
    size_t sz = nco_optim_state_size(a);
    unsigned char *s = malloc(sz);
    if (s) {
      CHECK_OK(nco_optim_save(a, s, sz));
      CHECK_ERR(nco_optim_save(a, s, sz - 1), NCO_ERR_SHAPE, "needs");
      CHECK_ERR(nco_optim_load(s2, s, sz), NCO_ERR_FORMAT, "method 'adam'");
      CHECK_ERR(nco_optim_load(d3, s, sz), NCO_ERR_FORMAT, "dim 4");
      CHECK_ERR(nco_optim_load(ams, s, sz), NCO_ERR_FORMAT, "floats");
    }
    free(s);
  }
  nco_optim_free(a);
  nco_optim_free(s2);
  nco_optim_free(d3);
  nco_optim_free(ams);
  nco_problem_free(pb);
}

/* iterate = query, evaluate, step; iterate with grad returns the gradient */
static void test_iterate_matches_step(void) {
  static const float Q[4] = {2, 0.5f, 0.5f, 1};
  static const float b[2] = {1, -1};
  quad_impl qi = {2, Q, b};
  nco_problem *pb = make_problem(&quad_type, &qi, 2);
  REQUIRE(pb);
  const float x0[2] = {1, 2};
  nco_optim_params hp = nco_optim_defaults(nco_optim_adam);
  hp.lr = 0.1;
  nco_optim *a = mk(nco_optim_adam, &hp, 2, x0), *c = mk(nco_optim_adam, &hp, 2, x0);
  REQUIRE(a && c);
  for (int k = 0; k < 5; k++) {
    float g[2], gi[2];
    double f, fi;
    CHECK_OK(nco_problem_eval(pb, nco_optim_query(a), NULL, 1, &f, g));
    CHECK_OK(nco_optim_step(a, g, f));
    CHECK_OK(nco_optim_iterate(c, pb, NULL, 1, &fi, gi));
    CHECK(f == fi && !memcmp(g, gi, sizeof g));
  }
  CHECK(!memcmp(nco_optim_x(a), nco_optim_x(c), 2 * sizeof(float)));
  /* dimension mismatch */
  nco_optim *d3 = mk(nco_optim_adam, &hp, 1, x0);
  if (d3) CHECK_ERR(nco_optim_iterate(d3, pb, NULL, 1, NULL, NULL), NCO_ERR_SHAPE, "dim");
  nco_optim_free(d3);
  nco_optim_free(a);
  nco_optim_free(c);
  nco_problem_free(pb);
}

/* The SIMD lanes and the scalar tail perform the same IEEE operations: with
 * every coordinate fed the same start and gradients, all coordinates of a
 * 37-vector (9 blocks of 4 and a tail of 1) stay bitwise equal. */
static void test_simd_matches_scalar(void) {
  enum { D = 37 };
  float x0[D], g[D];
  const float gs[5] = {0.75f, -1.25f, 0.3f, 2.5f, -0.1f};
  for (int i = 0; i < D; i++) x0[i] = 0.7f;
  for (size_t ti = 0; nco_optim_types[ti]; ti++) {
    const nco_optim_type *t = nco_optim_types[ti];
    if (!nco_optim_type_is_ask_tell(t) || t == nco_optim_psgd || t == nco_optim_sgld) continue;
    for (int variant = 0; variant < 2; variant++) {
      nco_optim_params hp = nco_optim_defaults(t);
      hp.lr = 0.05;
      if (variant && t != nco_optim_rgd) {
        hp.weight_decay = 0.1;
        hp.momentum = 0.9;
        hp.nesterov = t == nco_optim_sgd;
        hp.centered = 1;
        hp.amsgrad = 1;
        hp.maximize = 1;
        hp.lr_decay = 0.1;
      }
      nco_optim *o = mk(t, &hp, D, x0);
      if (!o) continue;
      for (int k = 0; k < 5; k++) {
        for (int i = 0; i < D; i++) g[i] = gs[k];
        CHECK_OK(nco_optim_step(o, g, 0));
      }
      const float *x = nco_optim_x(o);
      int same = 1;
      for (int i = 0; i < D; i++) same &= !memcmp(&x[i], &x[D - 1], sizeof(float));
      CHECKF(same, "%s variant %d: lanes differ from the scalar tail", nco_optim_type_name(t), variant);
      nco_optim_free(o);
    }
  }
}

/* ---- schedules ---------------------------------------------------------------------- */

static void test_schedules(void) {
  nco_schedule s = nco_schedule_defaults(NCO_SCHED_CONSTANT, 0.1);
  CHECK_OK(nco_schedule_validate(&s));
  CHECK(nco_schedule_lr(&s, 0) == 0.1 && nco_schedule_lr(&s, 12345) == 0.1);
  s = nco_schedule_defaults(NCO_SCHED_INV, 1);
  CHECK(nco_schedule_lr(&s, 0) == 1 && nco_schedule_lr(&s, 3) == 0.25);
  s.k0 = 2;
  CHECK(nco_schedule_lr(&s, 2) == 0.25);
  s = nco_schedule_defaults(NCO_SCHED_INV_SQRT, 1);
  CHECK(nco_schedule_lr(&s, 0) == 1 && nco_schedule_lr(&s, 3) == 0.5 && nco_schedule_lr(&s, 15) == 0.25);
  s = nco_schedule_defaults(NCO_SCHED_STEP, 1);
  s.step_size = 10;
  s.gamma = 0.5;
  CHECK(nco_schedule_lr(&s, 9) == 1 && nco_schedule_lr(&s, 10) == 0.5 && nco_schedule_lr(&s, 25) == 0.25);
  s = nco_schedule_defaults(NCO_SCHED_COSINE, 1);
  s.T = 100;
  s.lr_min = 0.1;
  CHECK(nco_schedule_lr(&s, 0) == 1);
  CHECK_CLOSE(nco_schedule_lr(&s, 50), 0.55, 1e-15, 0);
  CHECK_CLOSE(nco_schedule_lr(&s, 100), 0.1, 1e-15, 0);
  CHECK_CLOSE(nco_schedule_lr(&s, 500), 0.1, 1e-15, 0);
  CHECK_CLOSE(nco_schedule_lr(&s, 25), 0.1 + 0.9 * (1 + sqrt(0.5)) / 2, 1e-15, 0);
  s = nco_schedule_defaults(NCO_SCHED_COOLDOWN, 1);
  s.K = 10;
  CHECK(nco_schedule_lr(&s, 0) == 1 && nco_schedule_lr(&s, 9) == 1 && nco_schedule_lr(&s, 10) == 1 &&
        nco_schedule_lr(&s, 20) == 0.5 && nco_schedule_lr(&s, 40) == 0.25);
  /* warm-up multiplies any kind by (k + 1)/warmup for k < warmup */
  s = nco_schedule_defaults(NCO_SCHED_CONSTANT, 1);
  s.warmup = 4;
  CHECK(nco_schedule_lr(&s, 0) == 0.25 && nco_schedule_lr(&s, 1) == 0.5 && nco_schedule_lr(&s, 3) == 1 &&
        nco_schedule_lr(&s, 4) == 1);
  s = nco_schedule_defaults(NCO_SCHED_INV, 1);
  s.warmup = 4;
  CHECK(nco_schedule_lr(&s, 1) == 0.25 && nco_schedule_lr(&s, 7) == 0.125);
  /* defaults */
  s = nco_schedule_defaults(NCO_SCHED_STEP, 0.3);
  CHECK(s.c == 0.3 && s.k0 == 1 && s.step_size == 100 && s.gamma == 0.1 && s.T == 1000 && s.lr_min == 0 &&
        s.K == 1000 && s.warmup == 0);
  /* validation: each field its own message */
  s = nco_schedule_defaults(NCO_SCHED_CONSTANT, 0);
  CHECK_ERR(nco_schedule_validate(&s), NCO_ERR_RANGE, "schedule.c = 0");
  s = nco_schedule_defaults(NCO_SCHED_INV, 1);
  s.k0 = 0;
  CHECK_ERR(nco_schedule_validate(&s), NCO_ERR_RANGE, "schedule.k0 = 0");
  s = nco_schedule_defaults(NCO_SCHED_INV_SQRT, 1);
  s.k0 = -1;
  CHECK_ERR(nco_schedule_validate(&s), NCO_ERR_RANGE, "schedule.k0 = -1");
  s = nco_schedule_defaults(NCO_SCHED_STEP, 1);
  s.step_size = 0;
  CHECK_ERR(nco_schedule_validate(&s), NCO_ERR_RANGE, "schedule.step_size = 0");
  s.step_size = 5;
  s.gamma = 1.5;
  CHECK_ERR(nco_schedule_validate(&s), NCO_ERR_RANGE, "schedule.gamma = 1.5");
  s = nco_schedule_defaults(NCO_SCHED_COSINE, 1);
  s.T = 0;
  CHECK_ERR(nco_schedule_validate(&s), NCO_ERR_RANGE, "schedule.T = 0");
  s.T = 10;
  s.lr_min = 2;
  CHECK_ERR(nco_schedule_validate(&s), NCO_ERR_RANGE, "schedule.lr_min = 2");
  s = nco_schedule_defaults(NCO_SCHED_COOLDOWN, 1);
  s.K = 0;
  CHECK_ERR(nco_schedule_validate(&s), NCO_ERR_RANGE, "schedule.K = 0");
  s = nco_schedule_defaults((nco_schedule_kind)99, 1);
  CHECK_ERR(nco_schedule_validate(&s), NCO_ERR_RANGE, "schedule.kind = 99");
  /* names */
  for (int k = NCO_SCHED_CONSTANT; k <= NCO_SCHED_COOLDOWN; k++) {
    nco_schedule_kind back;
    CHECK_OK(nco_schedule_parse(nco_schedule_name((nco_schedule_kind)k), &back));
    CHECK(back == (nco_schedule_kind)k);
  }
  nco_schedule_kind kk;
  CHECK_ERR(nco_schedule_parse("linear", &kk), NCO_ERR_INVALID, "schedule = linear");
  CHECK(!strcmp(nco_schedule_name(NCO_SCHED_INV_SQRT), "inv_sqrt"));
}

int main(void) {
  RUN(test_problem_gradients);
  RUN(test_registry);
  RUN(test_sgd_by_hand);
  RUN(test_adam_by_hand);
  RUN(test_adagrad_rmsprop_by_hand);
  RUN(test_psgd_sgld_by_hand);
  RUN(test_torch_fixtures);
  RUN(test_reddi_counterexample);
  RUN(test_psgd_escapes_saddle);
  RUN(test_sgld_variance);
  RUN(test_projection);
  RUN(test_nonfinite_refused);
  RUN(test_invalid_hyperparameters);
  RUN(test_save_load_bitwise);
  RUN(test_iterate_matches_step);
  RUN(test_simd_matches_scalar);
  RUN(test_schedules);
  return nco_test_summary();
}
