/* tests/test_spectra.c — Lanczos (nco_lanczos), Golub–Kahan–Lanczos
 * (nco_svd_extremes), Hessian extremes (Euclidean and Riemannian) and
 * Jacobian singular values, against references computed here in double:
 *   - spectra known by construction (diagonal operators; matrices built as
 *     Q·diag(λ)·Qᵀ with a Householder reflector Q);
 *   - random dense symmetric matrices, eigenvalues from a cyclic Jacobi
 *     eigen-solver written below;
 *   - singular values from a one-sided (Hestenes) Jacobi SVD written below,
 *     of Jacobians formed here from the problem's formulas (not from its
 *     JVP);
 *   - PCA ½‖M − xxᵀ‖²_F at its stationary points x = √λ_i v_i, where
 *     ∇f = 2(‖x‖²x − Mx) and ∇²f = 2(2xxᵀ − M + ‖x‖²I) (derived below; Ma's
 *     eqs. 4.2–4.3 omit the factor 2), with eigenvalues 4λ_i on v_i and
 *     2(λ_i − λ_k) on v_k;
 *   - the tensor objective's Riemannian Hessian (loss −Σ⟨a_i,x⟩⁴, Ma §5) at
 *     ±a_1 (+4 on the whole tangent space) and at (a_1 + a_2)/√2 (−4 along
 *     (a_1 − a_2)/√2, +2 elsewhere), derived below.
 * Measured accuracies are printed (grep "accuracy").
 *
 * Tolerances. Every operator here is applied in float32 (the interface's
 * precision): input and output roundings perturb A by ‖E‖ ≲ 2u‖A‖ per
 * application (u = 2⁻²⁴ ≈ 6e-8), more for operators with several float
 * stages (HVP = JᵀJv + Σ r∇²g v: ~5 roundings). A Ritz value returned with
 * residual ρ is within ρ + ‖E‖ of an eigenvalue (Kahan; Weyl), and the
 * default tol makes ρ ≤ 1e-6‖A‖. Hence the bounds used below:
 *   2e-6·‖A‖ for one-stage operators (1e-6 tol + 2u = 1.1e-6, ×2 margin),
 *   1e-5·‖A‖ for problem HVPs/JVPs (≤ 10 roundings of vectors of norm
 *   ≤ 2‖A‖ ≈ 1.2e-6, plus the 1e-6 tol, ×4 margin). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/spectra.h"
#include "testlib.h"

/* ---- dense references (double) ------------------------------------------ */

