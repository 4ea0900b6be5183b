/* tests/test_reg.c — the ℓ2 and invex wrappers (src/reg/).
 *
 * Derivatives of both wrappers (gradient, JVP/VJP, HVP) over local test
 * types and the zoo's linear_ls and glm, full batch and minibatch with a
 * repeated index, SUM and MEAN; the invex layout; loss_unreg and init;
 * Crane & Roosta's Theorem 1 (GD on the lifted linear least squares reaches
 * the ridge solution), Theorem 2(ii) (PL inequality), a Corollary 1-style
 * rate; the ℓ2 ridge closed form; and bad input.
 *
 * Reference values come from dense double computations written here
 * (Cholesky, power iteration), never from ncopt.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

/* ======================================================================
 * Local problem types. They keep this test self-contained and cover what
 * the zoo does not: m = 2 residuals per sample, an extra residual not tied
 * to a sample, a least-squares type without rhvp, a non-least-squares
 * type.
 * ====================================================================== */

typedef struct tloc {
  size_t n, d;
  float *A;    /* (n, d) */
  float *b;    /* (n) */
  float *c;    /* (n) */
  double *acc; /* (d) accumulator */
} tloc;

static void tloc_destroy(void *impl) {
  tloc *t = impl;
  if (!t) return;
  free(t->A), free(t->b), free(t->c), free(t->acc), free(t);
}

static double rowdot(const tloc *t, size_t i, const float *x) {
  double s = 0;
  for (size_t j = 0; j < t->d; j++) s += (double)t->A[i * t->d + j] * x[j];
  return s;
}

/* --- "ttanh": m = 2, m_extra = 1 ---------------------------------------
 *   g_{s,0} = tanh(a_sᵀx) − b_s,  g_{s,1} = 0.1·(a_sᵀx)² − c_s,
 *   extra   e = ½(‖x‖² − 1). */
static int tt_res(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *r) {
  const tloc *t = pb->impl;
  double xx = 0;
  for (size_t s = 0; s < nb; s++) {
    double z = rowdot(t, idx[s], x);
    r[2 * s] = tanh(z) - t->b[idx[s]];
    r[2 * s + 1] = 0.1 * z * z - t->c[idx[s]];
  }
  for (size_t j = 0; j < t->d; j++) xx += (double)x[j] * x[j];
  r[2 * nb] = 0.5 * (xx - 1);
  return NCO_OK;
}

static int tt_jvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *u,
                  float *ju) {
  const tloc *t = pb->impl;
  for (size_t s = 0; s < nb; s++) {
    double z = rowdot(t, idx[s], x), au = rowdot(t, idx[s], u), th = tanh(z);
    ju[2 * s] = (float)((1 - th * th) * au);
    ju[2 * s + 1] = (float)(0.2 * z * au);
  }
  double xu = 0;
  for (size_t j = 0; j < t->d; j++) xu += (double)x[j] * u[j];
  ju[2 * nb] = (float)xu;
  return NCO_OK;
}

static int tt_vjp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v,
                  float *jtv) {
  tloc *t = pb->impl;
  for (size_t j = 0; j < t->d; j++) t->acc[j] = (double)v[2 * nb] * x[j];
  for (size_t s = 0; s < nb; s++) {
    double z = rowdot(t, idx[s], x), th = tanh(z);
    double cf = (1 - th * th) * v[2 * s] + 0.2 * z * v[2 * s + 1];
    for (size_t j = 0; j < t->d; j++) t->acc[j] += cf * t->A[idx[s] * t->d + j];
  }
  for (size_t j = 0; j < t->d; j++) jtv[j] = (float)t->acc[j];
  return NCO_OK;
}

/* Σ w ∇²g u: tanh'' = −2 tanh (1 − tanh²); (0.1 z²)'' = 0.2; e'' = I. */
static int tt_rhvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *w,
                   const float *u, float *out) {
  tloc *t = pb->impl;
  for (size_t j = 0; j < t->d; j++) t->acc[j] = (double)w[2 * nb] * u[j];
  for (size_t s = 0; s < nb; s++) {
    double z = rowdot(t, idx[s], x), th = tanh(z), au = rowdot(t, idx[s], u);
    double cf = (w[2 * s] * (-2 * th * (1 - th * th)) + w[2 * s + 1] * 0.2) * au;
    for (size_t j = 0; j < t->d; j++) t->acc[j] += cf * t->A[idx[s] * t->d + j];
  }
  for (size_t j = 0; j < t->d; j++) out[j] = (float)t->acc[j];
  return NCO_OK;
}

static const nco_problem_type ttanh_type = {.name = "ttanh",
                                            .residual64 = tt_res,
                                            .jvp = tt_jvp,
                                            .vjp = tt_vjp,
                                            .rhvp = tt_rhvp,
                                            .destroy = tloc_destroy};
/* the same residuals without rhvp: the wrappers fall back to differences */
static const nco_problem_type ttanh_norhvp_type = {
    .name = "ttanh_norhvp", .residual64 = tt_res, .jvp = tt_jvp, .vjp = tt_vjp, .destroy = tloc_destroy};

/* --- "tlin": g = Ax − b, m = 1 (an independent linear least squares) --- */
static int tl_res(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *r) {
  const tloc *t = pb->impl;
  for (size_t s = 0; s < nb; s++) r[s] = rowdot(t, idx[s], x) - t->b[idx[s]];
  return NCO_OK;
}
static int tl_jvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *u,
                  float *ju) {
  (void)x;
  for (size_t s = 0; s < nb; s++) ju[s] = (float)rowdot(pb->impl, idx[s], u);
  return NCO_OK;
}
static int tl_vjp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v,
                  float *jtv) {
  tloc *t = pb->impl;
  (void)x;
  memset(t->acc, 0, t->d * sizeof *t->acc);
  for (size_t s = 0; s < nb; s++)
    for (size_t j = 0; j < t->d; j++) t->acc[j] += (double)v[s] * t->A[idx[s] * t->d + j];
  for (size_t j = 0; j < t->d; j++) jtv[j] = (float)t->acc[j];
  return NCO_OK;
}
static int tl_rhvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *w,
                   const float *u, float *out) {
  (void)x, (void)idx, (void)nb, (void)w, (void)u;
  memset(out, 0, pb->dim * sizeof *out);
  return NCO_OK;
}
static const nco_problem_type tlin_type = {.name = "tlin",
                                           .residual64 = tl_res,
                                           .jvp = tl_jvp,
                                           .vjp = tl_vjp,
                                           .rhvp = tl_rhvp,
                                           .destroy = tloc_destroy};

