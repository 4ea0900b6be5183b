/* Linear least squares g(x) = Ax − b: loss, gradient, residual and HVP
 * against an independent double computation; derivative checks on full
 * and repeated-index minibatches under SUM and MEAN; input validation;
 * generator; .npy round trip. */
#include <float.h>

#include "testlib.h"

enum { N = 30, D = 7 };

static const size_t batch_idx[] = {3, 3, 0, N - 1, 5, 3}; /* repeats on purpose */
#define NB (sizeof batch_idx / sizeof batch_idx[0])

static int make(uint64_t seed, double noise, nco_array *A, nco_array *b, nco_problem **pb) {
  nco_rng rng;
  nco_rng_seed(&rng, seed);
  int st = nco_linear_ls_generate(N, D, noise, &rng, A, b);
  if (st) return st;
  return nco_linear_ls_create(A, b, pb);
}

/* Reference in double from the float32 data: r_s = a_iᵀx − b_i,
 * loss = c·½Σ r_s², grad = c·Σ r_s a_i, for batch (idx, nb) (idx NULL: all). */
static void reference(const float *A, const float *b, const float *x, const size_t *idx, size_t nb, double c,
                      double *loss, double *grad, double *gabs) {
  double s = 0;
  for (size_t j = 0; j < D; j++) grad[j] = gabs[j] = 0;
  for (size_t t = 0; t < nb; t++) {
    size_t i = idx ? idx[t] : t;
    double r = -(double)b[i];
    for (size_t j = 0; j < D; j++) r += (double)A[i * D + j] * x[j];
    s += r * r;
    for (size_t j = 0; j < D; j++) {
      grad[j] += c * r * A[i * D + j];
      gabs[j] += fabs(c * r * A[i * D + j]);
    }
  }
  *loss = 0.5 * c * s;
}

/* Loss: both sides are double sums of the same products in different order
 * (cblas_dsdot vs this loop): agree to ~1e-14 relative; 1e-12 allows for
 * cancellation in r. Gradient: ncopt forms Jᵀr from r rounded to float32
 * (relative 2⁻²⁴ per entry) and rounds the result to float32, so
 * |g − g_ref| ≤ 2⁻²⁴·Σ|c r_i a_ij| + 2⁻²⁴|g_ref|; we allow 2× that. */
static void test_closed_form(void) {
  nco_array A = {0}, b = {0};
  nco_problem *pb = NULL;
  REQUIRE_OK(make(11, 0.1, &A, &b, &pb));
  CHECK(strcmp(pb->label, "linear_ls n=30 d=7") == 0);
  CHECK(pb->dim == D && pb->n == N && pb->m == 1 && pb->reduction == NCO_REDUCE_SUM);
  nco_rng rng;
  nco_rng_seed(&rng, 5);
  float x[D], g[D], v[D], hv[D];
  double gref[D], gabs[D], loss, lref;
  nco_rng_normal_fill(&rng, x, D, 0, 1);
  const float *Ad = A.data, *bd = b.data;
  for (int red = 0; red < 2; red++) {
    nco_problem_set_reduction(pb, red ? NCO_REDUCE_MEAN : NCO_REDUCE_SUM);
    for (int mb = 0; mb < 2; mb++) {
      const size_t *idx = mb ? batch_idx : NULL;
      size_t nb = mb ? NB : N;
      double c = red ? 1.0 / nb : 1.0;
      CHECK_OK(nco_problem_eval(pb, x, idx, nb, &loss, g));
      reference(Ad, bd, x, idx, nb, c, &lref, gref, gabs);
      CHECK_CLOSE(loss, lref, 0, 1e-12);
      for (size_t j = 0; j < D; j++)
        CHECK_CLOSE(g[j], gref[j], 2 * 0x1p-24 * gabs[j], 2 * 0x1p-24);
    }
  }
  /* residual layout: sample idx[s] at position s */
  double r[NB];
  CHECK_OK(nco_problem_residual64(pb, x, batch_idx, NB, r));
  for (size_t s = 0; s < NB; s++) {
    size_t i = batch_idx[s];
    double ri = -(double)bd[i];
    for (size_t j = 0; j < D; j++) ri += (double)Ad[i * D + j] * x[j];
    CHECK_CLOSE(r[s], ri, 1e-12, 1e-12);
  }
  /* HVP = c·AᵀA v exactly (no second-order term); Jv is rounded to float
   * before Jᵀ(Jv): relative 2⁻²⁴ per term, so 4·2⁻²⁴·Σ|...| */
  CHECK(nco_problem_has_exact_hvp(pb));
  nco_rng_normal_fill(&rng, v, D, 0, 1);
  nco_problem_set_reduction(pb, NCO_REDUCE_MEAN);
  CHECK_OK(nco_problem_hvp(pb, x, batch_idx, NB, v, hv));
  for (size_t j = 0; j < D; j++) {
    double h = 0, ha = 0;
    for (size_t s = 0; s < NB; s++) {
      size_t i = batch_idx[s];
      double av = 0;
      for (size_t l = 0; l < D; l++) av += (double)Ad[i * D + l] * v[l];
      h += av * Ad[i * D + j] / NB;
      ha += fabs(av * Ad[i * D + j]) / NB;
    }
    CHECK_CLOSE(hv[j], h, 4 * 0x1p-24 * ha, 2 * 0x1p-24);
  }
  nco_problem_free(pb);
  nco_array_free(&A);
  nco_array_free(&b);
}

