/* tests/test_tensor.c — orthogonal 4th-order tensor decomposition on the
 * sphere (Ma §5): loss, derivatives, the closed-form Riemannian gradient and
 * Hessian (Ma eqs. 5.4–5.5), the landscape of Theorem 5.2 (local maxima of
 * f are exactly ±a_i, normalised sums of ≥ 2 components are strict
 * saddles), the retraction, the generator and bad input.
 *
 * Sign convention: ncopt's loss is −f, f(x) = Σ_i ⟨a_i,x⟩⁴, so every closed
 * form below for f is negated for the loss. All reference values are
 * computed here in double from the float32 components, independently of
 * the library's code paths. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#define MAXD 16

/* ---- helpers ---------------------------------------------------------- */

/* (k, d) float32 array from doubles, with an origin for error messages. */
static int make_components(nco_array *a, size_t k, size_t d, const double *vals, const char *origin) {
  size_t shape[2] = {k, d};
  int st = nco_array_alloc(a, NCO_DTYPE_F32, 2, shape, origin);
  if (st) return st;
  float *p = a->data;
  for (size_t e = 0; e < k * d; e++) p[e] = (float)vals[e];
  return NCO_OK;
}

/* Identity components a_i = e_i (k ≤ d): Ma's simplification (5.3). */
static int make_identity(nco_array *a, size_t k, size_t d) {
  double v[MAXD * MAXD] = {0};
  for (size_t i = 0; i < k; i++) v[i * d + i] = 1;
  return make_components(a, k, d, v, "test:identity");
}

/* y = A x in double (A: k×d float). */
static void apply_A(const float *A, size_t k, size_t d, const double *x, double *y) {
  for (size_t i = 0; i < k; i++) {
    double s = 0;
    for (size_t j = 0; j < d; j++) s += (double)A[i * d + j] * x[j];
    y[i] = s;
  }
}

/* x = Aᵀ y in double. */
static void apply_At(const float *A, size_t k, size_t d, const double *y, double *x) {
  for (size_t j = 0; j < d; j++) x[j] = 0;
  for (size_t i = 0; i < k; i++)
    for (size_t j = 0; j < d; j++) x[j] += (double)A[i * d + j] * y[i];
}

/* Ma eq. (5.4) for f in coordinates where a_i = e_i (n = d):
 * grad f(y) = 4(y³ − ‖y‖₄⁴ y). */
static void ma_grad_f(size_t d, const double *y, double *g) {
  double n44 = 0;
  for (size_t j = 0; j < d; j++) n44 += y[j] * y[j] * y[j] * y[j];
  for (size_t j = 0; j < d; j++) g[j] = 4 * (y[j] * y[j] * y[j] - n44 * y[j]);
}

/* Ma eq. (5.5) for f in coordinates where a_i = e_i:
 * Hess f(y)[u] = P_y (12 diag(y²) − 4‖y‖₄⁴ I) P_y u, P_y = I − yyᵀ. */
static void ma_hess_f(size_t d, const double *y, const double *u, double *out) {
  double n44 = 0, yu = 0, pu[MAXD], w[MAXD];
  for (size_t j = 0; j < d; j++) {
    n44 += y[j] * y[j] * y[j] * y[j];
    yu += y[j] * u[j];
  }
  for (size_t j = 0; j < d; j++) pu[j] = u[j] - yu * y[j];
  double yw = 0;
  for (size_t j = 0; j < d; j++) {
    w[j] = 12 * y[j] * y[j] * pu[j] - 4 * n44 * pu[j];
    yw += y[j] * w[j];
  }
  for (size_t j = 0; j < d; j++) out[j] = w[j] - yw * y[j];
}

static double max_abs_diff_fd(size_t d, const float *a, const double *b) {
  double m = 0;
  for (size_t j = 0; j < d; j++) m = fmax(m, fabs((double)a[j] - b[j]));
  return m;
}

/* Riemannian gradient descent on the loss (ascent on f): x ← R_x(−η grad),
 * until ‖grad‖ ≤ tol or max_it; returns the iterations used. */
static size_t descend(nco_problem *pb, float *x, float eta, double tol, size_t max_it, double *gnorm) {
  float g[MAXD];
  double loss;
  size_t it;
  *gnorm = INFINITY;
  for (it = 0; it < max_it; it++) {
    if (nco_problem_riemannian_grad(pb, x, NULL, pb->n, &loss, g) != NCO_OK) return (size_t)-1;
    *gnorm = nco_nrm2(pb->dim, g);
    if (*gnorm <= tol) break;
    nco_problem_retract(pb, x, -eta, g);
  }
  return it;
}