/* --- "tlogit": not least squares: ℓ_s = softplus(a_sᵀx) − b_s·a_sᵀx ---- */
static double softplus(double z) { return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z)); }
static double sigm(double z) { return 1 / (1 + exp(-z)); }
static int tg_eval(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *loss,
                   float *grad) {
  tloc *t = pb->impl;
  double c = nco_problem_scale(pb, nb), s = 0;
  memset(t->acc, 0, t->d * sizeof *t->acc);
  for (size_t k = 0; k < nb; k++) {
    double z = rowdot(t, idx[k], x);
    s += softplus(z) - t->b[idx[k]] * z;
    for (size_t j = 0; j < t->d; j++) t->acc[j] += (sigm(z) - t->b[idx[k]]) * t->A[idx[k] * t->d + j];
  }
  *loss = c * s;
  if (grad)
    for (size_t j = 0; j < t->d; j++) grad[j] = (float)(c * t->acc[j]);
  return NCO_OK;
}
static int tg_hvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v,
                  float *hv) {
  tloc *t = pb->impl;
  double c = nco_problem_scale(pb, nb);
  memset(t->acc, 0, t->d * sizeof *t->acc);
  for (size_t k = 0; k < nb; k++) {
    double z = rowdot(t, idx[k], x), sg = sigm(z), av = rowdot(t, idx[k], v);
    for (size_t j = 0; j < t->d; j++) t->acc[j] += sg * (1 - sg) * av * t->A[idx[k] * t->d + j];
  }
  for (size_t j = 0; j < t->d; j++) hv[j] = (float)(c * t->acc[j]);
  return NCO_OK;
}
static const nco_problem_type tlogit_type = {
    .name = "tlogit", .eval = tg_eval, .hvp = tg_hvp, .destroy = tloc_destroy};

/* A local problem of type t on copies of A (n, d), b, c (c may be NULL). */
static int tloc_create(const nco_problem_type *t, size_t n, size_t d, const float *A,
                       const float *b, const float *c, nco_problem **out) {
  tloc *p = calloc(1, sizeof *p);
  if (!p) return NCO_ERR_NOMEM;
  p->n = n, p->d = d;
  p->A = calloc(n * d, sizeof *p->A), p->b = calloc(n, sizeof *p->b), p->c = calloc(n, sizeof *p->c);
  p->acc = calloc(d, sizeof *p->acc);
  if (!p->A || !p->b || !p->c || !p->acc) {
    tloc_destroy(p);
    return NCO_ERR_NOMEM;
  }
  memcpy(p->A, A, n * d * sizeof *A);
  memcpy(p->b, b, n * sizeof *b);
  if (c) memcpy(p->c, c, n * sizeof *c);
  size_t m = t == &ttanh_type || t == &ttanh_norhvp_type ? 2 : (t == &tlin_type ? 1 : 0);
  size_t me = m == 2 ? 1 : 0;
  int st = nco_problem_alloc(t, p, d, n, m, me, out);
  if (!st) snprintf((*out)->label, sizeof (*out)->label, "%s n=%zu d=%zu", t->name, n, d);
  return st;
}

/* A local problem with A ~ N(0, 1/d) (so a_sᵀx = O(1) for x = O(1)),
 * b, c ~ N(0, 0.5²). */
static int tloc_random(const nco_problem_type *t, size_t n, size_t d, uint64_t seed,
                       nco_problem **out) {
  nco_rng r;
  nco_rng_seed(&r, seed);
  float *A = calloc(n * d, sizeof *A), *b = calloc(n, sizeof *b), *c = calloc(n, sizeof *c);
  int st = NCO_ERR_NOMEM;
  if (A && b && c) {
    nco_rng_normal_fill(&r, A, n * d, 0, 1 / sqrt((double)d));
    nco_rng_normal_fill(&r, b, n, 0, 0.5);
    nco_rng_normal_fill(&r, c, n, 0, 0.5);
    st = tloc_create(t, n, d, A, b, c, out);
  }
  free(A), free(b), free(c);
  return st;
}

/* ---- zoo problems through nco_arrays ---------------------------------- */

static int zoo_linear(size_t n, size_t d, const float *A, const float *b, nco_problem **out) {
  nco_array Aa = {0}, ba = {0};
  size_t shA[2] = {n, d}, shb[1] = {n};
  int st;
  if ((st = nco_array_alloc(&Aa, NCO_DTYPE_F32, 2, shA, "test:A")) ||
      (st = nco_array_alloc(&ba, NCO_DTYPE_F32, 1, shb, "test:b")))
    goto done;
  memcpy(Aa.data, A, n * d * sizeof *A);
  memcpy(ba.data, b, n * sizeof *b);
  st = nco_linear_ls_create(&Aa, &ba, out);
done:
  nco_array_free(&Aa), nco_array_free(&ba);
  return st;
}

static int zoo_glm(size_t n, size_t d, nco_activation kind, int binary, uint64_t seed,
                   nco_problem **out) {
  nco_rng r;
  nco_rng_seed(&r, seed);
  nco_act act = nco_act_make(kind);
  nco_array A = {0}, b = {0};
  int st = nco_glm_generate(n, d, &act, 0.1, binary, &r, &A, &b);
  if (!st) st = nco_glm_create(&A, &b, &act, out);
  nco_array_free(&A), nco_array_free(&b);
  return st;
}

/* ======================================================================
 * Dense double helpers (the independent reference computations; the
 * Cholesky, Gram, norm and power-iteration ones are in testlib).
 * ====================================================================== */

/* Smallest eigenvalue of M = LLᵀ by inverse iteration (1/λ_max(M⁻¹)). */
static double eig_min_chol(size_t n, const double *L, double *w1, double *w2) {
  for (size_t i = 0; i < n; i++) w1[i] = 1.0 - 0.01 * (double)i;
  double lam = 0;
  for (int it = 0; it < 2000; it++) {
    double nv = nco_test_norm(n, w1);
    for (size_t i = 0; i < n; i++) w1[i] /= nv;
    nco_test_chol_solve(n, L, w1, w2);
    lam = 0;
    for (size_t i = 0; i < n; i++) lam += w1[i] * w2[i];
    memcpy(w1, w2, n * sizeof *w1);
  }
  return 1 / lam;
}

/* ======================================================================
 * Derivative checks
 * ====================================================================== */

/* The minibatch used throughout: sample 3 repeated. */
static const size_t MB[5] = {3, 1, 3, 7, 0};

/* Gradient, JVP/VJP (least squares) and HVP (when exact) of pb at z, over
 * {SUM, MEAN} × {full batch, MB}. Default check tolerances (check.h):
 * every wrapper computes its loss in double, so the defaults apply. */
static void check_all(nco_problem *pb, const float *z) { nco_test_check_derivatives(pb, z, MB, 5); }

/* z = [x; p] with x ~ N(0, xs²), the rest ~ N(0, ps²). */
static void random_point(nco_rng *r, const nco_problem *pb, size_t d, double xs, double ps, float *z) {
  nco_rng_normal_fill(r, z, d, 0, xs);
  if (pb->dim > d) nco_rng_normal_fill(r, z + d, pb->dim - d, 0, ps);
}

/* Wraps base (owned) in l2(0.3), and, for a least-squares base, in
 * invex(0.5) and invex(0.4) ∘ l2(0.2) (the nested case passes rhvp
 * through both wrappers and gives p's to the l2 extras); checks all
 * derivatives of each at a random point. */
