/* Core: status codes, the generator (against an independent Python
 * implementation, scripts/rng_reference.py), vectors, the problem
 * dispatcher, and the derivative-check harness itself (it must catch
 * wrong derivatives, not only pass right ones). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "testlib.h"

static void test_status_codes(void) {
  /* every code in the X-macro list has its own name and description */
  const int codes[] = {
#define X(name, value, desc) value,
      NCO_STATUS_LIST(X)
#undef X
  };
  size_t n = sizeof codes / sizeof codes[0];
  for (size_t i = 0; i < n; i++) {
    CHECK(strcmp(nco_status_name(codes[i]), "NCO_UNKNOWN") != 0);
    CHECK(strcmp(nco_status_str(codes[i]), "unknown status") != 0);
    for (size_t j = 0; j < i; j++) CHECK(codes[i] != codes[j]);
    /* 0 ok, negative errors, positive normal stops */
    if (codes[i] < 0) CHECK(!strncmp(nco_status_name(codes[i]), "NCO_ERR_", 8));
  }
  CHECK(!strcmp(nco_status_name(12345), "NCO_UNKNOWN"));
  CHECK(!strcmp(nco_status_str(NCO_OK), "ok"));
  CHECK(nco_error(NCO_ERR_SHAPE, "a.npy: features has %d rows", 3) == NCO_ERR_SHAPE);
  CHECK(!strcmp(nco_last_error(), "a.npy: features has 3 rows"));
  CHECK(nco_error_context(NCO_ERR_SHAPE, "spec.ini:4") == NCO_ERR_SHAPE);
  CHECK(!strcmp(nco_last_error(), "spec.ini:4: a.npy: features has 3 rows"));
  nco_clear_error();
  CHECK(!strcmp(nco_last_error(), ""));
}

static void test_rng_reference(void) {
  /* Values printed by scripts/rng_reference.py (independent Python code). */
  const uint64_t seed0[4] = {0x99ec5f36cb75f2b4ULL, 0xbf6e1f784956452aULL, 0x1a5f849d4933e6e0ULL,
                             0x6aa594f1262d2d2cULL};
  const uint64_t seed42[4] = {0x15780b2e0c2ec716ULL, 0x6104d9866d113a7eULL, 0xae17533239e499a1ULL,
                              0xecb8ad4703b360a1ULL};
  nco_rng r;
  nco_rng_seed(&r, 0);
  for (int i = 0; i < 4; i++) CHECK(nco_rng_u64(&r) == seed0[i]);
  nco_rng_seed(&r, 42);
  for (int i = 0; i < 4; i++) CHECK(nco_rng_u64(&r) == seed42[i]);
  const double uni[3] = {0.7005764821796896, 0.2787512294737843, 0.8396274618764198};
  nco_rng_seed(&r, 7);
  for (int i = 0; i < 3; i++) CHECK(nco_rng_uniform(&r) == uni[i]);
  const uint64_t below[8] = {7, 2, 8, 9, 9, 8, 0, 1};
  nco_rng_seed(&r, 7);
  for (int i = 0; i < 8; i++) CHECK(nco_rng_below(&r, 10) == below[i]);
  /* Python uses libm's log; ncopt its portable one: equal to ~1 ulp. */
  const double nrm[4] = {-0.09352477175015121, -1.071455833316097, -1.1811573651057024,
                         1.5161315458727433};
  nco_rng_seed(&r, 123);
  for (int i = 0; i < 4; i++) CHECK_CLOSE(nco_rng_normal(&r), nrm[i], 0, 4 * DBL_EPSILON);
}

static void test_log_portable(void) {
  nco_rng r;
  nco_rng_seed(&r, 5);
  double worst = 0;
  for (int i = 0; i < 200000; i++) {
    double x = ldexp(nco_rng_uniform(&r) + 1e-300, (int)nco_rng_below(&r, 200) - 100);
    double a = nco_log_portable(x), b = log(x);
    double ulp = fabs(a - b) / (nextafter(fabs(b), INFINITY) - fabs(b) + DBL_MIN);
    if (ulp > worst) worst = ulp;
  }
  /* libm's log is within 1 ulp of exact; ours (fdlibm reduction) within 1 ulp of libm */
  CHECKF(worst <= 1.0, "portable log differs from libm by %.2f ulp", worst);
  CHECK(nco_log_portable(1.0) == 0.0);
  CHECK(isinf(nco_log_portable(0.0)) && nco_log_portable(0.0) < 0);
  CHECK(isnan(nco_log_portable(-1.0)));
}