/* ---- tests ------------------------------------------------------------ */

static void test_generator(void) {
  nco_rng rng;
  nco_rng_seed(&rng, 11);
  size_t cases[][2] = {{10, 10}, {5, 10}, {1, 1}, {3, 7}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    size_t k = cases[c][0], d = cases[c][1];
    nco_array A = {0};
    REQUIRE_OK(nco_tensor_generate(k, d, &rng, &A));
    CHECK(A.dtype == NCO_DTYPE_F32 && A.ndim == 2 && A.shape[0] == k && A.shape[1] == d);
    CHECK(strcmp(A.origin, "synthetic:tensor") == 0);
    const float *a = A.data;
    /* Orthonormal rows. The exact rows q_i come from a double QR (error
     * ~1e-15·d); rounding each entry to float32 (relative ≤ 2⁻²⁴) moves
     * ⟨a_i, a_j⟩ by ≤ 2·2⁻²⁴‖q_i‖‖q_j‖ ≈ 1.2e-7, so 1e-6 has margin 8×. */
    double worst = 0;
    for (size_t i = 0; i < k; i++)
      for (size_t j = 0; j < k; j++) {
        double s = nco_dot(d, a + i * d, a + j * d);
        worst = fmax(worst, fabs(s - (i == j)));
      }
    CHECKF(worst <= 1e-6, "k=%zu d=%zu: max |<a_i,a_j> - delta_ij| = %.3g", k, d, worst);
    nco_array_free(&A);
  }
  /* Same seed, same bits; another seed, another matrix. */
  nco_array A1 = {0}, A2 = {0}, A3 = {0};
  nco_rng r1, r2, r3;
  nco_rng_seed(&r1, 5), nco_rng_seed(&r2, 5), nco_rng_seed(&r3, 6);
  REQUIRE_OK(nco_tensor_generate(4, 6, &r1, &A1));
  REQUIRE_OK(nco_tensor_generate(4, 6, &r2, &A2));
  REQUIRE_OK(nco_tensor_generate(4, 6, &r3, &A3));
  CHECK(memcmp(A1.data, A2.data, 24 * sizeof(float)) == 0);
  CHECK(memcmp(A1.data, A3.data, 24 * sizeof(float)) != 0);
  nco_array_free(&A1), nco_array_free(&A2), nco_array_free(&A3);

  /* Haar distribution, via the sign fix: the first row of a Haar matrix is
   * uniform on S^{d−1}, so for d = 3, E[Q₀₀] = 0 and E[Q₀₀²] = 1/3 (Q₀₀² ~
   * Beta(1/2, 1), sd 0.298). Without the sign fix Householder gives
   * Q₀₀ = −|g₀₀|/‖g₀‖ < 0 always (mean −1/2). With N = 2000 draws the
   * standard errors are 0.577/√N = 0.013 and 0.298/√N = 0.0067; the
   * tolerances 0.06 and 0.03 are ≈ 4.5 standard errors. */
  double m1 = 0, m2 = 0;
  const int N = 2000;
  for (int r = 0; r < N; r++) {
    nco_array Q = {0};
    REQUIRE_OK(nco_tensor_generate(3, 3, &rng, &Q));
    double q = ((const float *)Q.data)[0];
    m1 += q, m2 += q * q;
    nco_array_free(&Q);
  }
  m1 /= N, m2 /= N;
  CHECKF(fabs(m1) <= 0.06, "E[Q00] = %.4f", m1);
  CHECKF(fabs(m2 - 1.0 / 3) <= 0.03, "E[Q00^2] = %.4f", m2);

  nco_array B = {0};
  CHECK_ERR(nco_tensor_generate(11, 10, &rng, &B), NCO_ERR_RANGE, "k ≤ d");
  CHECK(B.data == NULL);
  CHECK_ERR(nco_tensor_generate(0, 10, &rng, &B), NCO_ERR_RANGE, "k=0");
  CHECK_ERR(nco_tensor_generate(2, 3, NULL, &B), NCO_ERR_INVALID, "rng");
}