/* Eigenvalues (ascending) of a symmetric n×n matrix by cyclic Jacobi. */
static void jacobi_eig(const double *A_in, size_t n, double *ev) {
  double *A = malloc(n * n * sizeof *A);
  memcpy(A, A_in, n * n * sizeof *A);
  for (int sweep = 0; sweep < 100; sweep++) {
    double off = 0, tot = 0;
    for (size_t p = 0; p < n; p++)
      for (size_t q = 0; q < n; q++) {
        tot += A[p * n + q] * A[p * n + q];
        if (p != q) off += A[p * n + q] * A[p * n + q];
      }
    if (off <= 1e-30 * tot) break;
    for (size_t p = 0; p + 1 < n; p++)
      for (size_t q = p + 1; q < n; q++) {
        double apq = A[p * n + q];
        if (apq == 0) continue;
        double th = (A[q * n + q] - A[p * n + p]) / (2 * apq);
        double t = (th >= 0 ? 1.0 : -1.0) / (fabs(th) + sqrt(th * th + 1));
        double c = 1 / sqrt(t * t + 1), s = t * c;
        for (size_t k = 0; k < n; k++) {
          double akp = A[k * n + p], akq = A[k * n + q];
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (size_t k = 0; k < n; k++) {
          double apk = A[p * n + k], aqk = A[q * n + k];
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
      }
  }
  for (size_t i = 0; i < n; i++) ev[i] = A[i * n + i];
  for (size_t i = 1; i < n; i++) /* insertion sort, ascending */
    for (size_t j = i; j > 0 && ev[j] < ev[j - 1]; j--) {
      double t = ev[j];
      ev[j] = ev[j - 1], ev[j - 1] = t;
    }
  free(A);
}

/* Singular values (descending, min(m, n) of them) of an m×n row-major
 * matrix by one-sided Jacobi (Hestenes 1958) on the columns of the taller
 * orientation: rotate column pairs until all are orthogonal; the column
 * norms are then the singular values. */
static void jacobi_svd(const double *A, size_t m, size_t n, double *sv) {
  int tr = n > m;
  size_t r = tr ? n : m, c = tr ? m : n; /* B is r × c, r ≥ c */
  double *B = malloc(r * c * sizeof *B);
  for (size_t i = 0; i < r; i++)
    for (size_t j = 0; j < c; j++) B[i * c + j] = tr ? A[j * n + i] : A[i * n + j];
  for (int sweep = 0; sweep < 60; sweep++) {
    double worst = 0;
    for (size_t p = 0; p + 1 < c; p++)
      for (size_t q = p + 1; q < c; q++) {
        double a = 0, b = 0, g = 0;
        for (size_t i = 0; i < r; i++) {
          a += B[i * c + p] * B[i * c + p];
          b += B[i * c + q] * B[i * c + q];
          g += B[i * c + p] * B[i * c + q];
        }
        if (a == 0 || b == 0) continue;
        double cs = fabs(g) / sqrt(a * b);
        if (cs > worst) worst = cs;
        if (cs < 1e-15) continue;
        double zeta = (b - a) / (2 * g);
        double t = (zeta >= 0 ? 1.0 : -1.0) / (fabs(zeta) + sqrt(1 + zeta * zeta));
        double co = 1 / sqrt(1 + t * t), si = co * t;
        for (size_t i = 0; i < r; i++) {
          double x = B[i * c + p], y = B[i * c + q];
          B[i * c + p] = co * x - si * y;
          B[i * c + q] = si * x + co * y;
        }
      }
    if (worst < 1e-15) break;
  }
  for (size_t j = 0; j < c; j++) {
    double s = 0;
    for (size_t i = 0; i < r; i++) s += B[i * c + j] * B[i * c + j];
    sv[j] = sqrt(s);
  }
  for (size_t i = 1; i < c; i++) /* descending */
    for (size_t j = i; j > 0 && sv[j] > sv[j - 1]; j--) {
      double t = sv[j];
      sv[j] = sv[j - 1], sv[j - 1] = t;
    }
  free(B);
}

/* Householder reflector Q = I − 2uuᵀ/‖u‖² (orthogonal, symmetric), u_i =
 * 1 + i + 0.3·i². Column k of Q is an orthonormal eigenvector below. */
static void householder(size_t n, double *Q) {
  double uu = 0, *u = malloc(n * sizeof *u);
  for (size_t i = 0; i < n; i++) u[i] = 1 + (double)i + 0.3 * (double)(i * i), uu += u[i] * u[i];
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) Q[i * n + j] = (i == j) - 2 * u[i] * u[j] / uu;
  free(u);
}

/* ---- operators ---------------------------------------------------------- */

typedef struct {
  size_t n, m;        /* dense: n×n (symmetric) or m×n (rectangular) */
  const double *A;    /* row-major, or NULL for the diagonal operator */
  const double *diag; /* diagonal entries */
  long fail_at;       /* return an error / NaN at this call (−1: never) */
  int nan;            /* 1: NaN instead of an error */
  long calls;
} op_t;

static int sym_op(void *c, const float *v, float *out) {
  op_t *o = c;
  if (o->calls++ == o->fail_at) {
    if (o->nan) {
      for (size_t i = 0; i < o->n; i++) out[i] = 0;
      out[o->n / 2] = NAN;
      return NCO_OK;
    }
    return nco_error(NCO_ERR_IO, "test operator failed on purpose");
  }
  for (size_t i = 0; i < o->n; i++) {
    double s = 0;
    if (o->A)
      for (size_t j = 0; j < o->n; j++) s += o->A[i * o->n + j] * v[j];
    else
      s = o->diag[i] * v[i];
    out[i] = (float)s;
  }
  return NCO_OK;
}

static int rect_op(void *c, int trans, const float *in, float *out) {
  op_t *o = c;
  o->calls++;
  if (!trans)
    for (size_t i = 0; i < o->m; i++) {
      double s = 0;
      for (size_t j = 0; j < o->n; j++) s += o->A[i * o->n + j] * in[j];
      out[i] = (float)s;
    }
  else
    for (size_t j = 0; j < o->n; j++) {
      double s = 0;
      for (size_t i = 0; i < o->m; i++) s += o->A[i * o->n + j] * in[i];
      out[j] = (float)s;
    }
  return NCO_OK;
}

/* k extremes of a sorted (ascending) reference vs hi/lo; returns max error. */
static double cmp_extremes(size_t n, const double *ref, size_t k, const double *hi, const double *lo) {
  double e = 0;
  for (size_t i = 0; i < k; i++) {
    if (hi) e = fmax(e, fabs(hi[i] - ref[n - 1 - i]));
    if (lo) e = fmax(e, fabs(lo[i] - ref[i]));
  }
  return e;
}

/* ---- Lanczos on known spectra ------------------------------------------- */

/* Diagonal n = 400: outliers 10, 9, 8.5 and −6, −5.5, −5 around a bulk
 * spread over [−2, 3]. Default options: converges well before n. */
static void test_diagonal(void) {
  enum { N = 400 };
  double d[N], ref[N];
  for (size_t i = 0; i < N; i++) d[i] = -2 + 5.0 * (double)((i * 37) % N) / N;
  double out[6] = {10, 9, 8.5, -6, -5.5, -5};
  for (size_t i = 0; i < 6; i++) d[(i * 61 + 5) % N] = out[i];
  memcpy(ref, d, sizeof ref); /* the spectrum of a diagonal matrix, sorted: */
  for (size_t i = 1; i < N; i++)
    for (size_t j = i; j > 0 && ref[j] < ref[j - 1]; j--) {
      double t = ref[j];
      ref[j] = ref[j - 1], ref[j - 1] = t;
    }
  op_t o = {.n = N, .diag = d, .fail_at = -1};
  for (size_t k = 1; k <= 3; k++) {
    double hi[3], lo[3];
    nco_lanczos_info info;
    REQUIRE_OK(nco_lanczos(N, sym_op, &o, NULL, k, hi, lo, &info));
    CHECK(info.converged);
    CHECK(info.iterations < N);
    CHECK(info.max_residual <= 1e-6);
    double err = cmp_extremes(N, ref, k, hi, lo);
    printf("accuracy: diagonal n=%d k=%zu: max |Ritz − λ| = %.3g (‖A‖ = 10), %zu iterations\n", N, k, err,
           info.iterations);
    CHECK(err <= 2e-6 * 10);
    /* hi only / lo only */
    double h1, l1;
    CHECK_OK(nco_lanczos(N, sym_op, &o, NULL, 1, &h1, NULL, NULL));
    CHECK_CLOSE(h1, 10, 2e-5, 0);
    CHECK_OK(nco_lanczos(N, sym_op, &o, NULL, 1, NULL, &l1, NULL));
    CHECK_CLOSE(l1, -6, 2e-5, 0);
  }
}

/* Random dense symmetric (G + Gᵀ)/2, G ~ N(0, 1/n), n = 80: k = 1..4 with
 * default options, and the whole spectrum at max_iter = n. */
static void test_dense_random(void) {
  enum { N = 80 };
  double *A = malloc(N * N * sizeof *A), ev[N];
  nco_rng rng;
  nco_rng_seed(&rng, 2024);
  for (size_t i = 0; i < N; i++)
    for (size_t j = 0; j <= i; j++) {
      double g = nco_rng_normal(&rng) / sqrt((double)N);
      A[i * N + j] = A[j * N + i] = i == j ? g : g / sqrt(2.0);
    }
  jacobi_eig(A, N, ev);
  double anorm = fmax(fabs(ev[0]), fabs(ev[N - 1]));
  op_t o = {.n = N, .A = A, .fail_at = -1};
  for (size_t k = 1; k <= 4; k++) {
    double hi[4], lo[4];
    nco_lanczos_info info;
    CHECK_OK(nco_lanczos(N, sym_op, &o, NULL, k, hi, lo, &info));
    double err = cmp_extremes(N, ev, k, hi, lo);
    printf("accuracy: dense random n=%d k=%zu: max |Ritz − λ| / ‖A‖ = %.3g, %zu iterations\n", N, k, err / anorm,
           info.iterations);
    CHECK(err <= 2e-6 * anorm);
  }
  /* whole spectrum: k = n/2 from each end at max_iter = n, tol unreachable */
  nco_lanczos_opts op = nco_lanczos_defaults();
  op.tol = 1e-15;
  op.max_iter = N;
  double hi[N / 2], lo[N / 2];
  nco_lanczos_info info;
  CHECK_OK(nco_lanczos(N, sym_op, &o, &op, N / 2, hi, lo, &info));
  CHECK(info.iterations == N);
  double err = cmp_extremes(N, ev, N / 2, hi, lo);
  printf("accuracy: dense random n=%d whole spectrum: max |θ − λ| / ‖A‖ = %.3g\n", N, err / anorm);
  CHECK(err <= 2e-6 * anorm);
  /* seed changes the start, not the answer */
  op = nco_lanczos_defaults();
  op.seed = 99;
  double h2;
  CHECK_OK(nco_lanczos(N, sym_op, &o, &op, 1, &h2, NULL, NULL));
  CHECK_CLOSE(h2, ev[N - 1], 2e-6 * anorm, 0);
  /* no reorthogonalisation: the extreme value still converges (ghosts
   * only duplicate it) */
  op = nco_lanczos_defaults();
  op.reorth = 0;
  CHECK_OK(nco_lanczos(N, sym_op, &o, &op, 1, &h2, NULL, NULL));
  CHECK_CLOSE(h2, ev[N - 1], 2e-6 * anorm, 0);
  free(A);
}

/* A = Q diag(λ) Qᵀ with a Householder Q, a tight cluster at the top
 * (10, 10 − 1e-3, 10 − 2e-3) and the rest in [0, 5], n = 150. The cluster
 * members are separated (full reorthogonalisation: no ghosts). */
static void test_clustered(void) {
  enum { N = 150 };
  double *Q = malloc(N * N * sizeof *Q), *A = calloc(N * N, sizeof *A), lam[N];
  householder(N, Q);
  for (size_t i = 0; i < N; i++) lam[i] = 5.0 * (double)i / N;
  lam[N - 1] = 10, lam[N - 2] = 10 - 1e-3, lam[N - 3] = 10 - 2e-3;
  for (size_t i = 0; i < N; i++)
    for (size_t j = 0; j < N; j++) {
      double s = 0;
      for (size_t k = 0; k < N; k++) s += Q[i * N + k] * lam[k] * Q[j * N + k];
      A[i * N + j] = s;
    }
  op_t o = {.n = N, .A = A, .fail_at = -1};
  nco_lanczos_opts op = nco_lanczos_defaults();
  op.max_iter = N;
  double hi[3];
  nco_lanczos_info info;
  CHECK_OK(nco_lanczos(N, sym_op, &o, &op, 3, hi, NULL, &info));
  double err = cmp_extremes(N, lam, 3, hi, NULL);
  printf("accuracy: cluster (gaps 1e-3 at 10) n=%d: max error %.3g, %zu iterations\n", N, err, info.iterations);
  CHECK(err <= 2e-6 * 10);
  CHECK(hi[0] - hi[1] > 5e-4 && hi[1] - hi[2] > 5e-4); /* resolved, not merged */
  free(Q), free(A);
}

/* Repeated eigenvalues. (a) 7 three times among 57 distinct values: in
 * exact arithmetic the Krylov space of one start vector holds one copy;
 * in floating point the other copies enter through rounding and usually
 * converge too. Either is allowed (spectra.h): hi[0] = 7 and each hi[i] is
 * an eigenvalue. (b) Only three distinct values
 * {7 ×3, 1 ×4, −2 ×3}: the Krylov space breaks down after 3 steps; asking
 * for 2k = 10 values makes Lanczos restart orthogonally until the space is
 * exhausted, which returns every eigenvalue with its multiplicity. */
static void test_repeated(void) {
  enum { N = 60 };
  double d[N];
  for (size_t i = 0; i < N; i++) d[i] = -1 + 3.0 * (double)i / N;
  d[10] = d[20] = d[30] = 7;
  op_t o = {.n = N, .diag = d, .fail_at = -1};
  double hi[3];
  nco_lanczos_info info;
  CHECK_OK(nco_lanczos(N, sym_op, &o, NULL, 3, hi, NULL, &info));
  CHECK_CLOSE(hi[0], 7, 2e-6 * 7, 0);
  for (size_t i = 1; i < 3; i++) {
    double near = INFINITY;
    for (size_t j = 0; j < N; j++) near = fmin(near, fabs(hi[i] - d[j]));
    CHECK(near <= 2e-6 * 7);
    CHECK(hi[i] >= d[N - i] - 2e-6 * 7); /* nothing in between is missed */
  }

  double d2[10] = {7, 1, -2, 1, 7, -2, 1, 7, -2, 1};
  op_t o2 = {.n = 10, .diag = d2, .fail_at = -1};
  double h[5], l[5];
  CHECK_OK(nco_lanczos(10, sym_op, &o2, NULL, 5, h, l, &info));
  double eh[5] = {7, 7, 7, 1, 1}, el[5] = {-2, -2, -2, 1, 1};
  for (size_t i = 0; i < 5; i++) {
    CHECK_CLOSE(h[i], eh[i], 2e-6 * 7, 0);
    CHECK_CLOSE(l[i], el[i], 2e-6 * 7, 0);
  }
  CHECK(info.restarts >= 2);
  CHECK(info.iterations == 10);
  CHECK(info.converged);
}

/* Exact Krylov breakdown. A = 3I: the first Lanczos vector is an
 * eigenvector (β₁ = 0 up to rounding): k = 1 from both ends needs two Ritz
 * values, so one restart, then stop. A = 0: β = 0 exactly. A start vector
 * inside an invariant subspace (e₀ + e₁ of a diagonal matrix) gives the
 * exact eigenvalues of that subspace — the documented caveat of a
 * user-supplied start. */
static void test_breakdown(void) {
  enum { N = 50 };
  double d[N];
  for (size_t i = 0; i < N; i++) d[i] = 3;
  op_t o = {.n = N, .diag = d, .fail_at = -1};
  double hi, lo;
  nco_lanczos_info info;
  CHECK_OK(nco_lanczos(N, sym_op, &o, NULL, 1, &hi, &lo, &info));
  CHECK_CLOSE(hi, 3, 1e-6, 0);
  CHECK_CLOSE(lo, 3, 1e-6, 0);
  CHECK(info.iterations == 2 && info.restarts == 1 && info.converged);
  CHECK(o.calls == 2);

  for (size_t i = 0; i < N; i++) d[i] = 0;
  CHECK_OK(nco_lanczos(N, sym_op, &o, NULL, 1, &hi, &lo, &info));
  CHECK(hi == 0 && lo == 0);
  CHECK(info.converged);

  for (size_t i = 0; i < N; i++) d[i] = (double)i + 1;
  float start[N] = {0};
  start[3] = 1, start[7] = 2;
  nco_lanczos_opts op = nco_lanczos_defaults();
  op.start = start;
  CHECK_OK(nco_lanczos(N, sym_op, &o, &op, 1, &hi, &lo, &info));
  CHECK_CLOSE(hi, 8, 1e-5, 0);
  CHECK_CLOSE(lo, 4, 1e-5, 0);
  CHECK(info.iterations == 2 && info.restarts == 0);
  /* asking for more than the subspace holds restarts into the rest */
  double h3[3], l3[3];
  CHECK_OK(nco_lanczos(N, sym_op, &o, &op, 3, h3, l3, &info));
  CHECK(info.restarts >= 1);
  CHECK_CLOSE(h3[0], 50, 2e-6 * 50, 0);
  CHECK_CLOSE(l3[0], 1, 2e-6 * 50, 0);
}

static void test_errors(void) {
  double d[8] = {1, 2, 3, 4, 5, 6, 7, 8}, hi, lo;
  op_t o = {.n = 8, .diag = d, .fail_at = -1};
  CHECK_ERR(nco_lanczos(8, NULL, &o, NULL, 1, &hi, &lo, NULL), NCO_ERR_INVALID, "needs an operator");
  CHECK_ERR(nco_lanczos(8, sym_op, &o, NULL, 1, NULL, NULL, NULL), NCO_ERR_INVALID, "an output");
  CHECK_ERR(nco_lanczos(8, sym_op, &o, NULL, 9, &hi, &lo, NULL), NCO_ERR_RANGE, "k = 9 exceeds");
  nco_lanczos_opts op = nco_lanczos_defaults();
  op.tol = 0;
  CHECK_ERR(nco_lanczos(8, sym_op, &o, &op, 1, &hi, &lo, NULL), NCO_ERR_RANGE, "tol must be > 0");
  op = nco_lanczos_defaults();
  op.max_iter = 0;
  CHECK_ERR(nco_lanczos(8, sym_op, &o, &op, 1, &hi, &lo, NULL), NCO_ERR_RANGE, "max_iter");
  float z[8] = {0};
  op = nco_lanczos_defaults();
  op.start = z;
  CHECK_ERR(nco_lanczos(8, sym_op, &o, &op, 1, &hi, &lo, NULL), NCO_ERR_INVALID, "starting vector is zero");
  o.fail_at = 2;
  CHECK_ERR(nco_lanczos(8, sym_op, &o, NULL, 1, &hi, &lo, NULL), NCO_ERR_IO, "failed on purpose");
  o.calls = 0, o.nan = 1;
  CHECK_ERR(nco_lanczos(8, sym_op, &o, NULL, 1, &hi, &lo, NULL), NCO_ERR_NONFINITE, "entry 4 (iteration 2)");
  /* a cap below convergence is reported, not an error */
  double big[200];
  for (size_t i = 0; i < 200; i++) big[i] = (double)i / 200;
  op_t ob = {.n = 200, .diag = big, .fail_at = -1};
  op = nco_lanczos_defaults();
  op.max_iter = 5;
  nco_lanczos_info info;
  CHECK_OK(nco_lanczos(200, sym_op, &ob, &op, 1, &hi, &lo, &info));
  CHECK(!info.converged && info.iterations == 5 && info.max_residual > 1e-6);
}

/* ---- Golub–Kahan–Lanczos against a dense SVD ----------------------------- */

static void svd_case(size_t m, size_t n, size_t rank, uint64_t seed) {
  double *A = calloc(m * n, sizeof *A), *sv = malloc((m < n ? m : n) * sizeof *sv);
  nco_rng rng;
  nco_rng_seed(&rng, seed);
  /* A = Σ_{l<rank} g_l h_lᵀ (rank-deficient when rank < min(m, n)) */
  for (size_t l = 0; l < rank; l++) {
    double g[64], h[64];
    for (size_t i = 0; i < m; i++) g[i] = nco_rng_normal(&rng);
    for (size_t j = 0; j < n; j++) h[j] = nco_rng_normal(&rng) / sqrt((double)n);
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++) A[i * n + j] += g[i] * h[j];
  }
  jacobi_svd(A, m, n, sv);
  size_t q = m < n ? m : n;
  op_t o = {.m = m, .n = n, .A = A, .fail_at = -1};
  double hi[3], lo[3];
  nco_lanczos_info info;
  CHECK_OK(nco_svd_extremes(m, n, rect_op, &o, NULL, 3, hi, lo, &info));
  /* a rank-deficient A has q − rank zero singular values, seen once
   * (spectra.h): then only lo[0] is compared (with 0) */
  double err = 0;
  for (size_t i = 0; i < 3; i++) {
    err = fmax(err, fabs(hi[i] - sv[i]));
    if (rank == q || i == 0) err = fmax(err, fabs(lo[i] - sv[q - 1 - i]));
  }
  printf("accuracy: GKL %zu×%zu rank %zu: max |σ − σ_ref|/σ_max = %.3g (σ_min ref %.4g), %zu iterations\n", m, n, rank,
         err / sv[0], sv[q - 1], info.iterations);
  CHECK(err <= 2e-6 * sv[0]);
  CHECK(info.converged);
  if (rank < q) CHECK(lo[0] <= 2e-6 * sv[0]);
  free(A), free(sv);
}