static void test_rng_distributions(void) {
  nco_rng r, a, b;
  nco_rng_seed(&r, 11);
  /* normal moments: n = 10⁶, mean within 5/√n, variance within 5·√(2/n) */
  size_t n = 1000000;
  double s = 0, s2 = 0;
  for (size_t i = 0; i < n; i++) {
    double z = nco_rng_normal(&r);
    s += z, s2 += z * z;
  }
  double mean = s / n, var = s2 / n - mean * mean;
  CHECK(fabs(mean) < 5 / sqrt((double)n));
  CHECK(fabs(var - 1) < 5 * sqrt(2.0 / n));
  /* sphere: unit norm, and the mean of x₁² is 1/d */
  float v[7];
  double m1 = 0;
  for (int i = 0; i < 20000; i++) {
    nco_rng_sphere(&r, v, 7);
    CHECK_CLOSE(nco_nrm2(7, v), 1.0, 1e-6, 0);
    m1 += (double)v[0] * v[0];
  }
  CHECK_CLOSE(m1 / 20000, 1.0 / 7, 0.01, 0);
  /* permutation: every index once */
  size_t perm[100];
  int seen[100] = {0};
  nco_rng_permutation(&r, perm, 100);
  for (int i = 0; i < 100; i++) seen[perm[i]]++;
  for (int i = 0; i < 100; i++) CHECK(seen[i] == 1);
  /* below: uniform counts (χ² with 9 dof < 30) */
  size_t cnt[10] = {0};
  for (int i = 0; i < 100000; i++) cnt[nco_rng_below(&r, 10)]++;
  double chi = 0;
  for (int i = 0; i < 10; i++) chi += (cnt[i] - 10000.0) * (cnt[i] - 10000.0) / 10000.0;
  CHECK(chi < 30);
  /* derive: deterministic, does not advance the parent, streams differ */
  nco_rng_seed(&r, 3);
  nco_rng before = r;
  nco_rng_derive(&r, 1, &a);
  nco_rng_derive(&r, 2, &b);
  CHECK(!memcmp(&before, &r, sizeof r));
  CHECK(nco_rng_u64(&a) != nco_rng_u64(&b));
  nco_rng_derive(&r, 1, &b);
  nco_rng_derive(&r, 1, &a);
  CHECK(nco_rng_u64(&a) == nco_rng_u64(&b));
  /* the state is plain data: a copy continues identically (spare included) */
  nco_rng_seed(&r, 9);
  (void)nco_rng_normal(&r);
  nco_rng copy = r;
  CHECK(nco_rng_normal(&r) == nco_rng_normal(&copy));
}

static void test_vec(void) {
  /* double accumulation: 10⁷ · 0.1f sums to 10⁶·(0.1f·10) exactly enough;
   * a float accumulator would be off by ~1e-2 relative */
  size_t n = 10000000;
  float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
  REQUIRE(x && y);
  nco_fill(n, 0.1f, x);
  nco_fill(n, 1.0f, y);
  double want = (double)0.1f * n;
  CHECK_CLOSE(nco_dot(n, x, y), want, 0, 1e-12);
  CHECK_CLOSE(nco_sum(n, x), want, 0, 1e-12);
  CHECK_CLOSE(nco_nrm2(n, y), sqrt((double)n), 0, 1e-14);
  /* cancellation that a float partial sum would lose: (1e8, 1, −1e8, 1, …) */
  float c[64], ones[64];
  for (int i = 0; i < 64; i++) c[i] = (i % 4 == 0) ? 1e8f : (i % 4 == 2) ? -1e8f : 1.0f, ones[i] = 1.0f;
  CHECK(nco_dot(64, c, ones) == 32.0);
  double plain = 0;
  for (size_t i = 0; i < 1000; i++) plain += (double)x[i] * y[i];
  CHECK_CLOSE(nco_dot(1000, x, y), plain, 0, 1e-15);
  nco_axpy(n, 2.0f, y, x);
  CHECK(x[0] == 2.1f && x[n - 1] == 2.1f);
  nco_scal(n, 0.5f, y);
  CHECK(y[12345] == 0.5f);
  CHECK(nco_all_finite(n, x));
  x[777] = NAN;
  CHECK(nco_first_nonfinite(n, x) == 777);
  CHECK(isnan(nco_amax(n, x)));
  free(x), free(y);
  size_t out;
  CHECK(nco_mul_size(SIZE_MAX / 2, 3, &out) == -1);
  CHECK(nco_add_size(SIZE_MAX, 1, &out) == -1);
  CHECK(nco_mul_size(1000, 1000, &out) == 0 && out == 1000000);
  CHECK(nco_calloc(SIZE_MAX / 4, 8) == NULL);
}