static void check_wrappers_over(nco_problem *base) {
  size_t d = base->dim;
  nco_rng r;
  nco_rng_seed(&r, 11);
  nco_problem *l2 = NULL, *iv = NULL, *nest = NULL, *l2b = NULL;
  float *z = NULL, *zi = NULL, *zn = NULL;
  REQUIRE_OK(nco_l2_wrap(base, 0.3, 1, &l2));
  CHECK(nco_problem_has_exact_hvp(l2));
  z = calloc(d, sizeof *z);
  if (!z) goto done;
  random_point(&r, l2, d, 0.7, 0, z);
  check_all(l2, z);
  if (nco_problem_is_least_squares(base)) {
    /* wrappers over the same base, not owned: l2 frees it last */
    if (nco_invex_wrap(base, 0.5, 0, &iv) || nco_l2_wrap(base, 0.2, 0, &l2b) ||
        nco_invex_wrap(l2b, 0.4, 1, &nest)) {
      CHECKF(0, "wrap: %s", nco_last_error());
      goto done;
    }
    CHECK(nco_problem_has_exact_hvp(iv) && nco_problem_has_exact_hvp(nest));
    CHECK(nest->dim == d + nco_problem_nres(base, base->n) + d);
    zi = calloc(iv->dim, sizeof *zi), zn = calloc(nest->dim, sizeof *zn);
    if (!zi || !zn) goto done;
    random_point(&r, iv, d, 0.7, 0.5, zi);
    check_all(iv, zi);
    random_point(&r, nest, d, 0.7, 0.5, zn);
    check_all(nest, zn);
  }
done:
  CHECK(z != NULL);
  nco_problem_free(nest); /* frees l2b */
  nco_problem_free(iv);
  nco_problem_free(l2); /* frees base */
  free(z), free(zi), free(zn);
}

static void test_derivs_local(void) {
  nco_problem *b = NULL;
  REQUIRE_OK(tloc_random(&ttanh_type, 10, 4, 1, &b));
  check_wrappers_over(b);
  REQUIRE_OK(tloc_random(&tlin_type, 9, 5, 2, &b));
  check_wrappers_over(b);
  REQUIRE_OK(tloc_random(&tlogit_type, 12, 4, 3, &b)); /* l2 over a non-LS base */
  check_wrappers_over(b);
}

static void test_derivs_zoo(void) {
  nco_problem *b = NULL;
  nco_rng r;
  nco_rng_seed(&r, 5);
  float A[24 * 6], y[24];
  nco_rng_normal_fill(&r, A, 24 * 6, 0, 1);
  nco_rng_normal_fill(&r, y, 24, 0, 1);
  REQUIRE_OK(zoo_linear(24, 6, A, y, &b));
  check_wrappers_over(b);
  REQUIRE_OK(zoo_glm(32, 6, NCO_ACT_SIGMOID, 1, 6, &b));
  check_wrappers_over(b);
  REQUIRE_OK(zoo_glm(32, 6, NCO_ACT_TANH, 0, 7, &b));
  check_wrappers_over(b);
}

/* Without rhvp in the base the invex wrapper has no exact HVP and uses the
 * generic central difference of gradients; compare it with the exact HVP
 * of the same residuals (ttanh with rhvp). The core documents ~1e-3
 * relative accuracy for the fallback in float32: tolerance 1e-2·‖Hv‖. */
static void test_no_rhvp(void) {
  nco_problem *b1 = NULL, *b2 = NULL, *w1 = NULL, *w2 = NULL, *l1 = NULL;
  REQUIRE_OK(tloc_random(&ttanh_type, 10, 4, 1, &b1));
  REQUIRE_OK(tloc_random(&ttanh_norhvp_type, 10, 4, 1, &b2));
  REQUIRE_OK(nco_invex_wrap(b1, 0.5, 1, &w1));
  REQUIRE_OK(nco_invex_wrap(b2, 0.5, 0, &w2));
  REQUIRE_OK(nco_l2_wrap(b2, 0.5, 1, &l1));
  CHECK(w1->type->rhvp != NULL);
  CHECK(w2->type->rhvp == NULL);
  CHECK(nco_problem_has_exact_hvp(w1));
  CHECK(!nco_problem_has_exact_hvp(w2));
  CHECK(!nco_problem_has_exact_hvp(l1));
  nco_rng r;
  nco_rng_seed(&r, 3);
  size_t D = w1->dim;
  float z[64], v[64], h1[64], h2[64];
  REQUIRE(D <= 64);
  random_point(&r, w1, 4, 0.7, 0.5, z);
  nco_rng_normal_fill(&r, v, D, 0, 1);
  CHECK_OK(nco_check_gradient(w2, z, MB, 5, NULL, NULL));
  CHECK_OK(nco_check_jvp_vjp(w2, z, MB, 5, NULL, NULL));
  CHECK_OK(nco_problem_hvp(w1, z, MB, 5, v, h1));
  CHECK_OK(nco_problem_hvp(w2, z, MB, 5, v, h2));
  double e = 0, nh = nco_nrm2(D, h1);
  for (size_t j = 0; j < D; j++) e = fmax(e, fabs((double)h1[j] - h2[j]));
  CHECKF(e <= 1e-2 * nh, "FD HVP differs by %g (‖Hv‖ = %g)", e, nh);
  nco_problem_free(w1), nco_problem_free(w2), nco_problem_free(l1);
}

/* ======================================================================
 * Layout, loss_unreg, init, λ, labels
 * ====================================================================== */

/* Invex residual/JVP/VJP against their definition (reg.h): p of sample s,
 * residual i at d + s·m + i, the extra last; repeated index accumulates. */
static void test_invex_layout(void) {
  const size_t n = 10, d = 4, m = 2, N = n * m + 1;
  const double lam = 0.7;
  nco_problem *b = NULL, *w = NULL;
  REQUIRE_OK(tloc_random(&ttanh_type, n, d, 1, &b));
  REQUIRE_OK(nco_invex_wrap(b, lam, 1, &w));
  CHECK(w->dim == d + N && w->n == n && w->m == m && w->m_extra == 1);
  CHECK(nco_problem_is_least_squares(w));
  CHECK(nco_problem_nres(w, 5) == 11);
  nco_rng r;
  nco_rng_seed(&r, 9);
  float z[4 + 21], u[4 + 21], v[11], ju[11], jub[11], jtv[4 + 21], jtvb[4];
  double rw[11], rb[11];
  random_point(&r, w, d, 0.7, 0.5, z);
  nco_rng_normal_fill(&r, u, d + N, 0, 1);
  nco_rng_normal_fill(&r, v, 11, 0, 1);
  const float *p = z + d, *up = u + d;
  /* expected p position of batch residual k */
  size_t pos[11];
  for (size_t s = 0; s < 5; s++)
    for (size_t i = 0; i < m; i++) pos[s * m + i] = MB[s] * m + i;
  pos[10] = n * m; /* the extra */
  CHECK_OK(nco_problem_residual64(w, z, MB, 5, rw));
  CHECK_OK(nco_problem_residual64(b, z, MB, 5, rb));
  for (size_t k = 0; k < 11; k++) CHECK_CLOSE(rw[k], rb[k] + lam * p[pos[k]], 1e-15, 1e-14);
  CHECK_OK(nco_problem_jvp(w, z, MB, 5, u, ju));
  CHECK_OK(nco_problem_jvp(b, z, MB, 5, u, jub));
  /* float outputs: one rounding of each side (2·2⁻²⁴ relative) */
  for (size_t k = 0; k < 11; k++)
    CHECK_CLOSE(ju[k], (double)jub[k] + lam * up[pos[k]], 1e-12, 4 * FLT_EPSILON);
  CHECK_OK(nco_problem_vjp(w, z, MB, 5, v, jtv));
  CHECK_OK(nco_problem_vjp(b, z, MB, 5, v, jtvb));
  for (size_t j = 0; j < d; j++) CHECK(jtv[j] == jtvb[j]);
  double expect[21] = {0};
  for (size_t k = 0; k < 11; k++) expect[pos[k]] += lam * v[k];
  for (size_t q = 0; q < N; q++) CHECK_CLOSE(jtv[d + q], expect[q], 0, 2 * FLT_EPSILON);
  /* sample 3 appears twice: its p's get both contributions */
  CHECK_CLOSE(jtv[d + 6], lam * ((double)v[0] + v[4]), 0, 2 * FLT_EPSILON);
  /* p's of samples outside the batch (2, 4, 5, 6, 8, 9) receive exactly 0 */
  CHECK(jtv[d + 2 * 2] == 0 && jtv[d + 2 * 9 + 1] == 0);
  /* full-batch gradient: p-block equals λ·r̂ (SUM), the x-block J_gᵀ r̂ */
  float g[25];
  double loss, rf[21];
  CHECK_OK(nco_problem_eval(w, z, NULL, n, &loss, g));
  CHECK_OK(nco_problem_residual64(w, z, NULL, n, rf));
  double s = 0;
  for (size_t k = 0; k < N; k++) s += rf[k] * rf[k];
  CHECK_CLOSE(loss, 0.5 * s, 0, 1e-14);
  for (size_t k = 0; k < N; k++) CHECK_CLOSE(g[d + k], lam * rf[k], 1e-12, 2 * FLT_EPSILON);
  /* rhvp slot (no dispatcher; called as the core does): base's rhvp on
   * the x block, exactly 0 on p whatever the output held before */
  float wts[11], o[25], ob[4];
  nco_rng_normal_fill(&r, wts, 11, 0, 1);
  for (size_t j = 0; j < d + N; j++) o[j] = NAN;
  REQUIRE(w->type->rhvp && b->type->rhvp);
  CHECK_OK(w->type->rhvp(w, z, MB, 5, wts, u, o));
  CHECK_OK(b->type->rhvp(b, z, MB, 5, wts, u, ob));
  for (size_t j = 0; j < d; j++) CHECK(o[j] == ob[j]);
  for (size_t q = 0; q < N; q++) CHECK(o[d + q] == 0);
  nco_problem_free(w);
}