static void test_properties_and_values(void) {
  /* Non-orthogonal user components: nothing special is needed. */
  const size_t k = 7, d = 5;
  nco_rng rng;
  nco_rng_seed(&rng, 21);
  double vals[7 * 5];
  for (size_t e = 0; e < k * d; e++) vals[e] = nco_rng_normal(&rng);
  nco_array A = {0};
  REQUIRE_OK(make_components(&A, k, d, vals, "test:gauss"));
  nco_problem *pb = NULL;
  REQUIRE_OK(nco_tensor_create(&A, &pb));
  CHECK(pb->dim == d && pb->n == k && pb->m == 0 && pb->m_extra == 0);
  CHECK(pb->manifold == NCO_MANIFOLD_SPHERE);
  CHECK(pb->reduction == NCO_REDUCE_SUM);
  CHECK(!nco_problem_is_least_squares(pb));
  CHECK(nco_problem_has_exact_hvp(pb));
  CHECKF(strcmp(pb->label, "tensor k=7 d=5") == 0, "label \"%s\"", pb->label);

  /* The caller's array is copied: changing it afterwards changes nothing. */
  float x[5];
  nco_rng_normal_fill(&rng, x, d, 0, 1);
  double loss0, loss1;
  CHECK_OK(nco_problem_eval(pb, x, NULL, k, &loss0, NULL));
  float saved = ((float *)A.data)[0];
  ((float *)A.data)[0] = saved + 1;
  CHECK_OK(nco_problem_eval(pb, x, NULL, k, &loss1, NULL));
  CHECK(loss0 == loss1);
  ((float *)A.data)[0] = saved;

  /* loss = −c Σ_{i∈S} ⟨a_i,x⟩⁴, reference in long double from the float
   * data; the library accumulates in double, so 1e-12 relative. */
  const float *a = A.data;
  size_t batch[4] = {6, 0, 6, 3}; /* repeats count twice */
  long double ref_full = 0, ref_b = 0;
  for (size_t i = 0; i < k; i++) {
    long double y = 0;
    for (size_t j = 0; j < d; j++) y += (long double)a[i * d + j] * x[j];
    ref_full -= y * y * y * y;
  }
  for (size_t b = 0; b < 4; b++) {
    long double y = 0;
    for (size_t j = 0; j < d; j++) y += (long double)a[batch[b] * d + j] * x[j];
    ref_b -= y * y * y * y;
  }
  double l;
  CHECK_OK(nco_problem_eval(pb, x, NULL, k, &l, NULL));
  CHECK_CLOSE(l, (double)ref_full, 0, 1e-12);
  CHECK_OK(nco_problem_eval(pb, x, batch, 4, &l, NULL));
  CHECK_CLOSE(l, (double)ref_b, 0, 1e-12);
  nco_problem_set_reduction(pb, NCO_REDUCE_MEAN);
  CHECK_OK(nco_problem_eval(pb, x, batch, 4, &l, NULL));
  CHECK_CLOSE(l, (double)ref_b / 4, 0, 1e-12);
  CHECK_OK(nco_problem_eval(pb, x, NULL, 0, &l, NULL));
  CHECK_CLOSE(l, (double)ref_full / 7, 0, 1e-12);

  /* Default init: a unit vector (uniform on the sphere). */
  float x0[5];
  CHECK_OK(nco_problem_init(pb, &rng, x0));
  CHECK_CLOSE(nco_nrm2(d, x0), 1.0, 1e-6, 0);

  /* float64 input gives the same problem as its float32 rounding. */
  nco_array A64 = {0};
  size_t shape[2] = {k, d};
  REQUIRE_OK(nco_array_alloc(&A64, NCO_DTYPE_F64, 2, shape, "test:gauss64"));
  for (size_t e = 0; e < k * d; e++) ((double *)A64.data)[e] = vals[e];
  nco_problem *pb64 = NULL;
  REQUIRE_OK(nco_tensor_create(&A64, &pb64));
  CHECK_OK(nco_problem_eval(pb64, x, NULL, k, &l, NULL));
  CHECK(l == loss0);
  nco_problem_free(pb64);
  nco_array_free(&A64);

  nco_problem_free(pb);
  nco_array_free(&A);
}