static void test_svd(void) {
  svd_case(40, 12, 12, 1);  /* tall */
  svd_case(12, 40, 12, 2);  /* wide: works on Aᵀ, no spurious zeros */
  svd_case(25, 25, 25, 3);  /* square */
  svd_case(12, 40, 5, 4);   /* rank deficient */
  svd_case(40, 12, 5, 5);
  double A[6] = {0};
  op_t o = {.m = 2, .n = 3, .A = A, .fail_at = -1};
  double hi, lo;
  CHECK_OK(nco_svd_extremes(2, 3, rect_op, &o, NULL, 1, &hi, &lo, NULL)); /* zero map */
  CHECK(hi == 0 && lo == 0);
  CHECK_ERR(nco_svd_extremes(2, 3, rect_op, &o, NULL, 3, &hi, &lo, NULL), NCO_ERR_RANGE, "k = 3 exceeds");
}

/* ---- Hessians of problems ----------------------------------------------- */

static int f32_matrix(nco_array *a, size_t r, size_t c, const double *v, const char *origin) {
  size_t shape[2] = {r, c};
  int st = nco_array_alloc(a, NCO_DTYPE_F32, 2, shape, origin);
  if (st) return st;
  float *p = a->data;
  for (size_t i = 0; i < r * c; i++) p[i] = (float)v[i];
  return NCO_OK;
}