/* nco_check_* with their defaults (rtol 1e-5, float64 differences of a
 * loss computed in double: see check.h) on full and repeated-index batches,
 * SUM and MEAN, at three random points. */
static void test_derivative_checks(void) {
  nco_array A = {0}, b = {0};
  nco_problem *pb = NULL;
  REQUIRE_OK(make(12, 0.5, &A, &b, &pb));
  nco_rng rng;
  nco_rng_seed(&rng, 9);
  float x[D];
  for (int trial = 0; trial < 3; trial++) {
    nco_rng_normal_fill(&rng, x, D, 0, 1);
    nco_test_check_derivatives(pb, x, batch_idx, NB);
  }
  CHECK(nco_problem_is_least_squares(pb) && nco_problem_has_exact_hvp(pb));
  nco_problem_free(pb);
  nco_array_free(&A);
  nco_array_free(&b);
}

/* targets (n, 1) and float64 features are accepted; the caller's arrays
 * are not modified; the loss is bitwise that of the float32 problem (every
 * generated value is a float, so the conversion is exact). */
static void test_accepted_layouts(void) {
  nco_array A = {0}, b = {0}, A64 = {0}, b2 = {0};
  nco_problem *pb = NULL, *pb2 = NULL;
  REQUIRE_OK(make(13, 0.1, &A, &b, &pb));
  size_t sh2[2] = {N, D}, shb[2] = {N, 1};
  REQUIRE_OK(nco_array_alloc(&A64, NCO_DTYPE_F64, 2, sh2, "A64.npy"));
  REQUIRE_OK(nco_array_alloc(&b2, NCO_DTYPE_F32, 2, shb, "b2.npy"));
  for (size_t i = 0; i < N * D; i++) ((double *)A64.data)[i] = ((float *)A.data)[i];
  memcpy(b2.data, b.data, N * sizeof(float));
  CHECK_OK(nco_linear_ls_create(&A64, &b2, &pb2));
  CHECK(A64.dtype == NCO_DTYPE_F64 && ((double *)A64.data)[5] == (double)((float *)A.data)[5]);
  if (pb2) {
    float x[D];
    nco_rng rng;
    nco_rng_seed(&rng, 3);
    nco_rng_normal_fill(&rng, x, D, 0, 1);
    double l1, l2;
    CHECK_OK(nco_problem_eval(pb, x, NULL, N, &l1, NULL));
    CHECK_OK(nco_problem_eval(pb2, x, NULL, N, &l2, NULL));
    CHECK(l1 == l2);
  }
  nco_problem_free(pb);
  nco_problem_free(pb2);
  nco_array_free(&A);
  nco_array_free(&b);
  nco_array_free(&A64);
  nco_array_free(&b2);
}