static void test_derivative_checks(void) {
  /* Euclidean gradient and HVP against float64 central differences, with
   * the harness defaults (check.h): the loss is accumulated in double from
   * float32 data, so the default f_eps = 1e-13 applies. Orthonormal and
   * Gaussian (non-orthogonal) components; points on the sphere and off it
   * (the Euclidean extension is used off the sphere); full batch and
   * minibatches with repeats; SUM and MEAN. */
  nco_rng rng;
  nco_rng_seed(&rng, 31);
  size_t worst_n = 0;
  double worst_g = 0, worst_h = 0;
  for (int kind = 0; kind < 2; kind++) {
    size_t k = kind ? 12 : 6, d = kind ? 7 : 10;
    nco_array A = {0};
    if (kind == 0) {
      REQUIRE_OK(nco_tensor_generate(k, d, &rng, &A));
    } else {
      double vals[12 * 7];
      for (size_t e = 0; e < k * d; e++) vals[e] = nco_rng_normal(&rng);
      REQUIRE_OK(make_components(&A, k, d, vals, "test:gauss"));
    }
    nco_problem *pb = NULL;
    REQUIRE_OK(nco_tensor_create(&A, &pb));
    for (int red = 0; red < 2; red++) {
      nco_problem_set_reduction(pb, red ? NCO_REDUCE_MEAN : NCO_REDUCE_SUM);
      for (int trial = 0; trial < 4; trial++) {
        float x[MAXD];
        if (trial % 2)
          nco_rng_sphere(&rng, x, d);
        else
          nco_rng_normal_fill(&rng, x, d, 0, 1);
        size_t idx[8], nb = 0;
        const size_t *ip = NULL;
        if (trial >= 2) {
          nb = 1 + (size_t)nco_rng_below(&rng, k < 8 ? k : 8);
          for (size_t b = 0; b < nb; b++) idx[b] = (size_t)nco_rng_below(&rng, k);
          ip = idx;
        }
        nco_check_opts o = nco_check_defaults();
        o.seed = 100 + (uint64_t)trial;
        nco_check_report rg, rh;
        CHECK_OK(nco_check_gradient(pb, x, ip, nb, &o, &rg));
        CHECK_OK(nco_check_hvp(pb, x, ip, nb, &o, &rh));
        worst_g = fmax(worst_g, rg.worst_ratio);
        worst_h = fmax(worst_h, rh.worst_ratio);
        worst_n += rg.n_checked + rh.n_checked;
      }
    }
    nco_problem_free(pb);
    nco_array_free(&A);
  }
  printf("derivative checks: %zu comparisons, worst err/tol: gradient %.3g, HVP %.3g\n", worst_n,
         worst_g, worst_h);
}

/* Riemannian gradient and Hessian against Ma eqs. (5.4)–(5.5), for a_i = e_i
 * and for a Haar-rotated basis (k = d), where the closed forms hold in the
 * coordinates y = A x (then mapped back with Aᵀ). */
static void test_riemannian_closed_forms(void) {
  const size_t d = 10;
  nco_rng rng;
  nco_rng_seed(&rng, 41);
  double worst_g = 0, worst_h = 0;
  for (int rotated = 0; rotated < 2; rotated++) {
    nco_array A = {0};
    if (rotated) {
      REQUIRE_OK(nco_tensor_generate(d, d, &rng, &A));
    } else {
      REQUIRE_OK(make_identity(&A, d, d));
    }
    const float *a = A.data;
    nco_problem *pb = NULL;
    REQUIRE_OK(nco_tensor_create(&A, &pb));
    for (int trial = 0; trial < 20; trial++) {
      float x[MAXD], v[MAXD], g[MAXD], hv[MAXD];
      double xd[MAXD], y[MAXD], gy[MAXD], gref[MAXD], vd[MAXD], u[MAXD], hu[MAXD], href[MAXD];
      nco_rng_sphere(&rng, x, d);
      for (size_t j = 0; j < d; j++) xd[j] = x[j];
      apply_A(a, d, d, xd, y);
      /* Ma eq. (5.4) in y-coordinates, back with Aᵀ, negated for the loss. */
      ma_grad_f(d, y, gy);
      apply_At(a, d, d, gy, gref);
      for (size_t j = 0; j < d; j++) gref[j] = -gref[j];
      double loss;
      CHECK_OK(nco_problem_riemannian_grad(pb, x, NULL, d, &loss, g));
      /* Tolerance: |grad| ≤ 4 entrywise; the library rounds the Euclidean
       * gradient and the projected result to float32 (2 × 4·2⁻²⁴ ≈ 5e-7),
       * and the float32 rotation is orthogonal only to ~1.2e-7 (scaled by
       * |grad| ≤ 4: 5e-7). Hence 2e-6. */
      double eg = max_abs_diff_fd(d, g, gref);
      worst_g = fmax(worst_g, eg);
      CHECKF(eg <= 2e-6, "rotated=%d trial %d: |rgrad − eq.5.4| = %.3g", rotated, trial, eg);
      CHECK_CLOSE(nco_dot(d, g, x), 0, 1e-6, 0); /* tangent */

      /* Ma eq. (5.5): tangent v and a general v (the formula projects). */
      nco_rng_normal_fill(&rng, v, d, 0, 1);
      if (trial % 2) nco_problem_project_tangent(pb, x, v);
      for (size_t j = 0; j < d; j++) vd[j] = v[j];
      apply_A(a, d, d, vd, u);
      ma_hess_f(d, y, u, hu);
      apply_At(a, d, d, hu, href);
      for (size_t j = 0; j < d; j++) href[j] = -href[j];
      CHECK_OK(nco_problem_riemannian_hvp(pb, x, NULL, d, v, hv));
      /* Tolerance: ‖Hess‖ ≤ 12 + 4 = 16 and ‖v‖∞ ≲ 3; the library rounds
       * P_x v, the Euclidean gradient, the HVP and the result to float32
       * (≈ 4 roundings of quantities ≤ 16‖v‖, 4·16·3·6e-8 ≈ 1.2e-5 worst
       * case, typically far less), plus the rotation's ~1e-7 defect. */
      double scale = nco_amax(d, v);
      double eh = max_abs_diff_fd(d, hv, href) / (scale > 1 ? scale : 1);
      worst_h = fmax(worst_h, eh);
      CHECKF(eh <= 1.5e-5, "rotated=%d trial %d: |rhess v − eq.5.5| = %.3g", rotated, trial, eh);
    }
    nco_problem_free(pb);
    nco_array_free(&A);
  }
  printf("Riemannian closed forms (Ma 5.4/5.5): max |grad err| %.3g, max |Hess v err|/|v|inf %.3g\n",
         worst_g, worst_h);
}