/* PCA rank 1, f(x) = ½‖M − xxᵀ‖²_F = ½Σ_ij (x_i x_j − M_ij)²:
 *   ∂f/∂x_k = Σ_ij (x_i x_j − M_ij)(δ_ik x_j + x_i δ_jk) = 2(‖x‖²x − Mx)_k,
 *   ∇²f = 2(‖x‖² I + 2xxᵀ − M).
 * With M = Σ λ_k v_k v_kᵀ and x = √λ_i v_i: ∇f = 0, ∇²f v_i = 4λ_i v_i,
 * ∇²f v_k = 2(λ_i − λ_k) v_k. λ = (5, 3, 2, 1, 0.5, 0.25, −0.5, −1):
 * at i = 0 the spectrum is {20, 12, 11, 9.5, 9, 8, 6, 4} (a minimum), at
 * i = 1 it is {12, 8, 7, 5.5, 5, 4, 2, −4} (a strict saddle). */
/* M = Q diag(lam) Qᵀ for a Householder Q (n ≤ 8), symmetric to the last
 * bit before rounding to float. */
static void pca_matrix(size_t n, const double *lam, double *Q, double *M) {
  householder(n, Q);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      double s = 0;
      for (size_t k = 0; k < n; k++) s += Q[i * n + k] * lam[k] * Q[j * n + k];
      M[i * n + j] = s;
    }
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < i; j++) M[i * n + j] = M[j * n + i];
}

