/* tests/testlib.h — minimal assertions for ncopt's ctest executables, and
 * the independent reference computations the tests share.
 *
 * Each test_*.c is one executable: it calls its test functions through
 * RUN(fn) and returns nco_test_summary(), which prints "N passed, N failed,
 * N skipped" and exits non-zero if any check failed. CHECK continues after a
 * failure (to show every broken case), REQUIRE returns from the current
 * test, SKIP(reason) returns from it and counts it as skipped.
 */
#ifndef NCO_TESTLIB_H
#define NCO_TESTLIB_H

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ncopt/ncopt.h"

extern int nco_test_failed_checks;
extern int nco_test_current_failed;

#define CHECK(cond)                                                                   \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);        \
      nco_test_failed_checks++;                                                       \
      nco_test_current_failed = 1;                                                    \
    }                                                                                 \
  } while (0)

#define CHECKF(cond, ...)                                                             \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);        \
      fprintf(stderr, __VA_ARGS__);                                                   \
      fputc('\n', stderr);                                                            \
      nco_test_failed_checks++;                                                       \
      nco_test_current_failed = 1;                                                    \
    }                                                                                 \
  } while (0)

#define REQUIRE(cond)                                                                 \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);      \
      nco_test_failed_checks++;                                                       \
      nco_test_current_failed = 1;                                                    \
      return;                                                                         \
    }                                                                                 \
  } while (0)

/* A status call that must succeed; prints nco_last_error() otherwise. */
#define CHECK_OK(expr)                                                                \
  do {                                                                                \
    int st_ = (expr);                                                                 \
    if (st_ != NCO_OK) {                                                              \
      fprintf(stderr, "%s:%d: %s returned %s: %s\n", __FILE__, __LINE__, #expr,       \
              nco_status_name(st_), nco_last_error());                                \
      nco_test_failed_checks++;                                                       \
      nco_test_current_failed = 1;                                                    \
    }                                                                                 \
  } while (0)

#define REQUIRE_OK(expr)                                                              \
  do {                                                                                \
    int st_ = (expr);                                                                 \
    if (st_ != NCO_OK) {                                                              \
      fprintf(stderr, "%s:%d: %s returned %s: %s\n", __FILE__, __LINE__, #expr,       \
              nco_status_name(st_), nco_last_error());                                \
      nco_test_failed_checks++;                                                       \
      nco_test_current_failed = 1;                                                    \
      return;                                                                         \
    }                                                                                 \
  } while (0)