/* ---- a tiny least-squares problem written here, independent of the zoo:
 * g_i(x) = sin(a_iᵀx) − b_i, with deliberately breakable derivatives. */
typedef struct {
  size_t n, d;
  double A[6][3], b[6];
  int bug; /* 0 none, 1 gradient scaled, 2 JVP wrong, 3 VJP wrong, 4 rhvp wrong */
} toy;

static double toy_z(const toy *t, const float *x, size_t i) {
  double z = 0;
  for (size_t j = 0; j < t->d; j++) z += t->A[i][j] * x[j];
  return z;
}

static int toy_res(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *r) {
  toy *t = pb->impl;
  for (size_t s = 0; s < nb; s++) r[s] = sin(toy_z(t, x, idx[s])) - t->b[idx[s]];
  return NCO_OK;
}

static int toy_jvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *u,
                   float *ju) {
  toy *t = pb->impl;
  for (size_t s = 0; s < nb; s++) {
    size_t i = idx[s];
    double au = 0;
    for (size_t j = 0; j < t->d; j++) au += t->A[i][j] * u[j];
    ju[s] = (float)(cos(toy_z(t, x, i)) * au * (t->bug == 2 && s == 1 ? 1.001 : 1.0));
  }
  return NCO_OK;
}

static int toy_vjp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v,
                   float *out) {
  toy *t = pb->impl;
  double acc[3] = {0};
  for (size_t s = 0; s < nb; s++) {
    size_t i = idx[s];
    double c = cos(toy_z(t, x, i)) * v[s];
    for (size_t j = 0; j < t->d; j++) acc[j] += c * t->A[i][j];
  }
  if (t->bug == 3) acc[2] *= 1.001;
  for (size_t j = 0; j < t->d; j++) out[j] = (float)acc[j];
  return NCO_OK;
}

static int toy_rhvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *w,
                    const float *u, float *out) {
  toy *t = pb->impl;
  double acc[3] = {0};
  /* ∇²g_i = −sin(z_i) a_i a_iᵀ */
  for (size_t s = 0; s < nb; s++) {
    size_t i = idx[s];
    double au = 0;
    for (size_t j = 0; j < t->d; j++) au += t->A[i][j] * u[j];
    double c = -sin(toy_z(t, x, i)) * au * w[s] * (t->bug == 4 ? 1.01 : 1.0);
    for (size_t j = 0; j < t->d; j++) acc[j] += c * t->A[i][j];
  }
  for (size_t j = 0; j < t->d; j++) out[j] = (float)acc[j];
  return NCO_OK;
}

static int toy_eval_buggy(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *loss,
                          float *grad) {
  toy *t = pb->impl;
  double acc[3] = {0}, s2 = 0;
  for (size_t s = 0; s < nb; s++) {
    size_t i = idx[s];
    double z = toy_z(t, x, i), r = sin(z) - t->b[i];
    s2 += r * r;
    for (size_t j = 0; j < t->d; j++) acc[j] += r * cos(z) * t->A[i][j];
  }
  *loss = 0.5 * s2;
  if (grad)
    for (size_t j = 0; j < t->d; j++) grad[j] = (float)(acc[j] * (j == 1 ? 1.0005 : 1.0));
  return NCO_OK;
}

static void free_impl(void *p) { free(p); }

static const nco_problem_type toy_type = {.name = "toy",
                                          .residual64 = toy_res,
                                          .jvp = toy_jvp,
                                          .vjp = toy_vjp,
                                          .rhvp = toy_rhvp,
                                          .destroy = free_impl};
static const nco_problem_type toy_type_nohvp = {
    .name = "toy-fd", .residual64 = toy_res, .jvp = toy_jvp, .vjp = toy_vjp, .destroy = free_impl};