static void test_bad_input(void) {
  nco_array A = {0}, b = {0}, bs = {0}, b3 = {0}, A1 = {0}, A0 = {0};
  nco_problem *pb = (nco_problem *)&pb; /* must be reset to NULL on error */
  nco_rng rng;
  nco_rng_seed(&rng, 1);
  REQUIRE_OK(nco_linear_ls_generate(N, D, 0, &rng, &A, &b));
  snprintf(A.origin, sizeof A.origin, "data/A.npy");
  snprintf(b.origin, sizeof b.origin, "data/b.npy");
  size_t sh_short[1] = {N - 1}, sh_b3[2] = {N, 2}, sh_a1[1] = {N * D}, sh_a0[2] = {0, D};
  REQUIRE_OK(nco_array_alloc(&bs, NCO_DTYPE_F32, 1, sh_short, "data/short.npy"));
  REQUIRE_OK(nco_array_alloc(&b3, NCO_DTYPE_F32, 2, sh_b3, "data/b2col.npy"));
  REQUIRE_OK(nco_array_alloc(&A1, NCO_DTYPE_F32, 1, sh_a1, "data/flat.npy"));
  REQUIRE_OK(nco_array_alloc(&A0, NCO_DTYPE_F32, 2, sh_a0, "data/empty.npy"));
  CHECK_ERR(nco_linear_ls_create(&A, &bs, &pb), NCO_ERR_SHAPE,
            "data/A.npy: features has 30 rows but targets (data/short.npy) has 29 entries");
  CHECK(pb == NULL);
  CHECK_ERR(nco_linear_ls_create(&A, &b3, &pb), NCO_ERR_SHAPE,
            "data/b2col.npy: targets has shape (30, 2), expected (30,) or (30, 1)");
  CHECK_ERR(nco_linear_ls_create(&A1, &b, &pb), NCO_ERR_SHAPE, "data/flat.npy: features has shape (210,)");
  CHECK_ERR(nco_linear_ls_create(&A0, &b, &pb), NCO_ERR_SHAPE, "data/empty.npy: features has shape (0, 7)");
  CHECK_ERR(nco_linear_ls_create(NULL, &b, &pb), NCO_ERR_INVALID, "NULL");
  CHECK_ERR(nco_linear_ls_create(&A, &b, NULL), NCO_ERR_INVALID, "NULL");
  /* non-finite entries: the message names the file, the role and the index */
  ((float *)A.data)[2 * D + 3] = NAN;
  CHECK_ERR(nco_linear_ls_create(&A, &b, &pb), NCO_ERR_NONFINITE,
            "data/A.npy: features has a non-finite value (nan) at index (2, 3)");
  CHECK(isnan(((float *)A.data)[2 * D + 3])); /* caller's array untouched */
  ((float *)A.data)[2 * D + 3] = 0;
  ((float *)b.data)[7] = -INFINITY;
  CHECK_ERR(nco_linear_ls_create(&A, &b, &pb), NCO_ERR_NONFINITE, "data/b.npy: targets has a non-finite value (-inf) at index (7,)");
  ((float *)b.data)[7] = 0;
  /* float64 beyond float32's range */
  nco_array A64 = {0};
  size_t sh2[2] = {N, D};
  REQUIRE_OK(nco_array_alloc(&A64, NCO_DTYPE_F64, 2, sh2, "data/big.npy"));
  ((double *)A64.data)[4] = 1e300;
  CHECK_ERR(nco_linear_ls_create(&A64, &b, &pb), NCO_ERR_RANGE, "data/big.npy");
  CHECK(((double *)A64.data)[4] == 1e300 && A64.dtype == NCO_DTYPE_F64);
  CHECK(pb == NULL);
  /* generator arguments */
  nco_array G = {0}, H = {0};
  CHECK_ERR(nco_linear_ls_generate(0, D, 0, &rng, &G, &H), NCO_ERR_RANGE, "n = 0");
  CHECK_ERR(nco_linear_ls_generate(N, D, -1, &rng, &G, &H), NCO_ERR_RANGE, "noise -1");
  CHECK_ERR(nco_linear_ls_generate(N, D, NAN, &rng, &G, &H), NCO_ERR_RANGE, "noise");
  CHECK(G.data == NULL && H.data == NULL);
  nco_array_free(&A);
  nco_array_free(&b);
  nco_array_free(&bs);
  nco_array_free(&b3);
  nco_array_free(&A1);
  nco_array_free(&A0);
  nco_array_free(&A64);
}

/* Least-squares residual ‖A x̂ − b‖ with x̂ from the normal equations
 * (Cholesky of AᵀA, all in double); NAN if AᵀA is not positive definite. */
static double ls_residual(const float *A, const float *b) {
  double G[D * D], r[D] = {0}, xh[D];
  nco_test_gram_t(N, D, A, G); /* AᵀA */
  for (size_t i = 0; i < N; i++)
    for (size_t j = 0; j < D; j++) r[j] += (double)A[i * D + j] * b[i];
  if (nco_test_cholesky(D, G)) return NAN;
  nco_test_chol_solve(D, G, r, xh);
  double s = 0;
  for (size_t i = 0; i < N; i++) {
    double e = -(double)b[i];
    for (size_t j = 0; j < D; j++) e += (double)A[i * D + j] * xh[j];
    s += e * e;
  }
  return sqrt(s);
}

/* Same seed, same bits; origin and shapes; A's entries look N(0,1); with
 * noise 0, b = A x* lies in the range of A (least-squares residual at the
 * float32 rounding of b, ≤ 1e-6·‖b‖), with noise 0.3 it does not (the
 * residual is ≈ 0.3·√(n − d) ≈ 1.4). */