/* Ma §5 / Theorem 5.2: Riemannian gradient ascent on f (descent on the
 * loss) from random starts ends at ±a_i. */
static void test_descent_reaches_components(void) {
  const size_t d = 10, starts = 50, ks[2] = {10, 5};
  nco_rng rng;
  nco_rng_seed(&rng, 51);
  for (int c = 0; c < 2; c++) {
    size_t k = ks[c];
    nco_array A = {0};
    REQUIRE_OK(nco_tensor_generate(k, d, &rng, &A));
    const float *a = A.data;
    nco_problem *pb = NULL;
    REQUIRE_OK(nco_tensor_create(&A, &pb));
    int hit[MAXD][2] = {{0}};
    size_t max_it = 0, fails = 0;
    double worst_gap = 0, worst_gn = 0;
    for (size_t s = 0; s < starts; s++) {
      float x[MAXD];
      REQUIRE_OK(nco_problem_init(pb, &rng, x));
      /* Step η = 0.05: ‖Hess f‖ ≤ 16 on the sphere, so η < 2/16 keeps the
       * iteration stable; near ±a_i the loss's Riemannian Hessian is 4I
       * (see test_critical_points), giving contraction 1 − 4η = 0.8 per
       * step. Stop at ‖grad‖ ≤ 1e-5: the float32 floor of the projected
       * gradient near ±a_i is ~4·(few ulp) ≈ 1e-6. */
      double gn;
      size_t it = descend(pb, x, 0.05f, 1e-5, 20000, &gn);
      REQUIRE(it != (size_t)-1);
      if (it > max_it) max_it = it;
      worst_gn = fmax(worst_gn, gn);
      size_t best = 0;
      double bc = 0;
      for (size_t i = 0; i < k; i++) {
        double ci = nco_dot(d, a + i * d, x);
        if (fabs(ci) > fabs(bc)) bc = ci, best = i;
      }
      /* Tolerance 1 − 1e-4. At the stop, the distance to ±a_i is about
       * ‖grad‖/4 ≤ 2.5e-6 (Hessian 4I), so 1 − |⟨x,a_i⟩| ≈ ‖x⊥‖²/2 ~ 3e-12;
       * the float32 floor of ⟨x, a_i⟩ for unit float vectors is a few
       * 2⁻²⁴ ≈ 1e-7. 1e-4 (‖x⊥‖ ≈ 0.014) only fails if the run did not
       * converge to a component at all, e.g. stopped near a saddle, whose
       * best |⟨x,a_i⟩| is ≤ 1/√2. */
      double gap = 1 - fabs(bc);
      worst_gap = fmax(worst_gap, gap);
      if (!(gap <= 1e-4)) fails++;
      CHECKF(gap <= 1e-4, "k=%zu start %zu: max |<x,a_i>| = %.9f after %zu steps (|grad| %.3g)", k, s,
             fabs(bc), it, gn);
      hit[best][bc < 0]++;
    }
    size_t distinct = 0, signed_distinct = 0;
    for (size_t i = 0; i < k; i++) {
      distinct += hit[i][0] + hit[i][1] > 0;
      signed_distinct += (hit[i][0] > 0) + (hit[i][1] > 0);
    }
    printf("descent k=%zu d=%zu: %zu starts, %zu failures, %zu/%zu distinct components (%zu/%zu signed), "
           "max 1-|<x,a_i>| %.3g, max steps %zu, max final |grad| %.3g\n",
           k, d, starts, fails, distinct, k, signed_distinct, 2 * k, worst_gap, max_it, worst_gn);
    /* Every component is an attractor with a basin of equal measure (the
     * problem is symmetric under permuting the a_i): with 50 starts and
     * k ≤ 10, each component is missed with probability ≤ (9/10)^50 ≈
     * 0.5%; require at least k − 2 distinct ones. */
    CHECK(distinct + 2 >= k);
    nco_problem_free(pb);
    nco_array_free(&A);
  }
}