static const nco_problem_type toy_type_badgrad = {.name = "toy-badgrad", .eval = toy_eval_buggy, .destroy = free_impl};

static nco_problem *make_toy(const nco_problem_type *type, int bug) {
  toy *t = calloc(1, sizeof *t);
  nco_rng r;
  nco_rng_seed(&r, 77);
  t->n = 6, t->d = 3, t->bug = bug;
  for (size_t i = 0; i < 6; i++) {
    for (size_t j = 0; j < 3; j++) t->A[i][j] = nco_rng_normal(&r);
    t->b[i] = 0.3 * nco_rng_normal(&r);
  }
  nco_problem *pb = NULL;
  if (nco_problem_alloc(type, t, 3, 6, 1, 0, &pb)) return NULL;
  return pb;
}

static void test_problem_dispatch(void) {
  nco_problem *pb = make_toy(&toy_type, 0);
  REQUIRE(pb);
  float x[3] = {0.3f, -0.2f, 0.5f}, g[3], r[6];
  double loss, want = 0;
  CHECK_OK(nco_problem_eval(pb, x, NULL, 6, &loss, g));
  toy *t = pb->impl;
  for (size_t i = 0; i < 6; i++) {
    double z = t->A[i][0] * x[0] + t->A[i][1] * x[1] + t->A[i][2] * x[2];
    want += 0.5 * (sin(z) - t->b[i]) * (sin(z) - t->b[i]);
  }
  CHECK_CLOSE(loss, want, 0, 1e-15);
  /* mean reduction scales by 1/nb */
  nco_problem_set_reduction(pb, NCO_REDUCE_MEAN);
  double lm;
  CHECK_OK(nco_problem_eval(pb, x, NULL, 6, &lm, NULL));
  CHECK_CLOSE(lm, want / 6, 0, 1e-15);
  nco_problem_set_reduction(pb, NCO_REDUCE_SUM);
  /* batch validation */
  size_t bad[2] = {1, 6};
  CHECK_ERR(nco_problem_eval(pb, x, bad, 2, &loss, g), NCO_ERR_RANGE, "sample index 6");
  CHECK_ERR(nco_problem_eval(pb, x, bad, 0, &loss, g), NCO_ERR_INVALID, "batch size 0");
  CHECK_ERR(nco_problem_eval(pb, x, NULL, 5, &loss, g), NCO_ERR_INVALID, "full batch");
  CHECK_ERR(nco_problem_eval(pb, NULL, NULL, 6, &loss, g), NCO_ERR_INVALID, "NULL");
  /* non-finite parameters give a non-finite loss, reported as such */
  float xn[3] = {NAN, 0, 0};
  CHECK_ERR(nco_problem_eval(pb, xn, NULL, 6, &loss, g), NCO_ERR_NONFINITE, "loss is nan");
  /* counters */
  uint64_t before = pb->counters.residual;
  CHECK_OK(nco_problem_residual(pb, x, NULL, 6, r));
  CHECK(pb->counters.residual == before + 1);
  CHECK(nco_problem_is_least_squares(pb) && nco_problem_has_exact_hvp(pb));
  CHECK(nco_problem_nres(pb, 4) == 4);
  nco_problem_free(pb);

  nco_problem *nls = make_toy(&toy_type_badgrad, 0);
  REQUIRE(nls);
  CHECK(!nco_problem_is_least_squares(nls));
  CHECK_ERR(nco_problem_residual(nls, x, NULL, 6, r), NCO_ERR_UNSUPPORTED, "least-squares");
  nco_problem_free(nls);
  /* a failing alloc frees the impl it was handed (checked under ASan) */
  nco_problem *none = NULL;
  static const nco_problem_type empty = {.name = "empty", .destroy = free_impl};
  CHECK_ERR(nco_problem_alloc(&empty, calloc(1, 8), 3, 6, 0, 0, &none), NCO_ERR_INVALID, "neither");
  CHECK(none == NULL);
}