/* |a − b| ≤ atol + rtol·|b| */
#define CHECK_CLOSE(a, b, atol, rtol)                                                 \
  do {                                                                                \
    double a_ = (double)(a), b_ = (double)(b);                                        \
    if (!(fabs(a_ - b_) <= (atol) + (rtol) * fabs(b_))) {                             \
      fprintf(stderr, "%s:%d: CHECK_CLOSE failed: %s = %.17g, %s = %.17g (diff %.3g)\n", \
              __FILE__, __LINE__, #a, a_, #b, b_, fabs(a_ - b_));                     \
      nco_test_failed_checks++;                                                       \
      nco_test_current_failed = 1;                                                    \
    }                                                                                 \
  } while (0)

/* The call must fail with `status` and its message must contain `needle`. */
#define CHECK_ERR(expr, status, needle)                                               \
  do {                                                                                \
    nco_clear_error();                                                                \
    int st_ = (expr);                                                                 \
    const char *msg_ = nco_last_error();                                              \
    if (st_ != (status) || !strstr(msg_, (needle))) {                                 \
      fprintf(stderr, "%s:%d: %s: expected %s with \"%s\", got %s: \"%s\"\n", __FILE__, \
              __LINE__, #expr, nco_status_name(status), (needle), nco_status_name(st_), msg_); \
      nco_test_failed_checks++;                                                       \
      nco_test_current_failed = 1;                                                    \
    }                                                                                 \
  } while (0)

/* Ends the current test as skipped (printf-style reason, printed with the
 * test's name). A test that failed a check before SKIP still counts as
 * failed. Use it for a missing optional facility, never for a wrong result. */
#define SKIP(...)                                                                     \
  do {                                                                                \
    nco_test_skip(__FILE__, __LINE__, __VA_ARGS__);                                   \
    return;                                                                           \
  } while (0)

void nco_test_run(const char *name, void (*fn)(void));
void nco_test_skip(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int nco_test_summary(void);
#define RUN(fn) nco_test_run(#fn, fn)

/* Path of a committed fixture: NCO_FIXTURES "/" name (static buffer). */
const char *nco_fixture(const char *name);
/* *a ← the fixture file tests/fixtures/DIR/PREFIX_NAME_WHAT.npy ("%s/%s_%s_%s"),
 * which must have dtype dt and exactly n entries (NCO_ERR_SHAPE otherwise). */
int nco_test_load_fixture(const char *dir, const char *prefix, const char *name, const char *what, nco_dtype dt, size_t n,
                          nco_array *a);
/* A fresh temporary directory for this test process (created once, removed
 * with its contents at exit). */
const char *nco_test_tmpdir(void);
/* nco_test_tmpdir() "/" name, in one of 8 rotating static buffers (valid
 * until the 8th next call). */
const char *nco_test_tmp_path(const char *name);
/* Writes `a` to nco_test_tmp_path(name) with nco_npy_write and reads it
 * back into *out with nco_npy_read. A failed call, or a result that is not
 * the same array (dtype, shape, bytes) with that path as its origin, is a
 * failed check. Returns the status of the write or read. */
int nco_test_npy_roundtrip(const nco_array *a, const char *name, nco_array *out);
/* p1 and p2, the same problem built twice (e.g. from arrays and from their
 * .npy round trip), give bitwise the same full-batch loss and gradient at
 * p2's default init drawn with `seed` (checks; nothing if either is NULL). */
void nco_test_check_same_problem(nco_problem *p1, nco_problem *p2, uint64_t seed);

/* ---- derivative checks ------------------------------------------------- */

/* nco_check_gradient, nco_check_jvp_vjp (least-squares problems) and
 * nco_check_hvp (problems with an exact HVP), default options, at x over
 * {SUM, MEAN} × {full batch, the minibatch mb[nmb]}; each failure is a
 * failed check naming the problem, the case and nco_last_error(). The
 * reduction of pb is restored. */
void nco_test_check_derivatives(nco_problem *pb, const float *x, const size_t *mb, size_t nmb);

/* ---- plain gradient descent ---------------------------------------------- */

/* Called at iteration t with the loss and gradient at the current x_t
 * (before the step); nonzero stops the descent. */
typedef int (*nco_test_gd_watch)(void *ctx, size_t t, double loss, const float *x,
                                 const float *g);

/* Full-batch gradient descent x ← x − η∇loss(x) on pb, x updated in place.
 * Iteration t = 0, 1, … evaluates loss and gradient at x_t, calls watch (if
 * not NULL), and stops when watch returns nonzero or t = maxit; otherwise it
 * steps (nco_axpy with the float32 step −η). Returns the number of steps
 * taken. A failed evaluation stops it and counts as a failed check. */
size_t nco_test_gd(nco_problem *pb, float *x, double eta, size_t maxit, nco_test_gd_watch watch,
                   void *ctx);

/* ---- independent references -------------------------------------------- */
/* Textbook formulas and dense linear algebra in double, row-major, written
 * here rather than taken from the library: a test compares ncopt against a
 * second, independent computation (never against ncopt itself), so none of
 * these calls ncopt's kernels. They are plain and O(n³); fine for the small
 * matrices of the tests. */

/* φ̃(z) = (1 − mix)·φ(z) + mix·z (order 0) and its first (order 1) and
 * second (order 2) derivatives, from the textbook formulas with libm (the
 * library uses overflow-safe forms in e^{−|z|}; the two agree to a few ulp). */
double nco_test_ref_act(const nco_act *a, double z, int order);
/* The activations the zoo tests sweep: case i = 0..NCO_TEST_N_ACTS−1 is
 * identity, sigmoid, tanh, softplus, relu, leaky_relu (slope 0.1), elu
 * (slope elu_slope) for i mod 7, with mix 0 for i < 7 and 0.3 after. */
#define NCO_TEST_N_ACTS 14
nco_act nco_test_act_case(size_t i, double elu_slope);
/* 1 for the activations with a kink at 0 (relu, leaky_relu, elu). */
int nco_test_act_has_kink(const nco_act *a);

/* G = XXᵀ (n×n) for X (n, d) float32: G_ik = Σ_j X_ij X_kj in double, j
 * ascending. */
void nco_test_gram(size_t n, size_t d, const float *X, double *G);
/* G = XᵀX (d×d) for X (n, d) float32: G_jk = Σ_i X_ij X_ik in double, i
 * ascending. */
void nco_test_gram_t(size_t n, size_t d, const float *X, double *G);
/* ‖v‖₂ (one accumulator, ascending). */
double nco_test_norm(size_t n, const double *v);

/* In-place Cholesky M = LLᵀ of a symmetric positive definite n×n M: L in
 * the lower triangle (the strict upper triangle is left as it was). Returns
 * 0, or -1 if M is not (numerically) positive definite. */
int nco_test_cholesky(size_t n, double *M);
/* x ← (LLᵀ)⁻¹ b by forward then back substitution with the factor of
 * nco_test_cholesky; x may alias b. */
void nco_test_chol_solve(size_t n, const double *L, const double *b, double *x);

/* Eigen-decomposition of the symmetric n×n A (not modified) by cyclic
 * Jacobi rotations (Golub & Van Loan, Alg. 8.5.3), until the off-diagonal
 * mass is ≤ 1e-30 of the total (squared Frobenius) or 100 sweeps:
 * eigenvalues into lam[n], descending; if V is not NULL, the orthonormal
 * eigenvectors into the columns of V (n×n), column k for lam[k]. */
void nco_test_eig_sym(size_t n, const double *A, double *lam, double *V);
/* Largest eigenvalue of the symmetric positive semi-definite n×n M by power
 * iteration: 2000 steps from v_i = 1 + 0.01·i, each normalising v, then
 * w = Mv and λ = vᵀw, then v = w (plenty for the n ≤ 50 and the gaps of
 * the tests). */
double nco_test_eig_max(size_t n, const double *M);

/* The fixture scripts' integer hash (splitmix64-style, scripts/make_nn_fixtures.py
 * and make_layermap_fixtures.py): bit-identical in C and NumPy. */
uint64_t nco_test_hash_u64(uint64_t seed, uint64_t j);
/* out[j] = (2u − 1)·bound, u = (hash(seed, j) >> 11)·2⁻⁵³: exact in double
 * up to the product's rounding, then one rounding to float (as NumPy's
 * astype). */
void nco_test_gen(uint64_t seed, size_t n, double bound, float *out);
/* A whole file, NUL-terminated (*len its size if len is not NULL), or NULL. */
char *nco_test_slurp(const char *path, size_t *len);

#endif