/* Critical points of Theorem 5.2's proof: strict saddles at normalised sums
 * of s ≥ 2 components, local minima of the loss at ±a_i. */
static void test_critical_points(void) {
  const size_t d = 10;
  nco_rng rng;
  nco_rng_seed(&rng, 61);
  for (int c = 0; c < 3; c++) {
    size_t k = c == 2 ? 5 : 10;
    nco_array A = {0};
    if (c == 0) {
      REQUIRE_OK(make_identity(&A, k, d));
    } else {
      REQUIRE_OK(nco_tensor_generate(k, d, &rng, &A));
    }
    const float *a = A.data;
    nco_problem *pb = NULL;
    REQUIRE_OK(nco_tensor_create(&A, &pb));
    float x[MAXD], v[MAXD], hv[MAXD], g[MAXD];
    double loss;

    /* Saddles x = (σ₁a₁ + … + σ_s a_s)/√s (Ma eqs. 5.6–5.7). In the
     * a-coordinates, Hess f = P(12 diag(y²) − 4‖y‖₄⁴ I)P with y² = 1/s on
     * the support and ‖y‖₄⁴ = 1/s: eigenvalue 12/s − 4/s = 8/s on tangent
     * directions inside the support (e.g. (a₁ − a₂)/√2 for σ₁ = σ₂), and
     * −4/s outside it. For the loss: −8/s (negative curvature: a strict
     * saddle) and +4/s. Ma eq. (5.9) is this with v = (a₁ − a₂)/2
     * (‖v‖² = ½): ⟨v, Hess f v⟩ = 4τ² = 4/s = (8/s)·‖v‖². (Its middle
     * expression should read 3x₁² + 3x₂² − 2‖x‖₄⁴; the sign is a typo.) */
    for (size_t s = 2; s <= 3; s++) {
      double sgn2 = c == 1 ? -1 : 1; /* also a mixed-sign saddle */
      for (size_t j = 0; j < d; j++) {
        double t = a[0 * d + j] + sgn2 * a[1 * d + j];
        if (s == 3) t += a[2 * d + j];
        x[j] = (float)(t / sqrt((double)s));
      }
      CHECK_OK(nco_problem_riemannian_grad(pb, x, NULL, k, &loss, g));
      /* −f = −s·(1/s)² = −1/s; float32 data: 1e-6. */
      CHECK_CLOSE(loss, -1.0 / (double)s, 1e-6, 0);
      /* grad = 0 exactly in exact arithmetic; float32 rounding of x and
       * of the a_i (≈ 1e-7 relative) times the gradient's Lipschitz
       * constant (≤ 16), plus output rounding: 2e-6. */
      double gn = nco_amax(d, g);
      CHECKF(gn <= 2e-6, "c=%d s=%zu: saddle |rgrad|inf = %.3g", c, s, gn);
      /* negative-curvature direction v = (a₁ − σ a₂)/√2 (tangent) */
      for (size_t j = 0; j < d; j++) v[j] = (float)((a[j] - sgn2 * a[d + j]) / sqrt(2.0));
      CHECK_OK(nco_problem_riemannian_hvp(pb, x, NULL, k, v, hv));
      double q = nco_dot(d, v, hv) / nco_dot(d, v, v);
      printf("c=%d s=%zu saddle: <v,Hess v> = %.9f (closed form %.9f)\n", c, s, q, -8.0 / (double)s);
      CHECK_CLOSE(q, -8.0 / (double)s, 1e-5, 0);
      for (size_t j = 0; j < d; j++) CHECK_CLOSE(hv[j], -8.0 / (double)s * v[j], 1e-5, 0);
      /* positive direction outside the support: a_4 (k ≥ 5 here) */
      const float *w = a + 3 * d;
      CHECK_OK(nco_problem_riemannian_hvp(pb, x, NULL, k, w, hv));
      for (size_t j = 0; j < d; j++) CHECK_CLOSE(hv[j], 4.0 / (double)s * w[j], 1e-5, 0);
      /* the normal direction x is annihilated (P_x on both sides) */
      CHECK_OK(nco_problem_riemannian_hvp(pb, x, NULL, k, x, hv));
      CHECK(nco_amax(d, hv) <= 1e-5);
    }

    /* ±a_1: Hess f = P(12 e₁e₁ᵀ − 4I)P = −4 P, so the loss's Riemannian
     * Hessian is +4 on the whole tangent space (also for k < d: the
     * directions orthogonal to every a_i have Hess f = −4‖y‖₄⁴ = −4). */
    double worst = 0;
    for (int sign = -1; sign <= 1; sign += 2) {
      for (size_t j = 0; j < d; j++) x[j] = (float)sign * a[j];
      CHECK_OK(nco_problem_riemannian_grad(pb, x, NULL, k, &loss, g));
      CHECK_CLOSE(loss, -1.0, 1e-6, 0);
      CHECK(nco_amax(d, g) <= 2e-6);
      for (int t = 0; t < 10; t++) {
        nco_rng_normal_fill(&rng, v, d, 0, 1);
        nco_problem_project_tangent(pb, x, v);
        CHECK_OK(nco_problem_riemannian_hvp(pb, x, NULL, k, v, hv));
        double q = nco_dot(d, v, hv) / nco_dot(d, v, v);
        CHECK_CLOSE(q, 4.0, 1e-5, 0);
        double vs = nco_amax(d, v);
        for (size_t j = 0; j < d; j++) {
          double e = fabs(hv[j] - 4.0 * v[j]) / (vs > 1 ? vs : 1);
          worst = fmax(worst, e);
          /* ≤ 4 float32 roundings of quantities ≤ 16‖v‖∞: 1e-5 */
          CHECK(e <= 1e-5);
        }
      }
    }
    printf("c=%d (k=%zu): at ±a_1, max |Hess v − 4v|/|v|inf = %.3g\n", c, k, worst);
    nco_problem_free(pb);
    nco_array_free(&A);
  }
}