/* ℓ2 on a least-squares base: residual [g_S; √(2λ)x], m_extra += d; the
 * loss is base + λ‖x‖², the penalty not scaled under MEAN (reg.h). */
static void test_l2_layout(void) {
  const size_t n = 10, d = 4;
  const double lam = 0.35;
  nco_problem *b = NULL, *w = NULL;
  REQUIRE_OK(tloc_random(&ttanh_type, n, d, 1, &b));
  REQUIRE_OK(nco_l2_wrap(b, lam, 1, &w));
  CHECK(w->dim == d && w->m == 2 && w->m_extra == 1 + d);
  CHECK(nco_problem_is_least_squares(w));
  nco_rng r;
  nco_rng_seed(&r, 4);
  float x[4];
  double rw[11 + 4], rb[11], xx = 0;
  nco_rng_normal_fill(&r, x, d, 0, 0.8);
  for (size_t j = 0; j < d; j++) xx += (double)x[j] * x[j];
  CHECK_OK(nco_problem_residual64(w, x, MB, 5, rw));
  CHECK_OK(nco_problem_residual64(b, x, MB, 5, rb));
  for (size_t k = 0; k < 11; k++) CHECK(rw[k] == rb[k]);
  for (size_t j = 0; j < d; j++) CHECK_CLOSE(rw[11 + j], sqrt(2 * lam) * x[j], 0, 1e-15);
  /* SUM: eval = ½‖r‖² of the wrapper's residual */
  double lw, lb, s = 0, rfull[21 + 4];
  CHECK_OK(nco_problem_eval(w, x, NULL, n, &lw, NULL));
  CHECK_OK(nco_problem_residual64(w, x, NULL, n, rfull));
  for (size_t k = 0; k < 21 + d; k++) s += rfull[k] * rfull[k];
  CHECK_CLOSE(lw, 0.5 * s, 0, 1e-13);
  /* MEAN on the wrapper (set_reduction reaches the base too, so that
   * loss_unreg reports it the same way): (1/nb)·½‖g_S‖² + λ‖x‖² */
  nco_problem_set_reduction(w, NCO_REDUCE_MEAN);
  CHECK(b->reduction == NCO_REDUCE_MEAN);
  CHECK_OK(nco_problem_eval(w, x, MB, 5, &lw, NULL));
  CHECK_OK(nco_problem_eval(b, x, MB, 5, &lb, NULL));
  CHECK_CLOSE(lw, lb + lam * xx, 0, 1e-13);
  double lu;
  CHECK_OK(nco_problem_loss_unreg(w, x, MB, 5, &lu));
  CHECK_CLOSE(lu, lb, 0, 1e-15);
  nco_problem_set_reduction(w, NCO_REDUCE_SUM);
  /* rhvp slot: the extras √(2λ)x are linear, only the base's part counts */
  float wts[15], u[4], o[4], ob[4];
  nco_rng_normal_fill(&r, wts, 15, 0, 1);
  nco_rng_normal_fill(&r, u, 4, 0, 1);
  REQUIRE(w->type->rhvp);
  CHECK_OK(w->type->rhvp(w, x, MB, 5, wts, u, o));
  CHECK_OK(b->type->rhvp(b, x, MB, 5, wts, u, ob));
  for (size_t j = 0; j < d; j++) CHECK(o[j] == ob[j]);
  /* λ = 0: the wrapper is the base */
  nco_problem *w0 = NULL;
  REQUIRE_OK(nco_l2_wrap(b, 0.0, 0, &w0));
  float g0[4], gb[4];
  CHECK_OK(nco_problem_eval(w0, x, NULL, n, &lw, g0));
  CHECK_OK(nco_problem_eval(b, x, NULL, n, &lb, gb));
  CHECK(lw == lb);
  for (size_t j = 0; j < d; j++) CHECK(g0[j] == gb[j]);
  nco_problem_free(w0);
  nco_problem_free(w);
}