static void test_hvp_exact_and_fd(void) {
  /* the exact least-squares HVP (JᵀJv + Σ r_i ∇²g_i v) and the
   * finite-difference fallback agree with a dense Hessian built here */
  nco_problem *pe = make_toy(&toy_type, 0), *pf = make_toy(&toy_type_nohvp, 0);
  REQUIRE(pe && pf);
  CHECK(!nco_problem_has_exact_hvp(pf));
  toy *t = pe->impl;
  float x[3] = {0.1f, 0.7f, -0.4f}, v[3] = {0.5f, -1.0f, 0.25f}, he[3], hf[3];
  double H[3][3] = {{0}};
  for (size_t i = 0; i < 6; i++) {
    double z = t->A[i][0] * x[0] + t->A[i][1] * x[1] + t->A[i][2] * x[2];
    double r = sin(z) - t->b[i], c = cos(z) * cos(z) - r * sin(z);
    for (int a = 0; a < 3; a++)
      for (int b = 0; b < 3; b++) H[a][b] += c * t->A[i][a] * t->A[i][b];
  }
  CHECK_OK(nco_problem_hvp(pe, x, NULL, 6, v, he));
  CHECK_OK(nco_problem_hvp(pf, x, NULL, 6, v, hf));
  for (int a = 0; a < 3; a++) {
    double want = H[a][0] * v[0] + H[a][1] * v[1] + H[a][2] * v[2];
    CHECK_CLOSE(he[a], want, 1e-6, 1e-6);  /* float32 output */
    CHECK_CLOSE(hf[a], want, 1e-3, 1e-3);  /* documented FD accuracy */
  }
  nco_problem_free(pe);
  nco_problem_free(pf);
}

static void test_check_harness(void) {
  float x[3] = {0.3f, -0.2f, 0.5f};
  size_t idx[4] = {0, 3, 3, 5};
  nco_check_report rep;
  /* correct derivatives pass, full batch and minibatch with a repeat */
  nco_problem *pb = make_toy(&toy_type, 0);
  REQUIRE(pb);
  CHECK_OK(nco_check_gradient(pb, x, NULL, 6, NULL, &rep));
  CHECK(rep.n_checked == 3 + 4 && rep.n_failed == 0);
  CHECK_OK(nco_check_gradient(pb, x, idx, 4, NULL, NULL));
  CHECK_OK(nco_check_jvp_vjp(pb, x, NULL, 6, NULL, NULL));
  CHECK_OK(nco_check_jvp_vjp(pb, x, idx, 4, NULL, NULL));
  CHECK_OK(nco_check_hvp(pb, x, NULL, 6, NULL, NULL));
  CHECK_OK(nco_check_hvp(pb, x, idx, 4, NULL, NULL));
  nco_problem_free(pb);
  /* and small wrong derivatives fail: 5e-4, 1e-3 and 1e-2 relative */
  nco_problem *b1 = make_toy(&toy_type_badgrad, 0);
  REQUIRE(b1);
  CHECK_ERR(nco_check_gradient(b1, x, NULL, 6, NULL, &rep), NCO_ERR_CHECK, "gradient check");
  CHECK(rep.n_failed >= 1);
  nco_problem_free(b1);
  nco_problem *b2 = make_toy(&toy_type, 2);
  REQUIRE(b2);
  CHECK_ERR(nco_check_jvp_vjp(b2, x, NULL, 6, NULL, NULL), NCO_ERR_CHECK, "JVP");
  nco_problem_free(b2);
  nco_problem *b3 = make_toy(&toy_type, 3);
  REQUIRE(b3);
  CHECK_ERR(nco_check_jvp_vjp(b3, x, NULL, 6, NULL, NULL), NCO_ERR_CHECK, "adjoint");
  /* a wrong VJP is also a wrong gradient (grad = Jᵀr) */
  CHECK_ERR(nco_check_gradient(b3, x, NULL, 6, NULL, NULL), NCO_ERR_CHECK, "gradient");
  nco_problem_free(b3);
  nco_problem *b4 = make_toy(&toy_type, 4);
  REQUIRE(b4);
  CHECK_ERR(nco_check_hvp(b4, x, NULL, 6, NULL, NULL), NCO_ERR_CHECK, "HVP");
  nco_problem_free(b4);
}

int main(void) {
  RUN(test_status_codes);
  RUN(test_rng_reference);
  RUN(test_log_portable);
  RUN(test_rng_distributions);
  RUN(test_vec);
  RUN(test_problem_dispatch);
  RUN(test_hvp_exact_and_fd);
  RUN(test_check_harness);
  return nco_test_summary();
}