static void test_retraction(void) {
  const size_t d = 10;
  nco_rng rng;
  nco_rng_seed(&rng, 71);
  nco_array A = {0};
  REQUIRE_OK(nco_tensor_generate(d, d, &rng, &A));
  nco_problem *pb = NULL;
  REQUIRE_OK(nco_tensor_create(&A, &pb));
  float x[MAXD], v[MAXD];
  nco_rng_sphere(&rng, x, d);

  /* One step against the formula R_x(tv) = (x + tv)/‖x + tv‖ in double. */
  nco_rng_normal_fill(&rng, v, d, 0, 1);
  nco_problem_project_tangent(pb, x, v);
  CHECK_CLOSE(nco_dot(d, x, v), 0, 1e-6, 0);
  double ref[MAXD], nr = 0;
  for (size_t j = 0; j < d; j++) {
    ref[j] = (double)x[j] + 0.3 * v[j];
    nr += ref[j] * ref[j];
  }
  nco_problem_retract(pb, x, 0.3f, v);
  for (size_t j = 0; j < d; j++) CHECK_CLOSE(x[j], ref[j] / sqrt(nr), 1e-7, 0);

  /* 10⁴ steps of random tangent moves of length ~0.3·√d: each retraction
   * renormalises from scratch in double, so ‖x‖ − 1 is only the float32
   * rounding of the entries, ≤ 2⁻²⁴ ≈ 6e-8, and does not accumulate. The
   * brief's bound 1e-6 has a 16× margin. */
  double worst = 0;
  for (int it = 0; it < 10000; it++) {
    nco_rng_normal_fill(&rng, v, d, 0, 1);
    nco_problem_project_tangent(pb, x, v);
    nco_problem_retract(pb, x, 0.3f, v);
    worst = fmax(worst, fabs(nco_nrm2(d, x) - 1));
  }
  CHECKF(worst <= 1e-6, "max | |x| - 1 | = %.3g", worst);
  /* and 10⁴ descent steps (the test loop of test_descent) */
  nco_rng_sphere(&rng, x, d);
  float g[MAXD];
  double loss, worst2 = 0;
  for (int it = 0; it < 10000; it++) {
    CHECK_OK(nco_problem_riemannian_grad(pb, x, NULL, d, &loss, g));
    nco_problem_retract(pb, x, -0.05f, g);
    worst2 = fmax(worst2, fabs(nco_nrm2(d, x) - 1));
  }
  CHECKF(worst2 <= 1e-6, "max | |x| - 1 | = %.3g (descent)", worst2);
  printf("retraction: max | ||x|| - 1 | over 1e4 random steps %.3g, over 1e4 descent steps %.3g\n", worst,
         worst2);
  nco_problem_free(pb);
  nco_array_free(&A);
}