static void test_generate(void) {
  nco_array A1 = {0}, b1 = {0}, A2 = {0}, b2 = {0}, A0 = {0}, b0 = {0};
  nco_rng r1, r2, r0;
  nco_rng_seed(&r1, 77);
  nco_rng_seed(&r2, 77);
  nco_rng_seed(&r0, 77);
  REQUIRE_OK(nco_linear_ls_generate(N, D, 0.3, &r1, &A1, &b1));
  REQUIRE_OK(nco_linear_ls_generate(N, D, 0.3, &r2, &A2, &b2));
  REQUIRE_OK(nco_linear_ls_generate(N, D, 0.0, &r0, &A0, &b0));
  CHECK(memcmp(A1.data, A2.data, N * D * sizeof(float)) == 0);
  CHECK(memcmp(b1.data, b2.data, N * sizeof(float)) == 0);
  CHECK(memcmp(A1.data, A0.data, N * D * sizeof(float)) == 0); /* noise drawn after A */
  CHECK(strcmp(A1.origin, "synthetic:linear_ls") == 0 && strcmp(b1.origin, "synthetic:linear_ls") == 0);
  CHECK(A1.ndim == 2 && A1.shape[0] == N && A1.shape[1] == D && b1.ndim == 1 && b1.shape[0] == N);
  double nb0 = 0;
  for (size_t i = 0; i < N; i++) nb0 += (double)((float *)b0.data)[i] * ((float *)b0.data)[i];
  double res0 = ls_residual(A0.data, b0.data), res1 = ls_residual(A1.data, b1.data);
  CHECKF(res0 <= 1e-6 * sqrt(nb0), "noise-free residual %g, |b| %g", res0, sqrt(nb0));
  CHECKF(res1 > 0.5 && res1 < 3, "noisy residual %g", res1);
  /* A ~ N(0,1): sample mean and variance of 210 entries within 5 sd */
  double m = 0, v = 0;
  for (size_t i = 0; i < N * D; i++) m += ((float *)A1.data)[i];
  m /= N * D;
  for (size_t i = 0; i < N * D; i++) v += (((float *)A1.data)[i] - m) * (((float *)A1.data)[i] - m);
  v /= N * D - 1;
  CHECK(fabs(m) < 5 / sqrt(N * D));
  CHECK(fabs(v - 1) < 5 * sqrt(2.0 / (N * D)));
  nco_array_free(&A1);
  nco_array_free(&b1);
  nco_array_free(&A2);
  nco_array_free(&b2);
  nco_array_free(&A0);
  nco_array_free(&b0);
}

/* generate → .npy → read → create gives bitwise the same loss and gradient. */
static void test_npy_roundtrip(void) {
  nco_array A = {0}, b = {0}, Ar = {0}, br = {0};
  nco_problem *p1 = NULL, *p2 = NULL;
  REQUIRE_OK(make(21, 0.2, &A, &b, &p1));
  nco_test_npy_roundtrip(&A, "linls_A.npy", &Ar); /* the origin is the file */
  nco_test_npy_roundtrip(&b, "linls_b.npy", &br);
  CHECK_OK(nco_linear_ls_create(&Ar, &br, &p2));
  nco_test_check_same_problem(p1, p2, 4);
  nco_problem_free(p1);
  nco_problem_free(p2);
  nco_array_free(&A);
  nco_array_free(&b);
  nco_array_free(&Ar);
  nco_array_free(&br);
}

/* Every dot product accumulates in double, also for d ≥ 32 (where
 * OpenBLAS's x86-64 dsdot kernel sums blocks in float): a row
 * (1e8, 1, −1e8, 0, …) with d = 64 at x = 1 gives a_iᵀx = 1 exactly in
 * double (1e8 + 1 is not a float, so float accumulation gives 0), hence
 * loss ½ exactly, gradient = a, and the JVP along e_1 is 1. */
static void test_double_accumulation(void) {
  enum { d = 64 };
  nco_array A = {0}, b = {0};
  nco_problem *pb = NULL;
  size_t sa[2] = {1, d}, sb[1] = {1};
  REQUIRE_OK(nco_array_alloc(&A, NCO_DTYPE_F32, 2, sa, "cancel.npy"));
  REQUIRE_OK(nco_array_alloc(&b, NCO_DTYPE_F32, 1, sb, "zero.npy"));
  float *a = A.data;
  a[0] = 1e8f, a[1] = 1, a[2] = -1e8f;
  REQUIRE_OK(nco_linear_ls_create(&A, &b, &pb));
  float x[d], g[d], ju[1];
  for (size_t j = 0; j < d; j++) x[j] = 1;
  double loss;
  CHECK_OK(nco_problem_eval(pb, x, NULL, 1, &loss, g));
  CHECK(loss == 0.5);
  CHECK(g[0] == 1e8f && g[1] == 1 && g[2] == -1e8f);
  CHECK_OK(nco_problem_jvp(pb, x, NULL, 1, x, ju));
  CHECK(ju[0] == 1);
  nco_problem_free(pb);
  nco_array_free(&A);
  nco_array_free(&b);
}

int main(void) {
  RUN(test_closed_form);
  RUN(test_derivative_checks);
  RUN(test_accepted_layouts);
  RUN(test_bad_input);
  RUN(test_generate);
  RUN(test_npy_roundtrip);
  RUN(test_double_accumulation);
  return nco_test_summary();
}