static void test_pca_hessian(void) {
  enum { N = 8 };
  double lam[N] = {5, 3, 2, 1, 0.5, 0.25, -0.5, -1}, Q[N * N], M[N * N];
  pca_matrix(N, lam, Q, M);
  nco_array Ma = {0};
  REQUIRE_OK(f32_matrix(&Ma, N, N, M, "test:pca-M"));
  nco_problem *pb = NULL;
  REQUIRE_OK(nco_pca_create(&Ma, 1, &pb));
  const float *Mf = Ma.data;
  for (int which = 0; which < 2; which++) {
    float x[N];
    for (size_t j = 0; j < N; j++) x[j] = (float)(sqrt(lam[which]) * Q[j * N + which]);
    CHECK_OK(nco_check_hvp(pb, x, NULL, N, NULL, NULL));
    /* closed form, analytically */
    double ref[N];
    for (size_t k = 0; k < N; k++) ref[k] = k == (size_t)which ? 4 * lam[which] : 2 * (lam[which] - lam[k]);
    for (size_t i = 1; i < N; i++)
      for (size_t j = i; j > 0 && ref[j] < ref[j - 1]; j--) {
        double t = ref[j];
        ref[j] = ref[j - 1], ref[j - 1] = t;
      }
    /* and the closed-form matrix 2(‖x‖²I + 2xxᵀ − M) at the float x and
     * float M, by Jacobi: confirms the formula's eigenvalues */
    double H[N * N], evH[N], xx = 0;
    for (size_t j = 0; j < N; j++) xx += (double)x[j] * x[j];
    for (size_t i = 0; i < N; i++)
      for (size_t j = 0; j < N; j++) H[i * N + j] = 2 * ((i == j) * xx + 2.0 * x[i] * x[j] - Mf[i * N + j]);
    jacobi_eig(H, N, evH);
    double hn = fmax(fabs(ref[0]), fabs(ref[N - 1]));
    for (size_t k = 0; k < N; k++) CHECK_CLOSE(evH[k], ref[k], 1e-6 * hn, 0); /* float M, x: ~u·‖H‖ */
    /* gradient vanishes (to float rounding) */
    double loss;
    float g[N];
    CHECK_OK(nco_problem_eval(pb, x, NULL, N, &loss, g));
    CHECK(nco_nrm2(N, g) <= 1e-5 * hn);
    double hi[3], lo[3];
    nco_lanczos_info info;
    REQUIRE_OK(nco_hessian_extremes(pb, x, NULL, N, NULL, 3, hi, lo, &info));
    double err = cmp_extremes(N, evH, 3, hi, lo);
    printf("accuracy: PCA Hessian at √λ_%d v_%d: max |Ritz − closed form| / ‖H‖ = %.3g, %zu HVPs\n", which, which,
           err / hn, info.matvecs);
    CHECK(err <= 1e-5 * hn);
    /* whole spectrum */
    double h4[4], l4[4];
    CHECK_OK(nco_hessian_extremes(pb, x, NULL, N, NULL, 4, h4, l4, NULL));
    CHECK(cmp_extremes(N, evH, 4, h4, l4) <= 1e-5 * hn);
  }
  /* a minibatch: rows {0, 3, 5} of the residual. Its Hessian is formed
   * here from the residual definition g_ij = (xxᵀ − M)_ij, i ∈ S:
   * ∇²(½Σ g²) = Σ_{i∈S,j} (∇g_ij ∇g_ijᵀ + g_ij ∇²g_ij), ∇g_ij = x_j e_i +
   * x_i e_j, ∇²g_ij = e_i e_jᵀ + e_j e_iᵀ. */
  {
    size_t S[3] = {0, 3, 5};
    float x[N];
    for (size_t j = 0; j < N; j++) x[j] = (float)(0.3 + 0.1 * (double)j);
    double H[N * N] = {0}, ev[N];
    for (size_t s = 0; s < 3; s++) {
      size_t i = S[s];
      for (size_t j = 0; j < N; j++) {
        double gv[N] = {0};
        gv[i] += x[j], gv[j] += x[i];
        double r = (double)x[i] * x[j] - Mf[i * N + j];
        for (size_t a = 0; a < N; a++)
          for (size_t b = 0; b < N; b++) H[a * N + b] += gv[a] * gv[b];
        H[i * N + j] += r, H[j * N + i] += r;
      }
    }
    jacobi_eig(H, N, ev);
    double hi[2], lo[2], hn = fmax(fabs(ev[0]), fabs(ev[N - 1]));
    CHECK_OK(nco_hessian_extremes(pb, x, S, 3, NULL, 2, hi, lo, NULL));
    CHECK(cmp_extremes(N, ev, 2, hi, lo) <= 1e-5 * hn);
  }
  CHECK_ERR(nco_hessian_extremes(pb, Mf, NULL, 3, NULL, 1, NULL, NULL, NULL), NCO_ERR_INVALID, "needs nb = n = 8");
  nco_problem_free(pb);
  nco_array_free(&Ma);
}