/* nco_problem_loss_unreg on a wrapper is the base loss at the x part. */
static void test_loss_unreg_and_init(void) {
  for (int red = 0; red < 2; red++) {
    nco_problem *b = NULL, *iv = NULL, *l2 = NULL;
    REQUIRE_OK(zoo_glm(16, 5, NCO_ACT_SIGMOID, 1, 21, &b));
    nco_problem_set_reduction(b, red ? NCO_REDUCE_MEAN : NCO_REDUCE_SUM);
    REQUIRE_OK(nco_invex_wrap(b, 0.2, 0, &iv));
    REQUIRE_OK(nco_l2_wrap(b, 0.2, 0, &l2));
    CHECK(iv->reduction == b->reduction && l2->reduction == b->reduction); /* copied */
    nco_rng r;
    nco_rng_seed(&r, 8);
    float z[5 + 16];
    random_point(&r, iv, 5, 0.7, 0.5, z);
    double lu, lb, lw;
    CHECK_OK(nco_problem_loss_unreg(iv, z, NULL, 16, &lu));
    CHECK_OK(nco_problem_eval(b, z, NULL, 16, &lb, NULL));
    CHECK(lu == lb);
    CHECK_OK(nco_problem_eval(iv, z, NULL, 16, &lw, NULL));
    CHECK(lw != lb); /* p ≠ 0 changes the lifted loss */
    CHECK_OK(nco_problem_loss_unreg(iv, z, MB, 5, &lu));
    CHECK_OK(nco_problem_eval(b, z, MB, 5, &lb, NULL));
    CHECK(lu == lb);
    CHECK_OK(nco_problem_loss_unreg(l2, z, NULL, 16, &lu));
    CHECK_OK(nco_problem_eval(b, z, NULL, 16, &lb, NULL));
    CHECK(lu == lb);
    CHECK_OK(nco_problem_eval(l2, z, NULL, 16, &lw, NULL));
    CHECK(lw > lb);
    /* init: the base's x₀ from the same rng state, p = 0 (Corollary 1) */
    nco_rng r1, r2;
    nco_rng_seed(&r1, 77), nco_rng_seed(&r2, 77);
    float zi[5 + 16], xb[5];
    memset(zi, 0x7f, sizeof zi);
    CHECK_OK(nco_problem_init(iv, &r1, zi));
    CHECK_OK(nco_problem_init(b, &r2, xb));
    for (size_t j = 0; j < 5; j++) CHECK(zi[j] == xb[j]);
    for (size_t j = 5; j < 21; j++) CHECK(zi[j] == 0);
    nco_rng_seed(&r1, 77), nco_rng_seed(&r2, 77);
    CHECK_OK(nco_problem_init(l2, &r1, zi));
    CHECK_OK(nco_problem_init(b, &r2, xb));
    for (size_t j = 0; j < 5; j++) CHECK(zi[j] == xb[j]);
    nco_problem_free(iv), nco_problem_free(l2), nco_problem_free(b);
  }
}

static void test_lambda_and_labels(void) {
  nco_problem *b = NULL, *iv = NULL, *l2 = NULL;
  REQUIRE_OK(zoo_glm(64, 8, NCO_ACT_SIGMOID, 1, 1, &b));
  REQUIRE_OK(nco_invex_wrap(b, 0.01, 0, &iv));
  REQUIRE_OK(nco_l2_wrap(b, 0.25, 0, &l2));
  CHECKF(strcmp(iv->label, "invex(λ=0.01) ∘ glm(sigmoid) n=64 d=8") == 0, "label \"%s\"", iv->label);
  CHECKF(strcmp(l2->label, "l2(λ=0.25) ∘ glm(sigmoid) n=64 d=8") == 0, "label \"%s\"", l2->label);
  CHECK(strcmp(iv->type->name, "invex") == 0 && strcmp(l2->type->name, "l2") == 0);
  CHECK(nco_reg_lambda(iv) == 0.01);
  CHECK(nco_reg_lambda(l2) == 0.25);
  CHECK(isnan(nco_reg_lambda(b)));
  CHECK(isnan(nco_reg_lambda(NULL)));
  CHECK(iv->base == b && l2->base == b && nco_problem_root(iv) == b);
  CHECK(iv->dim == 8 + 64 && iv->n == 64);
  /* evaluations reach the base through its dispatcher (counted there) */
  float z[72] = {0};
  double loss;
  uint64_t before = b->counters.residual;
  CHECK_OK(nco_problem_eval(iv, z, NULL, 64, &loss, NULL));
  CHECK(iv->counters.loss == 1 && b->counters.residual == before + 1);
  nco_problem_free(iv), nco_problem_free(l2), nco_problem_free(b);
}

/* ======================================================================
 * Crane & Roosta, Theorem 1: GD on the lifted linear least squares
 * ====================================================================== */

/* Relative gradient tolerance of the GD loops (justified at theorem1_run). */
#define GTOL 1e-6

/* ‖∇‖ at the current iterate and the largest ‖z_t‖ so far, along GD. */
typedef struct grad_watch {
  size_t dim;
  double gtol, gn, zmax;
} grad_watch;

/* nco_test_gd watch: stops at ‖∇‖ ≤ gtol. */
static int watch_grad(void *ctx, size_t t, double loss, const float *z, const float *g) {
  grad_watch *w = ctx;
  (void)t, (void)loss;
  w->zmax = fmax(w->zmax, nco_nrm2(w->dim, z));
  w->gn = nco_nrm2(w->dim, g);
  return w->gn <= w->gtol;
}

/* GD with fixed step α on pb from z (in place) until ‖∇‖ ≤ gtol or maxit;
 * returns the iteration count, ‖∇‖ at the end in *gend, the largest ‖z_t‖
 * in *zmax. */
static size_t gd(nco_problem *pb, float *z, double alpha, double gtol, size_t maxit, double *gend,
                 double *zmax) {
  grad_watch w = {.dim = pb->dim, .gtol = gtol, .gn = INFINITY, .zmax = nco_nrm2(pb->dim, z)};
  size_t t = nco_test_gd(pb, z, alpha, maxit, watch_grad, &w);
  *gend = w.gn, *zmax = w.zmax;
  return t;
}

/* Theorem 1 (i): with A (20×50) of full row rank (a Gaussian matrix has
 * full row rank with probability 1; the Cholesky below confirms AAᵀ ≻ 0),
 * GD on f̂(x, p) = ½‖Ax − b + λp‖² from (0, 0) with α = 1/L converges to
 *   x*(λ) = (AᵀA + λ²I)⁻¹Aᵀb = Aᵀ(AAᵀ + λ²I)⁻¹b   (push-through identity),
 *   p*(λ) = λ(AAᵀ + λ²I)⁻¹b,
 * both computed here from one Cholesky of M = AAᵀ + λ²I (20×20, double).
 * Step: ∇²f̂ = [AᵀA, λAᵀ; λA, λ²I] = ĴᵀĴ with Ĵ = [A λI], whose non-zero
 * eigenvalues are those of ĴĴᵀ = M, so ∇²f̂ ≼ (‖A‖² + λ²)I = L·I.
 * Tolerance: GD stops at ‖∇‖ ≤ 1e-6‖∇₀‖ (GTOL). That is ~15× above
 * where float32 GD stagnates here (steps below half an ulp of z, measured at
 * ≈ 7e-8‖∇₀‖; estimate ε·L·‖z‖). In exact arithmetic z_t stays in
 * range(Ĵᵀ), where ∇ = ĴᵀĴ(z − z*) and ĴᵀĴ ≽ μI, μ = λ_min(M), so
 * ‖z_T − z*‖ ≤ ‖∇_T‖/μ. Float32 adds, per step, a rounding of the iterate
 * (≤ ε‖z_t‖, ε = 2⁻²⁴ per entry) whose null-space part is never
 * contracted: at most T·ε·max‖z_t‖ over T steps. The bound checked is the
 * sum of the two. */