static void test_bad_input(void) {
  nco_problem *pb = (nco_problem *)&pb; /* must be reset to NULL on error */
  nco_array A = {0};
  double v[4 * 3] = {1, 0, 0, 0, 1, 0, 0, 0, 0, 0.5, 0.5, 0};
  REQUIRE_OK(make_components(&A, 4, 3, v, "bad.npy"));
  CHECK_ERR(nco_tensor_create(&A, &pb), NCO_ERR_RANGE, "bad.npy: components row 2 is zero");
  CHECK(pb == NULL);
  nco_array_free(&A);

  v[2 * 3 + 1] = 1; /* fix the zero row */
  REQUIRE_OK(make_components(&A, 4, 3, v, "bad.npy"));
  ((float *)A.data)[3 * 3 + 2] = NAN;
  CHECK_ERR(nco_tensor_create(&A, &pb), NCO_ERR_NONFINITE, "bad.npy: components has a non-finite value");
  CHECK_ERR(nco_tensor_create(&A, &pb), NCO_ERR_NONFINITE, "(3, 2)");
  ((float *)A.data)[3 * 3 + 2] = INFINITY;
  CHECK_ERR(nco_tensor_create(&A, &pb), NCO_ERR_NONFINITE, "bad.npy");
  nco_array_free(&A);

  /* float64 out of float32 range */
  size_t shape2[2] = {1, 2};
  REQUIRE_OK(nco_array_alloc(&A, NCO_DTYPE_F64, 2, shape2, "big.npy"));
  ((double *)A.data)[0] = 1e300, ((double *)A.data)[1] = 1;
  CHECK_ERR(nco_tensor_create(&A, &pb), NCO_ERR_RANGE, "big.npy: components value");
  nco_array_free(&A);

  /* 1-D and 3-D arrays, zero rows / columns */
  size_t shape1[1] = {5}, shape3[3] = {2, 2, 2}, shape0[2] = {0, 3}, shape0b[2] = {3, 0};
  REQUIRE_OK(nco_array_alloc(&A, NCO_DTYPE_F32, 1, shape1, "vec.npy"));
  nco_fill(5, 1, A.data);
  CHECK_ERR(nco_tensor_create(&A, &pb), NCO_ERR_SHAPE, "vec.npy: components has shape (5,), expected (*, *)");
  nco_array_free(&A);
  REQUIRE_OK(nco_array_alloc(&A, NCO_DTYPE_F32, 3, shape3, "cube.npy"));
  CHECK_ERR(nco_tensor_create(&A, &pb), NCO_ERR_SHAPE, "cube.npy: components has shape (2, 2, 2)");
  nco_array_free(&A);
  REQUIRE_OK(nco_array_alloc(&A, NCO_DTYPE_F32, 2, shape0, "empty.npy"));
  CHECK_ERR(nco_tensor_create(&A, &pb), NCO_ERR_SHAPE, "empty.npy: components has shape (0, 3)");
  nco_array_free(&A);
  REQUIRE_OK(nco_array_alloc(&A, NCO_DTYPE_F32, 2, shape0b, "empty.npy"));
  CHECK_ERR(nco_tensor_create(&A, &pb), NCO_ERR_SHAPE, "empty.npy: components has shape (3, 0)");
  nco_array_free(&A);
  CHECK_ERR(nco_tensor_create(NULL, &pb), NCO_ERR_INVALID, "components");
  CHECK(pb == NULL);

  /* batch validation comes from the dispatcher */
  REQUIRE_OK(make_identity(&A, 3, 3));
  REQUIRE_OK(nco_tensor_create(&A, &pb));
  float x[3] = {1, 0, 0}, g[3];
  double l;
  size_t idx[2] = {0, 3};
  CHECK_ERR(nco_problem_eval(pb, x, idx, 2, &l, g), NCO_ERR_RANGE, "sample index 3");
  nco_problem_free(pb);
  nco_array_free(&A);
}

int main(void) {
  RUN(test_generator);
  RUN(test_properties_and_values);
  RUN(test_derivative_checks);
  RUN(test_riemannian_closed_forms);
  RUN(test_descent_reaches_components);
  RUN(test_critical_points);
  RUN(test_retraction);
  RUN(test_bad_input);
  return nco_test_summary();
}