/* Tensor loss ℓ(x) = −Σ_i ⟨a_i,x⟩⁴ with orthonormal a_i, on the sphere.
 * ∇ℓ = −4Σ⟨a_i,x⟩³a_i, ∇²ℓ = −12Σ⟨a_i,x⟩² a_i a_iᵀ; the Riemannian Hessian
 * is P_x(∇²ℓ − ⟨x,∇ℓ⟩I)P_x (Ma eq. 5.5).
 *  x = ±a_1: ⟨x,∇ℓ⟩ = −4, ∇²ℓ = −12 a_1a_1ᵀ vanishes on T_x = a_1^⊥: the
 *    Riemannian Hessian is +4·I on T_x (a strict local minimum of ℓ, a
 *    maximum of f). Its Euclidean Hessian has −12 along a_1 (excluded).
 *  x = (a_1 + a_2)/√2: ⟨a_{1,2},x⟩² = ½, ⟨x,∇ℓ⟩ = −4·2·¼ = −2,
 *    ∇²ℓ = −6(a_1a_1ᵀ + a_2a_2ᵀ); along u = (a_1 − a_2)/√2 ∈ T_x:
 *    uᵀ∇²ℓu + 2 = −6 + 2 = −4; along any other tangent direction (⊥ a_1,
 *    a_2): 0 + 2 = +2. A strict saddle: spectrum {−4, 2 (d − 2 times)}.
 *  x = (a_1 + a_2 + a_3)/√3: ⟨x,∇ℓ⟩ = −4/3, ∇²ℓ = −4Σ_{i≤3}a_ia_iᵀ:
 *    −4 + 4/3 = −8/3 on span{a_1..a_3} ∩ T_x (twice), +4/3 elsewhere. */
static void test_tensor_hessian(void) {
  enum { D = 7, K = 5 };
  double Q[D * D], comp[K * D];
  householder(D, Q);
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < D; j++) comp[i * D + j] = Q[j * D + i]; /* a_i = column i of Q */
  nco_array A = {0};
  REQUIRE_OK(f32_matrix(&A, K, D, comp, "test:tensor"));
  nco_problem *pb = NULL;
  REQUIRE_OK(nco_tensor_create(&A, &pb));
  const float *a = A.data;
  /* float components are orthonormal to ~u; eigenvalues O(4), HVP scale 12 */
  const double tol = 1e-5 * 12;
  for (int sgn = -1; sgn <= 1; sgn += 2) {
    float x[D];
    for (size_t j = 0; j < D; j++) x[j] = (float)sgn * a[j];
    double hi[2], lo[2];
    nco_lanczos_info info;
    CHECK_OK(nco_hessian_extremes(pb, x, NULL, K, NULL, 2, hi, lo, &info));
    for (size_t i = 0; i < 2; i++) {
      CHECK_CLOSE(hi[i], 4, tol, 0);
      CHECK_CLOSE(lo[i], 4, tol, 0);
    }
    printf("accuracy: tensor Riemannian Hessian at %sa_1: [%.9g, %.9g] (exact 4), %zu HVPs\n", sgn > 0 ? "+" : "−",
           lo[0], hi[0], info.matvecs);
  }
  {
    float x[D];
    for (size_t j = 0; j < D; j++) x[j] = (float)((comp[j] + comp[D + j]) / sqrt(2.0));
    double hi[2], lo[2];
    CHECK_OK(nco_hessian_extremes(pb, x, NULL, K, NULL, 2, hi, lo, NULL));
    CHECK_CLOSE(lo[0], -4, tol, 0);
    CHECK_CLOSE(lo[1], 2, tol, 0);
    CHECK_CLOSE(hi[0], 2, tol, 0);
    CHECK_CLOSE(hi[1], 2, tol, 0);
    printf("accuracy: tensor Riemannian Hessian at (a_1+a_2)/√2: λ_min = %.9g (exact −4), λ_max = %.9g (exact 2)\n",
           lo[0], hi[0]);
    /* curvature along u = (a_1 − a_2)/√2 directly */
    float u[D], hu[D];
    for (size_t j = 0; j < D; j++) u[j] = (float)((comp[j] - comp[D + j]) / sqrt(2.0));
    CHECK_OK(nco_problem_riemannian_hvp(pb, x, NULL, K, u, hu));
    CHECK_CLOSE(nco_dot(D, u, hu), -4, tol, 0);
    /* a user start vector with a normal component is projected */
    float s[D];
    for (size_t j = 0; j < D; j++) s[j] = x[j] + 0.5f * u[j];
    nco_lanczos_opts op = nco_lanczos_defaults();
    op.start = s;
    CHECK_OK(nco_hessian_extremes(pb, x, NULL, K, &op, 1, hi, lo, NULL));
    CHECK_CLOSE(lo[0], -4, tol, 0);
  }
  {
    float x[D];
    for (size_t j = 0; j < D; j++) x[j] = (float)((comp[j] + comp[D + j] + comp[2 * D + j]) / sqrt(3.0));
    double hi[2], lo[2];
    CHECK_OK(nco_hessian_extremes(pb, x, NULL, K, NULL, 2, hi, lo, NULL));
    CHECK_CLOSE(lo[0], -8.0 / 3, tol, 0);
    CHECK_CLOSE(lo[1], -8.0 / 3, tol, 0);
    CHECK_CLOSE(hi[0], 4.0 / 3, tol, 0);
  }
  /* the tangent space has d − 1 dimensions: k = d − 1 from each end is
   * the whole tangent spectrum; k = d is too many */
  {
    float x[D];
    for (size_t j = 0; j < D; j++) x[j] = a[j];
    double hi[D], lo[D];
    CHECK_OK(nco_hessian_extremes(pb, x, NULL, K, NULL, D - 1, hi, lo, NULL));
    for (size_t i = 0; i + 1 < D; i++) CHECK_CLOSE(lo[i], 4, tol, 0);
    CHECK_ERR(nco_hessian_extremes(pb, x, NULL, K, NULL, D, hi, lo, NULL), NCO_ERR_RANGE, "exceeds the Krylov");
  }
  nco_problem_free(pb);
  nco_array_free(&A);
}