static void theorem1_run(int zoo, const float *A, const float *b, double lam, double *xnorm) {
  enum { n = 20, d = 50 };
  nco_problem *base = NULL, *w = NULL;
  if (zoo)
    REQUIRE_OK(zoo_linear(n, d, A, b, &base));
  else
    REQUIRE_OK(tloc_create(&tlin_type, n, d, A, b, NULL, &base));
  REQUIRE_OK(nco_invex_wrap(base, lam, 1, &w));
  REQUIRE(w->dim == d + n);
  double M[n * n], AAt[n * n], y[n], xs[d], ps[n], w1[n], w2[n];
  nco_test_gram(n, d, A, AAt);
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < n; k++) M[i * n + k] = AAt[i * n + k] + (i == k ? lam * lam : 0);
  double L = nco_test_eig_max(n, AAt) + lam * lam;
  REQUIRE(nco_test_cholesky(n, M) == 0);
  double mu = eig_min_chol(n, M, w1, w2);
  for (size_t i = 0; i < n; i++) y[i] = b[i];
  nco_test_chol_solve(n, M, y, y);
  for (size_t j = 0; j < d; j++) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)A[i * d + j] * y[i];
    xs[j] = s;
  }
  for (size_t i = 0; i < n; i++) ps[i] = lam * y[i];
  double xsn = nco_test_norm(d, xs), psn = nco_test_norm(n, ps);
  float z[d + n] = {0}, g[d + n];
  double loss0, gend, zmax;
  CHECK_OK(nco_problem_eval(w, z, NULL, n, &loss0, g));
  double g0 = nco_nrm2(d + n, g);
  size_t T = gd(w, z, 1 / L, GTOL * g0, 200000, &gend, &zmax);
  double ex = 0, ep = 0, zs = 0;
  for (size_t j = 0; j < d; j++) ex += (z[j] - xs[j]) * (z[j] - xs[j]);
  for (size_t i = 0; i < n; i++) ep += (z[d + i] - ps[i]) * (z[d + i] - ps[i]);
  ex = sqrt(ex), ep = sqrt(ep), zs = sqrt(xsn * xsn + psn * psn);
  double bound = gend / mu + (double)T * FLT_EPSILON / 2 * zmax;
  CHECKF(gend <= GTOL * g0, "GD did not converge: ‖∇‖ = %g after %zu steps", gend, T);
  CHECKF(ex <= bound, "λ=%g: ‖x_T − x*‖ = %g > %g", lam, ex, bound);
  CHECKF(ep <= bound, "λ=%g: ‖p_T − p*‖ = %g > %g", lam, ep, bound);
  printf("theorem1 %s λ=%-4g L=%.4g μ=%.4g T=%zu ‖x_T−x*‖/‖x*‖=%.3g ‖p_T−p*‖/‖p*‖=%.3g bound/‖z*‖=%.3g\n",
         zoo ? "linear_ls" : "tlin     ", lam, L, mu, T, ex / xsn, ep / psn, bound / zs);
  /* f̂(z_T) ≤ ‖∇_T‖²/(2λ²) (PL, Theorem 2(ii); min f̂ = 0, Remark 1),
   * with 1e-6 for float rounding as in test_theorem2_pl */
  double lT, fT, fs = 0, rs[n], ax = 0;
  CHECK_OK(nco_problem_eval(w, z, NULL, n, &lT, NULL));
  CHECK(lT <= gend * gend / (2 * lam * lam) * (1 + 1e-6));
  /* f(x*) = ½‖Ax* − b‖² = ½‖λp*‖² (proof of Theorem 1), in double */
  for (size_t i = 0; i < n; i++) {
    double s = -(double)b[i];
    for (size_t j = 0; j < d; j++) s += (double)A[i * d + j] * xs[j];
    rs[i] = s;
    fs += 0.5 * s * s;
  }
  CHECK_CLOSE(fs, 0.5 * lam * lam * psn * psn, 0, 1e-10);
  /* f(x_T) (loss_unreg) vs f(x*): |Δf| ≤ ‖Aᵀ(Ax* − b)‖‖Δx‖ + ½‖A‖²‖Δx‖² */
  CHECK_OK(nco_problem_loss_unreg(w, z, NULL, n, &fT));
  for (size_t j = 0; j < d; j++) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)A[i * d + j] * rs[i];
    ax += s * s;
  }
  ax = sqrt(ax);
  CHECK_CLOSE(fT, fs, ax * ex + 0.5 * (L - lam * lam) * ex * ex, 1e-12);
  *xnorm = xsn;
  nco_problem_free(w);
}

static void test_theorem1(void) {
  enum { n = 20, d = 50 };
  nco_rng r;
  nco_rng_seed(&r, 2021);
  float A[n * d], b[n];
  nco_rng_normal_fill(&r, A, n * d, 0, 1);
  nco_rng_normal_fill(&r, b, n, 0, 1);
  const double lams[3] = {1, 0.3, 0.1};
  double xn[2][3];
  for (int zoo = 0; zoo < 2; zoo++)
    for (int k = 0; k < 3; k++) theorem1_run(zoo, A, b, lams[k], &xn[zoo][k]);
  /* Theorem 1 (ii), qualitatively: ‖x*(λ)‖ decreases as λ grows
   * (x*(λ) → A†b as λ → 0, → 0 as λ → ∞); here λ = 1 > 0.3 > 0.1 */
  CHECK(xn[0][0] < xn[0][1] && xn[0][1] < xn[0][2]);
  /* and at large λ: ‖x*(λ)‖ ≤ ‖A‖‖b‖/λ² → 0 */
  double big;
  theorem1_run(1, A, b, 30, &big);
  CHECK(big < xn[0][0]);
}

/* ======================================================================
 * Theorem 2 (ii): f̂(x, p) ≤ ‖∇f̂(x, p)‖² / (2λ²) everywhere
 * ====================================================================== */

/* Ratio ‖∇f̂‖²/(2λ²f̂) at 200 random points per (g, λ). ∇_p f̂ = λ r̂
 * (SUM, full batch), so ‖∇f̂‖² ≥ λ²‖r̂‖² = 2λ²f̂ holds in exact arithmetic
 * with equality only when J_gᵀr̂ = 0. In float32, each entry of λr̂ is
 * rounded once from double (relative 2⁻²⁴): the computed ratio can dip
 * below 1 by ~2·2⁻²⁴ ≈ 1.2e-7, so the floor 1 − 1e-6 covers it. */
static void test_theorem2_pl(void) {
  nco_problem *bases[3] = {NULL, NULL, NULL};
  REQUIRE_OK(zoo_glm(40, 6, NCO_ACT_SIGMOID, 1, 31, &bases[0]));
  REQUIRE_OK(zoo_glm(40, 6, NCO_ACT_TANH, 0, 32, &bases[1]));
  REQUIRE_OK(tloc_random(&ttanh_type, 40, 6, 33, &bases[2]));
  const double lams[4] = {0.03, 0.3, 1, 3};
  double minratio = INFINITY;
  size_t npts = 0;
  nco_rng r;
  nco_rng_seed(&r, 34);
  for (int bi = 0; bi < 3; bi++) {
    for (int li = 0; li < 4; li++) {
      nco_problem *w = NULL;
      REQUIRE_OK(nco_invex_wrap(bases[bi], lams[li], 0, &w));
      float *z = calloc(w->dim, sizeof *z), *g = calloc(w->dim, sizeof *g);
      REQUIRE(z && g);
      for (int k = 0; k < 200; k++) {
        /* scales spread over decades: x up to 30 (sigmoid and tanh
         * saturate, J_g → 0, the ratio approaches its bound 1), p from tiny
         * to large */
        double xs = pow(10, -1 + 2.5 * nco_rng_uniform(&r)), ps = pow(10, -3 + 3.5 * nco_rng_uniform(&r));
        random_point(&r, w, bases[bi]->dim, xs, ps, z);
        double f;
        CHECK_OK(nco_problem_eval(w, z, NULL, w->n, &f, g));
        double gg = nco_dot(w->dim, g, g);
        double ratio = gg / (2 * lams[li] * lams[li] * f);
        CHECKF(ratio >= 1 - 1e-6, "%s: f̂ = %g, ‖∇‖²/(2λ²) = %g, ratio %.9g", w->label, f,
                 gg / (2 * lams[li] * lams[li]), ratio);
        minratio = fmin(minratio, ratio);
        npts++;
      }
      free(z), free(g);
      nco_problem_free(w);
    }
  }
  printf("theorem2(ii): %zu points, min ‖∇f̂‖²/(2λ²f̂) = %.9f\n", npts, minratio);
  for (int bi = 0; bi < 3; bi++) nco_problem_free(bases[bi]);
}