/* ---- Jacobian singular values vs a dense SVD of J formed here ------------- */

static double sigmoid(double z) { return 1 / (1 + exp(-z)); }

static void jac_compare(nco_problem *pb, const float *x, const double *J, size_t N, size_t d, const char *what) {
  size_t q = N < d ? N : d;
  double *sv = malloc(q * sizeof *sv);
  jacobi_svd(J, N, d, sv);
  double smax, smin;
  nco_lanczos_info info;
  CHECK_OK(nco_check_jvp_vjp(pb, x, NULL, pb->n, NULL, NULL));
  CHECK_OK(nco_jacobian_svals(pb, x, NULL, pb->n, NULL, &smax, &smin, &info));
  double e = fmax(fabs(smax - sv[0]), fabs(smin - sv[q - 1]));
  printf("accuracy: σ(J) %s N=%zu d=%zu: |Δσ_max| = %.3g, |Δσ_min| = %.3g (σ_max %.4g, σ_min %.4g), rel. to σ_max %.3g\n",
         what, N, d, fabs(smax - sv[0]), fabs(smin - sv[q - 1]), sv[0], sv[q - 1], e / sv[0]);
  CHECK(e <= 1e-5 * sv[0]);
  /* k = 2 */
  double hi[2], lo[2];
  CHECK_OK(nco_jacobian_svals_k(pb, x, NULL, pb->n, NULL, 2, hi, lo, NULL));
  CHECK_CLOSE(hi[1], sv[1], 1e-5 * sv[0], 0);
  CHECK_CLOSE(lo[1], sv[q - 2], 1e-5 * sv[0], 0);
  free(sv);
}

static void test_jacobians(void) {
  nco_rng rng;
  for (int wide = 0; wide < 2; wide++) {
    size_t n = wide ? 12 : 40, d = wide ? 30 : 10;
    /* linear least squares: J = A */
    nco_array A = {0}, b = {0};
    nco_rng_seed(&rng, 11 + wide);
    REQUIRE_OK(nco_linear_ls_generate(n, d, 0.1, &rng, &A, &b));
    nco_problem *pb = NULL;
    REQUIRE_OK(nco_linear_ls_create(&A, &b, &pb));
    const float *Af = A.data;
    double *J = malloc(n * d * sizeof *J);
    for (size_t i = 0; i < n * d; i++) J[i] = Af[i];
    float x[64];
    nco_rng_normal_fill(&rng, x, d, 0, 1);
    jac_compare(pb, x, J, n, d, "linear_ls");
    nco_problem_free(pb);
    /* GLM with the sigmoid: g = σ(Ax) − b, J = diag(σ'(Ax))·A */
    nco_act act = nco_act_make(NCO_ACT_SIGMOID);
    REQUIRE_OK(nco_glm_create(&A, &b, &act, &pb));
    for (size_t i = 0; i < n; i++) {
      double z = 0;
      for (size_t j = 0; j < d; j++) z += (double)Af[i * d + j] * x[j];
      double s = sigmoid(z) * (1 - sigmoid(z));
      for (size_t j = 0; j < d; j++) J[i * d + j] = s * Af[i * d + j];
    }
    jac_compare(pb, x, J, n, d, "glm(sigmoid)");
    nco_problem_free(pb);
    free(J);
    nco_array_free(&A), nco_array_free(&b);
  }
  /* low-rank regression g_i = ⟨X_i, ΘΘᵀ⟩ − y_i, Θ (dd, r):
   * ∂g_i/∂Θ = (X_i + X_iᵀ)Θ, flattened row-major as the parameters */
  for (int wide = 0; wide < 2; wide++) {
    size_t n = wide ? 6 : 30, dd = 5, r = 2, p = dd * r;
    nco_array X = {0}, y = {0};
    nco_rng_seed(&rng, 21 + wide);
    REQUIRE_OK(nco_lowrank_generate(n, dd, r, 0.0, &rng, &X, &y));
    nco_problem *pb = NULL;
    REQUIRE_OK(nco_lowrank_create(&X, &y, r, &pb));
    float th[64];
    nco_rng_normal_fill(&rng, th, p, 0, 1);
    const float *Xf = X.data;
    double *J = calloc(n * p, sizeof *J);
    for (size_t i = 0; i < n; i++)
      for (size_t a = 0; a < dd; a++)
        for (size_t c = 0; c < r; c++) {
          double s = 0;
          for (size_t b2 = 0; b2 < dd; b2++)
            s += ((double)Xf[i * dd * dd + a * dd + b2] + Xf[i * dd * dd + b2 * dd + a]) * th[b2 * r + c];
          J[i * p + a * r + c] = s;
        }
    jac_compare(pb, th, J, n, p, "lowrank");
    nco_problem_free(pb);
    free(J);
    nco_array_free(&X), nco_array_free(&y);
  }
  /* not least squares */
  double comp[4] = {1, 0, 0, 1};
  nco_array C = {0};
  REQUIRE_OK(f32_matrix(&C, 2, 2, comp, "test:tensor2"));
  nco_problem *pt = NULL;
  REQUIRE_OK(nco_tensor_create(&C, &pt));
  float x[2] = {1, 0};
  double s1, s2;
  CHECK_ERR(nco_jacobian_svals(pt, x, NULL, 2, NULL, &s1, &s2, NULL), NCO_ERR_UNSUPPORTED, "least-squares");
  nco_problem_free(pt);
  nco_array_free(&C);
}

/* Hutchinson's trace (nco_hessian_trace) against exact traces:
 *   - linear least squares, H = AᵀA: tr = Σ A_ij² (double, from the data),
 *     within 3 standard errors, and the standard error itself against the
 *     estimator's exact variance Var(zᵀHz) = 2 Σ_{i≠j} H_ij² (Rademacher
 *     z): within 15% at m = 2000 (the sampling error of an sd at m = 2000
 *     is ~2%·(1 + kurtosis term));
 *   - a diagonal Hessian: every probe is exactly tr H, the error 0;
 *   - PCA at a critical point, the closed-form spectrum (Ma eq. 4.3);
 *   - the tensor on the sphere at a_1: the Riemannian Hessian is 4·P, the
 *     trace over the tangent space 4(D − 1). */
static void test_hessian_trace(void) {
  nco_rng rng;
  nco_rng_seed(&rng, 21);
  {
    const size_t n = 30, d = 12;
    nco_array A = {0}, b = {0};
    REQUIRE_OK(nco_linear_ls_generate(n, d, 0.1, &rng, &A, &b));
    nco_problem *pb = NULL;
    REQUIRE_OK(nco_linear_ls_create(&A, &b, &pb));
    const float *a = A.data;
    double H[12 * 12] = {0}, tr = 0, off2 = 0;
    for (size_t i = 0; i < d; i++)
      for (size_t j = 0; j < d; j++) {
        for (size_t k = 0; k < n; k++) H[i * d + j] += (double)a[k * d + i] * a[k * d + j];
        if (i == j) tr += H[i * d + j];
        else off2 += H[i * d + j] * H[i * d + j];
      }
    float x[12];
    nco_rng_normal_fill(&rng, x, d, 0, 1);
    double t, se;
    nco_rng pr;
    nco_rng_seed(&pr, 5);
    CHECK_OK(nco_hessian_trace(pb, x, NULL, n, 2000, &pr, &t, &se));
    double se_exact = sqrt(2 * off2 / 2000.0);
    CHECKF(fabs(t - tr) <= 3 * se, "trace %.6g, exact %.6g, se %.3g", t, tr, se);
    CHECKF(fabs(se / se_exact - 1) <= 0.15, "se %.4g, exact %.4g", se, se_exact);
    printf("accuracy: Hutchinson linear_ls: %.6g ± %.3g, exact %.6g (se exact %.3g)\n", t, se, tr, se_exact);
    CHECK_ERR(nco_hessian_trace(pb, x, NULL, n, 0, &pr, &t, &se), NCO_ERR_RANGE, "at least one probe");
    nco_problem_free(pb);
    nco_array_free(&A), nco_array_free(&b);
  }
  {
    const size_t d = 9;
    double Ad[9 * 9] = {0}, bd[9] = {0}, tr = 0;
    for (size_t i = 0; i < d; i++) Ad[i * d + i] = 0.5 + (double)i, tr += Ad[i * d + i] * Ad[i * d + i];
    nco_array A = {0}, b = {0};
    REQUIRE_OK(f32_matrix(&A, d, d, Ad, "test:diag-A"));
    REQUIRE_OK(f32_matrix(&b, d, 1, bd, "test:diag-b"));
    b.ndim = 1;
    nco_problem *pb = NULL;
    REQUIRE_OK(nco_linear_ls_create(&A, &b, &pb));
    float x[9] = {0};
    double t, se;
    nco_rng pr;
    nco_rng_seed(&pr, 6);
    CHECK_OK(nco_hessian_trace(pb, x, NULL, d, 50, &pr, &t, &se));
    CHECKF(fabs(t - tr) <= 1e-6 * tr && se <= 1e-6 * tr, "diagonal: %.9g ± %.3g, exact %.9g", t, se, tr);
    nco_problem_free(pb);
    nco_array_free(&A), nco_array_free(&b);
  }
  {
    enum { N = 8 };
    double lam[N] = {5, 3, 2, 1, 0.5, 0.25, -0.5, -1}, Q[N * N], M[N * N];
    pca_matrix(N, lam, Q, M);
    nco_array Ma = {0};
    REQUIRE_OK(f32_matrix(&Ma, N, N, M, "test:pca-M"));
    nco_problem *pb = NULL;
    REQUIRE_OK(nco_pca_create(&Ma, 1, &pb));
    float x[N];
    for (size_t j = 0; j < N; j++) x[j] = (float)(sqrt(lam[1]) * Q[j * N + 1]);
    double tr = 4 * lam[1];
    for (size_t k = 0; k < N; k++)
      if (k != 1) tr += 2 * (lam[1] - lam[k]);
    double t, se;
    nco_rng pr;
    nco_rng_seed(&pr, 7);
    CHECK_OK(nco_hessian_trace(pb, x, NULL, N, 1000, &pr, &t, &se));
    CHECKF(fabs(t - tr) <= 3 * se + 1e-5 * fabs(tr), "pca: %.6g ± %.3g, exact %.6g", t, se, tr);
    printf("accuracy: Hutchinson pca at √λ₂q₂: %.6g ± %.3g, exact %.6g\n", t, se, tr);
    nco_problem_free(pb);
    nco_array_free(&Ma);
  }
  {
    enum { D = 7, K = 5 };
    double Q[D * D], comp[K * D];
    householder(D, Q);
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < D; j++) comp[i * D + j] = Q[j * D + i];
    nco_array A = {0};
    REQUIRE_OK(f32_matrix(&A, K, D, comp, "test:tensor"));
    nco_problem *pb = NULL;
    REQUIRE_OK(nco_tensor_create(&A, &pb));
    float x[D];
    for (size_t j = 0; j < D; j++) x[j] = ((const float *)A.data)[j];
    double t, se;
    nco_rng pr;
    nco_rng_seed(&pr, 8);
    CHECK_OK(nco_hessian_trace(pb, x, NULL, K, 1000, &pr, &t, &se));
    CHECKF(fabs(t - 4.0 * (D - 1)) <= 3 * se + 1e-4, "tensor: %.6g ± %.3g, exact %d", t, se, 4 * (D - 1));
    CHECK(se > 0);
    printf("accuracy: Hutchinson tensor (Riemannian) at a_1: %.6g ± %.3g, exact %d\n", t, se, 4 * (D - 1));
    nco_problem_free(pb);
    nco_array_free(&A);
  }
}

int main(void) {
  RUN(test_diagonal);
  RUN(test_dense_random);
  RUN(test_clustered);
  RUN(test_repeated);
  RUN(test_breakdown);
  RUN(test_errors);
  RUN(test_svd);
  RUN(test_pca_hessian);
  RUN(test_tensor_hessian);
  RUN(test_jacobians);
  RUN(test_hessian_trace);
  return nco_test_summary();
}