/* ======================================================================
 * Corollary 1: GD on invex-lifted sigmoid GLM, linear rate
 * ====================================================================== */

/* Largest |eigenvalue| of ∇²f̂ at z by power iteration on the HVP
 * (100 steps from a fixed random start). */
static double hess_norm(nco_problem *w, const float *z, float *v, float *hv, nco_rng *r) {
  nco_rng_normal_fill(r, v, w->dim, 0, 1);
  double lam = 0;
  for (int it = 0; it < 100; it++) {
    double nv = nco_nrm2(w->dim, v);
    nco_scal(w->dim, (float)(1 / nv), v);
    if (nco_problem_hvp(w, z, NULL, w->n, v, hv)) return NAN;
    lam = nco_nrm2(w->dim, hv);
    nco_copy(w->dim, hv, v);
  }
  return lam;
}

/* Corollary 1: from (x₀, 0) with α ≤ 1/L, f̂_t ≤ (1 − λ²/L)^t f̂_0, where L
 * bounds ‖∇²f̂‖ on the ball D̂ of radius R = 2√(2Δ₀)/λ around (x₀, 0)
 * (Theorem 3; Δ₀ ≤ f(x₀) since f ≥ 0). L is estimated as 1.25 × the
 * largest ‖∇²f̂‖ found by power iteration at (x₀, 0) and 40 points drawn
 * in D̂; the descent lemma with α = 1/L and PL (Theorem 2(ii)) gives the
 * rate for any L above the true constant on the path. Float floor: GD in
 * float32 stalls once every step α|∇_j| is below half an ulp of z_j
 * (≤ 2⁻²⁴|z_j|), i.e. ‖∇‖ ≤ L·2⁻²⁴‖z‖, and then PL gives
 * f̂ ≤ (L·2⁻²⁴‖z_t‖)²/(2λ²); the check is f̂_t ≤ (1 − λ²/L)^t f̂_0 + that
 * floor. Also checked: the path length Σ‖z_{t+1} − z_t‖ stays ≤ R (the
 * iterates stay in D̂). */
static void test_corollary1(void) {
  nco_problem *b = NULL;
  REQUIRE_OK(zoo_glm(64, 8, NCO_ACT_SIGMOID, 1, 41, &b));
  const double lams[3] = {1, 0.5, 0.2};
  nco_rng r;
  nco_rng_seed(&r, 42);
  for (int li = 0; li < 3; li++) {
    double lam = lams[li];
    nco_problem *w = NULL;
    REQUIRE_OK(nco_invex_wrap(b, lam, 0, &w));
    size_t D = w->dim;
    float *z0 = calloc(D, sizeof *z0), *z = calloc(D, sizeof *z), *g = calloc(D, sizeof *g),
          *v = calloc(D, sizeof *v), *hv = calloc(D, sizeof *hv), *u = calloc(D, sizeof *u);
    REQUIRE(z0 && z && g && v && hv && u);
    nco_rng ri;
    nco_rng_seed(&ri, 43);
    CHECK_OK(nco_problem_init(w, &ri, z0));
    double f0, fx0;
    CHECK_OK(nco_problem_eval(w, z0, NULL, w->n, &f0, NULL));
    CHECK_OK(nco_problem_loss_unreg(w, z0, NULL, w->n, &fx0));
    CHECK_CLOSE(f0, fx0, 0, 1e-15); /* p₀ = 0 */
    double R = 2 * sqrt(2 * fx0) / lam;
    double Lh = hess_norm(w, z0, v, hv, &r);
    for (int k = 0; k < 40; k++) {
      nco_rng_sphere(&r, u, D);
      double rad = R * nco_rng_uniform(&r);
      for (size_t j = 0; j < D; j++) z[j] = (float)(z0[j] + rad * u[j]);
      Lh = fmax(Lh, hess_norm(w, z, v, hv, &r));
    }
    REQUIRE(isfinite(Lh));
    double L = 1.25 * Lh, q = 1 - lam * lam / L, bound = f0, path = 0, ft = f0, worst = 0;
    nco_copy(D, z0, z);
    int ok = 1;
    for (int t = 0; t <= 300; t++) {
      CHECK_OK(nco_problem_eval(w, z, NULL, w->n, &ft, g));
      double fl = L * ldexp(nco_nrm2(D, z), -24), floor_t = fl * fl / (2 * lam * lam);
      if (!(ft <= bound + floor_t)) ok = 0;
      if (t > 0) worst = fmax(worst, ft / (bound + floor_t));
      path += nco_nrm2(D, g) / L;
      nco_axpy(D, (float)(-1 / L), g, z);
      bound *= q;
    }
    CHECKF(ok, "λ=%g: f̂_t exceeded (1 − λ²/L)^t f̂_0 (worst ratio %g)", lam, worst);
    CHECKF(path <= R, "λ=%g: path length %g > R = %g", lam, path, R);
    printf("corollary1 λ=%g: L̂=%.4g (1−λ²/L)=%.5f f̂_0=%.4g f̂_300=%.3g bound_300=%.3g max_{t≥1} f̂_t/(bound_t+floor)=%.3g "
           "path=%.3g R=%.3g\n",
           lam, L, q, f0, ft, bound / q, worst, path, R);
    free(z0), free(z), free(g), free(v), free(hv), free(u);
    nco_problem_free(w);
  }
  nco_problem_free(b);
}

/* ======================================================================
 * ℓ2 closed form: ridge
 * ====================================================================== */

/* GD on ½‖Ax − b‖² + λ‖x‖² (the l2 wrapper on linear least squares)
 * reaches x* = (AᵀA + 2λI)⁻¹Aᵀb (computed here by Cholesky in double).
 * The objective is 2λ-strongly convex, so ‖x_T − x*‖ ≤ ‖∇_T‖/(2λ); GD
 * stops at ‖∇‖ ≤ GTOL·‖∇₀‖; float32 rounding of x_T adds ≤ ε‖x*‖ (no
 * null space here: no drift). */
static void test_l2_ridge(void) {
  enum { n = 40, d = 10 };
  const double lam = 0.5;
  nco_rng r;
  nco_rng_seed(&r, 51);
  float A[n * d], b[n];
  nco_rng_normal_fill(&r, A, n * d, 0, 1);
  nco_rng_normal_fill(&r, b, n, 0, 1);
  double M[d * d], AtA[d * d], xs[d];
  nco_test_gram_t(n, d, A, AtA);
  for (size_t j = 0; j < d; j++)
    for (size_t k = 0; k < d; k++) M[j * d + k] = AtA[j * d + k] + (j == k ? 2 * lam : 0);
  for (size_t j = 0; j < d; j++) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)A[i * d + j] * b[i];
    xs[j] = s;
  }
  double L = nco_test_eig_max(d, AtA) + 2 * lam;
  REQUIRE(nco_test_cholesky(d, M) == 0);
  nco_test_chol_solve(d, M, xs, xs);
  for (int zoo = 0; zoo < 2; zoo++) {
    nco_problem *base = NULL, *w = NULL;
    if (zoo)
      REQUIRE_OK(zoo_linear(n, d, A, b, &base));
    else
      REQUIRE_OK(tloc_create(&tlin_type, n, d, A, b, NULL, &base));
    REQUIRE_OK(nco_l2_wrap(base, lam, 1, &w));
    float x[d] = {0}, g[d];
    double l0, gend, zmax;
    CHECK_OK(nco_problem_eval(w, x, NULL, n, &l0, g));
    double g0 = nco_nrm2(d, g);
    size_t T = gd(w, x, 1 / L, GTOL * g0, 100000, &gend, &zmax);
    double e = 0;
    for (size_t j = 0; j < d; j++) e += (x[j] - xs[j]) * (x[j] - xs[j]);
    e = sqrt(e);
    double xsn = nco_test_norm(d, xs), bound = gend / (2 * lam) + FLT_EPSILON * xsn;
    CHECKF(e <= bound, "ridge: ‖x_T − x*‖ = %g > %g", e, bound);
    printf("l2 ridge %s: T=%zu ‖x_T−x*‖/‖x*‖=%.3g (bound %.3g)\n", zoo ? "linear_ls" : "tlin", T,
           e / xsn, bound / xsn);
    nco_problem_free(w);
  }
}

/* l2 on a non-least-squares base: eval = base + λ‖x‖², ∇ + 2λx, Hv + 2λv
 * against the base's own outputs. */
static void test_l2_nonls(void) {
  nco_problem *b = NULL, *w = NULL;
  REQUIRE_OK(tloc_random(&tlogit_type, 12, 4, 3, &b));
  REQUIRE_OK(nco_l2_wrap(b, 0.4, 0, &w));
  CHECK(!nco_problem_is_least_squares(w));
  CHECK(nco_problem_has_exact_hvp(w));
  float x[4] = {0.3f, -0.2f, 0.5f, 1.0f}, v[4] = {1, 2, -1, 0.5f}, gw[4], gb[4], hw[4], hb[4];
  double lw, lb, xx = 0;
  for (int j = 0; j < 4; j++) xx += (double)x[j] * x[j];
  CHECK_OK(nco_problem_eval(w, x, MB, 5, &lw, gw));
  CHECK_OK(nco_problem_eval(b, x, MB, 5, &lb, gb));
  CHECK_OK(nco_problem_hvp(w, x, MB, 5, v, hw));
  CHECK_OK(nco_problem_hvp(b, x, MB, 5, v, hb));
  CHECK_CLOSE(lw, lb + 0.4 * xx, 0, 1e-15);
  for (int j = 0; j < 4; j++) {
    CHECK_CLOSE(gw[j], (double)gb[j] + 0.8 * x[j], 1e-7, 2 * FLT_EPSILON);
    CHECK_CLOSE(hw[j], (double)hb[j] + 0.8 * v[j], 1e-7, 2 * FLT_EPSILON);
  }
  nco_problem_free(w), nco_problem_free(b);
}

/* ======================================================================
 * Bad input
 * ====================================================================== */

static void test_bad_input(void) {
  nco_problem *b = NULL, *w = (nco_problem *)&w, *ng = NULL;
  REQUIRE_OK(tloc_random(&ttanh_type, 10, 4, 1, &b));
  REQUIRE_OK(tloc_random(&tlogit_type, 10, 4, 2, &ng));
  CHECK_ERR(nco_invex_wrap(b, 0.0, 0, &w), NCO_ERR_RANGE, "invex: lambda must be > 0, got 0");
  CHECK(w == NULL);
  CHECK_ERR(nco_invex_wrap(b, -0.5, 0, &w), NCO_ERR_RANGE, "got -0.5");
  CHECK_ERR(nco_invex_wrap(b, NAN, 0, &w), NCO_ERR_RANGE, "invex: lambda must be finite, got nan");
  CHECK_ERR(nco_invex_wrap(b, INFINITY, 0, &w), NCO_ERR_RANGE, "must be finite");
  CHECK_ERR(nco_l2_wrap(b, NAN, 0, &w), NCO_ERR_RANGE, "l2: lambda must be finite");
  CHECK_ERR(nco_l2_wrap(b, -1.0, 0, &w), NCO_ERR_RANGE, "l2: lambda must be >= 0, got -1");
  CHECK_ERR(nco_invex_wrap(ng, 0.5, 0, &w), NCO_ERR_UNSUPPORTED, "tlogit n=10 d=4");
  CHECK_ERR(nco_invex_wrap(ng, 0.5, 0, &w), NCO_ERR_UNSUPPORTED, "not least-squares");
  CHECK_ERR(nco_invex_wrap(NULL, 0.5, 0, &w), NCO_ERR_INVALID, "invex: base problem is NULL");
  CHECK_ERR(nco_l2_wrap(NULL, 0.5, 1, &w), NCO_ERR_INVALID, "l2: base problem is NULL");
  CHECK_ERR(nco_l2_wrap(b, 0.5, 0, NULL), NCO_ERR_INVALID, "output pointer is NULL");
  CHECK(w == NULL);
  /* owns = 1 on failure frees the base (a leak or a double free here would
   * fail the sanitizer build) */
  nco_problem *b2 = NULL, *ng2 = NULL;
  REQUIRE_OK(tloc_random(&ttanh_type, 10, 4, 1, &b2));
  REQUIRE_OK(tloc_random(&tlogit_type, 10, 4, 2, &ng2));
  CHECK_ERR(nco_invex_wrap(b2, 0.0, 1, &w), NCO_ERR_RANGE, "lambda");
  CHECK_ERR(nco_invex_wrap(ng2, 1.0, 1, &w), NCO_ERR_UNSUPPORTED, "tlogit");
  /* evaluations on a wrapper validate like any problem */
  REQUIRE_OK(nco_invex_wrap(b, 0.5, 0, &w));
  float z[64] = {0};
  double loss;
  size_t bad[2] = {1, 10};
  CHECK_ERR(nco_problem_eval(w, z, bad, 2, &loss, NULL), NCO_ERR_RANGE, "sample index 10");
  nco_problem_free(w);
  nco_problem_free(b), nco_problem_free(ng);
}

int main(void) {
  RUN(test_derivs_local);
  RUN(test_derivs_zoo);
  RUN(test_no_rhvp);
  RUN(test_invex_layout);
  RUN(test_l2_layout);
  RUN(test_l2_nonls);
  RUN(test_loss_unreg_and_init);
  RUN(test_lambda_and_labels);
  RUN(test_theorem1);
  RUN(test_theorem2_pl);
  RUN(test_corollary1);
  RUN(test_l2_ridge);
  RUN(test_bad_input);
  return nco_test_summary();
}
