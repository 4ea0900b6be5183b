/* tests/test_lowrank.c — low-rank regression y_i ≈ ⟨X_i, ΘΘᵀ⟩
 * (Oymak & Soltanolkotabi 2019, §4.2, eq. 4.3).
 *
 * Derivatives against finite differences; loss, residual and gradient
 * against a dense double computation here (ΘΘᵀ formed explicitly); the
 * generator against its documented draw order; the default init against
 * Theorem 4.2's singular-value interval; gradient descent from that init
 * fits arbitrary (Rademacher) and planted labels when n < d·r; validation
 * errors; a round trip through .npy. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

/* Dense reference: g_i = Σ_ab X_i[a,b](ΘΘᵀ)[a,b] − y_i, ΘΘᵀ formed here. */
static void dense_residual(const float *X, const float *y, const float *th, size_t n, size_t d,
                           size_t r, double *g) {
  double *P = malloc(d * d * sizeof *P);
  nco_test_gram(d, r, th, P);
  for (size_t i = 0; i < n; i++) {
    double s = 0;
    for (size_t q = 0; q < d * d; q++) s += X[i * d * d + q] * P[q];
    g[i] = s - y[i];
  }
  free(P);
}

/* ---- derivatives ---------------------------------------------------------- */

static void test_derivatives(void) {
  /* n = 6, d = 4; ranks 1, 2 and d. The generator's X_i are not
   * symmetric. Default check tolerances: sums in double. */
  size_t ranks[3] = {1, 2, 4};
  size_t mb[4] = {2, 0, 2, 5};
  for (int t = 0; t < 3; t++) {
    nco_rng rng;
    nco_rng_seed(&rng, 300 + (uint64_t)t);
    nco_array X = {0}, y = {0};
    REQUIRE_OK(nco_lowrank_generate(6, 4, ranks[t], 0.1, &rng, &X, &y));
    const float *xd = X.data;
    CHECK(xd[1] != xd[4]); /* X_0 not symmetric */
    nco_problem *pb = NULL;
    REQUIRE_OK(nco_lowrank_create(&X, &y, ranks[t], &pb));
    CHECK(nco_problem_is_least_squares(pb) && nco_problem_has_exact_hvp(pb));
    CHECK(pb->dim == 4 * ranks[t] && pb->n == 6 && pb->m == 1);
    float th[16];
    for (int p = 0; p < 3; p++) {
      nco_rng_normal_fill(&rng, th, pb->dim, 0.0, 1.0);
      nco_test_check_derivatives(pb, th, mb, 4);
    }
    nco_problem_free(pb);
    nco_array_free(&X);
    nco_array_free(&y);
  }
}

/* ---- dense reference --------------------------------------------------------- */

static void test_dense_reference(void) {
  size_t n = 5, d = 6, r = 2;
  nco_rng rng;
  nco_rng_seed(&rng, 17);
  nco_array X = {0}, y = {0};
  REQUIRE_OK(nco_lowrank_generate(n, d, r, 0.3, &rng, &X, &y));
  nco_problem *pb = NULL;
  REQUIRE_OK(nco_lowrank_create(&X, &y, r, &pb));
  CHECK(strcmp(pb->label, "lowrank n=5 d=6 r=2") == 0);
  const float *Xd = X.data, *yd = y.data;
  float th[12];
  nco_rng_normal_fill(&rng, th, d * r, 0.0, 0.7);
  double g[5], res[5], f, ref = 0;
  dense_residual(Xd, yd, th, n, d, r, g);
  for (size_t i = 0; i < n; i++) ref += g[i] * g[i];
  ref *= 0.5;
  /* same floats, double sums in another order: 1e-12 relative */
  CHECK_OK(nco_problem_eval(pb, th, NULL, n, &f, NULL));
  CHECK_CLOSE(f, ref, 0, 1e-12);
  size_t mb[3] = {4, 1, 4};
  CHECK_OK(nco_problem_residual64(pb, th, mb, 3, res));
  for (size_t s = 0; s < 3; s++) CHECK_CLOSE(res[s], g[mb[s]], 1e-13, 1e-12);
  nco_problem_set_reduction(pb, NCO_REDUCE_MEAN);
  CHECK_OK(nco_problem_eval(pb, th, mb, 3, &f, NULL));
  CHECK_CLOSE(f, 0.5 * (2 * g[4] * g[4] + g[1] * g[1]) / 3, 0, 1e-12);
  nco_problem_set_reduction(pb, NCO_REDUCE_SUM);

  /* gradient Σ_i g_i (X_i + X_iᵀ)Θ (Oymak §4.2), in double here; the
   * library's is float32 from float residuals: 1e-5 of its scale */
  float gr[12];
  CHECK_OK(nco_problem_eval(pb, th, NULL, n, &f, gr));
  double gref[12] = {0}, gmax = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t a = 0; a < d; a++)
      for (size_t k = 0; k < r; k++) {
        double s = 0;
        for (size_t b = 0; b < d; b++)
          s += ((double)Xd[i * d * d + a * d + b] + Xd[i * d * d + b * d + a]) * th[b * r + k];
        gref[a * r + k] += g[i] * s;
      }
  for (size_t q = 0; q < d * r; q++) gmax = fmax(gmax, fabs(gref[q]));
  for (size_t q = 0; q < d * r; q++) CHECK_CLOSE(gr[q], gref[q], 1e-5 * gmax, 0);
  nco_problem_free(pb);

  /* float64 and int32 inputs are converted */
  nco_array X64 = {0}, y32 = {0};
  size_t shx[3] = {n, d, d}, shy[1] = {n};
  REQUIRE_OK(nco_array_alloc(&X64, NCO_DTYPE_F64, 3, shx, "X64"));
  REQUIRE_OK(nco_array_alloc(&y32, NCO_DTYPE_I32, 1, shy, "y32"));
  for (size_t q = 0; q < X.size; q++) ((double *)X64.data)[q] = Xd[q];
  float yint[5];
  for (size_t i = 0; i < n; i++) ((int32_t *)y32.data)[i] = (int32_t)i - 2, yint[i] = (float)i - 2;
  REQUIRE_OK(nco_lowrank_create(&X64, &y32, r, &pb));
  dense_residual(Xd, yint, th, n, d, r, g);
  CHECK_OK(nco_problem_residual64(pb, th, NULL, n, res));
  for (size_t i = 0; i < n; i++) CHECK_CLOSE(res[i], g[i], 1e-13, 1e-12);
  nco_problem_free(pb);
  nco_array_free(&X64);
  nco_array_free(&y32);
  nco_array_free(&X);
  nco_array_free(&y);
}

/* ---- the generator ------------------------------------------------------------ */

static void test_generator(void) {
  /* Documented draw order: X (N(0,1)), Θ* (N(0, 1/d)), then one z_i per
   * sample; y_i = ⟨X_i, Θ*Θ*ᵀ⟩ + noise·z_i. Replayed here with a copy of
   * the stream; y agrees to the float32 rounding of y (1e-6 relative of
   * the largest |y|). */
  size_t n = 8, d = 5, r = 2;
  double noise = 0.25;
  nco_rng rng, rep;
  nco_rng_seed(&rng, 99);
  rep = rng;
  nco_array X = {0}, y = {0};
  REQUIRE_OK(nco_lowrank_generate(n, d, r, noise, &rng, &X, &y));
  CHECK(X.ndim == 3 && X.shape[0] == n && X.shape[1] == d && X.shape[2] == d);
  CHECK(y.ndim == 1 && y.shape[0] == n && X.dtype == NCO_DTYPE_F32 && y.dtype == NCO_DTYPE_F32);
  CHECK(strcmp(X.origin, "synthetic:lowrank") == 0 && strcmp(y.origin, "synthetic:lowrank") == 0);
  float *Xr = malloc(n * d * d * sizeof *Xr), th[10], zero[8] = {0};
  nco_rng_normal_fill(&rep, Xr, n * d * d, 0.0, 1.0);
  CHECK(memcmp(Xr, X.data, n * d * d * sizeof *Xr) == 0);
  nco_rng_normal_fill(&rep, th, d * r, 0.0, 1.0 / sqrt((double)d));
  double sig[8], ymax = 0;
  dense_residual(Xr, zero, th, n, d, r, sig);
  const float *yd = y.data;
  for (size_t i = 0; i < n; i++) ymax = fmax(ymax, fabs(yd[i]));
  for (size_t i = 0; i < n; i++) {
    double z = nco_rng_normal(&rep);
    CHECK_CLOSE(yd[i], sig[i] + noise * z, 1e-6 * ymax, 0);
  }
  CHECK(memcmp(&rep, &rng, sizeof rep) == 0);
  free(Xr);
  nco_array_free(&X);
  nco_array_free(&y);
}

/* ---- Oymak Theorem 4.2: init and gradient descent ------------------------- */

/* Singular values of Θ (d, r), descending, from the eigenvalues of ΘᵀΘ. */
static void singular_values(const float *th, size_t d, size_t r, double *sv) {
  double *G = malloc(r * r * sizeof *G);
  nco_test_gram_t(d, r, th, G);
  nco_test_eig_sym(r, G, sv, NULL);
  for (size_t k = 0; k < r; k++) sv[k] = sqrt(fmax(sv[k], 0));
  free(G);
}

static void test_init_scaling(void) {
  /* d = 40, r = 2: a Gaussian 40×2 matrix has σ_max/σ_min ≈ (√40 + √2)/
   * (√40 − √2) ≈ 1.6 < 2, so the init can (and must) put every singular
   * value in [a, 2a], a = √‖y‖/(rn)^{1/4}; 1e-6 relative slack for the
   * float32 rounding of Θ₀. */
  size_t n = 30, d = 40, r = 2;
  nco_rng rng;
  nco_rng_seed(&rng, 5);
  nco_array X = {0}, y = {0};
  REQUIRE_OK(nco_lowrank_generate(n, d, r, 0.0, &rng, &X, &y));
  nco_problem *pb = NULL;
  REQUIRE_OK(nco_lowrank_create(&X, &y, r, &pb));
  double a = sqrt(nco_nrm2(n, y.data)) / pow((double)(r * n), 0.25);
  float th[80];
  for (uint64_t seed = 1; seed <= 10; seed++) {
    nco_rng r0;
    nco_rng_seed(&r0, seed);
    REQUIRE_OK(nco_problem_init(pb, &r0, th));
    double sv[2];
    singular_values(th, d, r, sv);
    CHECKF(sv[1] >= a * (1 - 1e-6) && sv[0] <= 2 * a * (1 + 1e-6),
           "seed %llu: singular values %.4g %.4g outside [%.4g, %.4g]", (unsigned long long)seed,
           sv[0], sv[1], a, 2 * a);
  }
  nco_problem_free(pb);
  nco_array_free(&X);
  nco_array_free(&y);

  /* d = r = 3: a square Gaussian is badly conditioned and [a, 2a] cannot
   * always be met; the documented fallback keeps √(σ_max σ_min) = √2·a
   * (1e-5: float32 rounding of Θ₀ and the Jacobi eigenvalues). */
  n = 5, d = 3, r = 3;
  REQUIRE_OK(nco_lowrank_generate(n, d, r, 0.0, &rng, &X, &y));
  REQUIRE_OK(nco_lowrank_create(&X, &y, r, &pb));
  a = sqrt(nco_nrm2(n, y.data)) / pow((double)(r * n), 0.25);
  for (uint64_t seed = 1; seed <= 5; seed++) {
    nco_rng r0;
    nco_rng_seed(&r0, seed);
    REQUIRE_OK(nco_problem_init(pb, &r0, th));
    double sv[3];
    singular_values(th, d, r, sv);
    CHECK_CLOSE(sqrt(sv[0] * sv[2]), sqrt(2.0) * a, 0, 1e-5);
  }
  nco_problem_free(pb);
  nco_array_free(&X);
  nco_array_free(&y);
}

/* The relative residual ‖g‖/‖y‖ = √(2·loss)/‖y‖ along GD (SUM). */
typedef struct fit_watch {
  double yn, target, rel;
} fit_watch;

/* nco_test_gd watch: stops once ‖g‖/‖y‖ < target. */
static int watch_fit(void *ctx, size_t t, double loss, const float *th, const float *g) {
  fit_watch *w = ctx;
  (void)t, (void)th, (void)g;
  w->rel = sqrt(2 * loss) / w->yn;
  return w->rel < w->target;
}

/* Plain GD on the full batch; returns ‖g‖/‖y‖ at the end, iterations in *it,
 * relative distance ‖Θ_T − Θ₀‖_F/‖Θ₀‖_F in *dist. */
static double gd_fit(nco_problem *pb, float *th, double eta, size_t maxit, double target,
                     size_t *it_out, double *dist) {
  size_t dim = pb->dim, n = pb->n;
  float *th0 = malloc(dim * sizeof *th0);
  double *res = malloc(n * sizeof *res);
  nco_copy(dim, th, th0);
  /* ‖y‖ = ‖g(0)‖ */
  float *zero = calloc(dim, sizeof *zero);
  nco_problem_residual64(pb, zero, NULL, n, res);
  fit_watch w = {.yn = nco_test_norm(n, res), .target = target, .rel = INFINITY};
  *it_out = nco_test_gd(pb, th, eta, maxit, watch_fit, &w);
  *dist = nco_dist2(dim, th, th0) / nco_nrm2(dim, th0);
  free(th0), free(res), free(zero);
  return w.rel;
}

static void test_gd_overparameterised(void) {
  /* n = 30 < d·r = 90 (Oymak §5.2's regime, smaller): d = 30, r = 3.
   * Step of Theorem 4.2's form η = c₁√n/(r²d‖y‖). Choice of c₁: the rows
   * of J are (X_i + X_iᵀ)Θ with E‖·‖²_F = 2d‖Θ‖²_F (X + Xᵀ has entry
   * variance 2 off the diagonal); ‖Θ₀‖²_F ≈ 2r·a² = 2√r‖y‖/√n, and JJᵀ
   * behaves like a Wishart matrix with aspect n/(dr) = 1/3, so
   * L₀ = ‖J‖² ≈ 4d√r‖y‖/√n·(1 + √(1/3))² ≈ 94‖y‖; η = 1/(2L₀) gives
   * c₁ = r^{3/2}/(8·2.49) ≈ 0.25. The contraction per step is then about
   * 1 − ((1 − √(1/3))/(1 + √(1/3)))²/2 ≈ 0.964, so ~500 steps per 1e-8.
   *
   * Target ‖g‖/‖y‖ < 1e-4 (loss < 5e-9·‖y‖²): "near zero" for a float32
   * model whose residuals carry ~2⁻²⁴·Σ|X_ab P_ab| ≈ 1e-6·‖y‖ of rounding. */
  size_t n = 30, d = 30, r = 3;
  for (int planted = 0; planted < 2; planted++) {
    nco_rng rng;
    nco_rng_seed(&rng, 4242 + (uint64_t)planted);
    nco_array X = {0}, y = {0};
    REQUIRE_OK(nco_lowrank_generate(n, d, r, 0.0, &rng, &X, &y));
    if (!planted) { /* arbitrary labels: i.i.d. Rademacher (Oymak §5.2) */
      float *yd = y.data;
      for (size_t i = 0; i < n; i++) yd[i] = nco_rng_uniform(&rng) < 0.5 ? -1.0f : 1.0f;
    }
    double yn = nco_nrm2(n, y.data);
    nco_problem *pb = NULL;
    REQUIRE_OK(nco_lowrank_create(&X, &y, r, &pb));
    float th[90];
    REQUIRE_OK(nco_problem_init(pb, &rng, th));
    double eta = 0.25 * sqrt((double)n) / ((double)(r * r * d) * yn), dist;
    size_t it;
    double rel = gd_fit(pb, th, eta, 5000, 1e-4, &it, &dist);
    printf("lowrank GD (%s labels, n=%zu d=%zu r=%zu): |g|/|y| = %.3g after %zu iterations, "
           "|Theta - Theta0|/|Theta0| = %.3g\n",
           planted ? "planted" : "Rademacher", n, d, r, rel, it, dist);
    CHECKF(rel < 1e-4, "relative residual %.3g after %zu iterations", rel, it);
    nco_problem_free(pb);
    nco_array_free(&X);
    nco_array_free(&y);
  }
}

/* ---- validation -------------------------------------------------------------- */

static void test_bad_input(void) {
  nco_problem *pb = NULL;
  nco_array X = {0}, y = {0}, B = {0};
  size_t shx[3] = {3, 5, 5}, shy[1] = {3};
  REQUIRE_OK(nco_array_alloc(&X, NCO_DTYPE_F32, 3, shx, "bad/X.npy"));
  REQUIRE_OK(nco_array_alloc(&y, NCO_DTYPE_F32, 1, shy, "bad/y.npy"));
  CHECK_OK(nco_lowrank_create(&X, &y, 5, &pb));
  nco_problem_free(pb);
  pb = NULL;
  CHECK_ERR(nco_lowrank_create(NULL, &y, 1, &pb), NCO_ERR_INVALID, "NULL");
  CHECK_ERR(nco_lowrank_create(&X, NULL, 1, &pb), NCO_ERR_INVALID, "NULL");
  CHECK_ERR(nco_lowrank_create(&X, &y, 1, NULL), NCO_ERR_INVALID, "NULL");
  CHECK_ERR(nco_lowrank_create(&X, &y, 0, &pb), NCO_ERR_RANGE, "rank 0");
  CHECK_ERR(nco_lowrank_create(&X, &y, 7, &pb), NCO_ERR_RANGE, "rank 7 exceeds the dimension 5");
  CHECK_ERR(nco_lowrank_create(&X, &y, 7, &pb), NCO_ERR_RANGE, "bad/X.npy");
  float *xd = X.data, *yd = y.data;
  xd[1 * 25 + 2 * 5 + 3] = NAN;
  CHECK_ERR(nco_lowrank_create(&X, &y, 1, &pb), NCO_ERR_NONFINITE,
            "bad/X.npy: features has a non-finite value (nan) at index (1, 2, 3)");
  xd[1 * 25 + 2 * 5 + 3] = 0;
  yd[2] = -INFINITY;
  CHECK_ERR(nco_lowrank_create(&X, &y, 1, &pb), NCO_ERR_NONFINITE, "bad/y.npy: targets has a non-finite value");
  yd[2] = 0;
  CHECK(pb == NULL);
  /* shapes */
  size_t sh2[2] = {5, 5}, shr[3] = {3, 5, 4}, shy4[1] = {4}, sh0[3] = {0, 5, 5}, shy0[1] = {0};
  REQUIRE_OK(nco_array_alloc(&B, NCO_DTYPE_F32, 2, sh2, "bad/X2.npy"));
  CHECK_ERR(nco_lowrank_create(&B, &y, 1, &pb), NCO_ERR_SHAPE, "bad/X2.npy: features has shape (5, 5), expected (*, *, *)");
  nco_array_free(&B);
  REQUIRE_OK(nco_array_alloc(&B, NCO_DTYPE_F32, 3, shr, "bad/Xr.npy"));
  CHECK_ERR(nco_lowrank_create(&B, &y, 1, &pb), NCO_ERR_SHAPE, "has shape (3, 5, 4), expected (*, 5, 5)");
  nco_array_free(&B);
  REQUIRE_OK(nco_array_alloc(&B, NCO_DTYPE_F32, 1, shy4, "bad/y4.npy"));
  CHECK_ERR(nco_lowrank_create(&X, &B, 1, &pb), NCO_ERR_SHAPE, "bad/y4.npy: targets has shape (4,), expected (3,) or (3, 1)");
  nco_array_free(&B);
  size_t shy31[2] = {3, 1}, shy13[2] = {1, 3};
  REQUIRE_OK(nco_array_alloc(&B, NCO_DTYPE_F32, 2, shy31, "ok/y31.npy"));
  CHECK_OK(nco_lowrank_create(&X, &B, 1, &pb)); /* (n, 1) targets accepted */
  nco_problem_free(pb);
  pb = NULL;
  nco_array_free(&B);
  REQUIRE_OK(nco_array_alloc(&B, NCO_DTYPE_F32, 2, shy13, "bad/y13.npy"));
  CHECK_ERR(nco_lowrank_create(&X, &B, 1, &pb), NCO_ERR_SHAPE, "targets has shape (1, 3)");
  nco_array_free(&B);
  nco_array Y0 = {0};
  REQUIRE_OK(nco_array_alloc(&B, NCO_DTYPE_F32, 3, sh0, "bad/X0.npy"));
  REQUIRE_OK(nco_array_alloc(&Y0, NCO_DTYPE_F32, 1, shy0, "bad/y0.npy"));
  CHECK_ERR(nco_lowrank_create(&B, &Y0, 1, &pb), NCO_ERR_SHAPE, "no samples");
  nco_array_free(&B);
  nco_array_free(&Y0);
  /* float64 overflow */
  REQUIRE_OK(nco_array_alloc(&B, NCO_DTYPE_F64, 1, shy, "bad/y64.npy"));
  ((double *)B.data)[1] = -1e39;
  CHECK_ERR(nco_lowrank_create(&X, &B, 1, &pb), NCO_ERR_RANGE, "bad/y64.npy: targets: value -1e+39");
  nco_array_free(&B);
  CHECK(pb == NULL);
  nco_array_free(&X);
  nco_array_free(&y);

  /* generator arguments */
  nco_rng rng;
  nco_rng_seed(&rng, 1);
  CHECK_ERR(nco_lowrank_generate(4, 5, 7, 0, &rng, &X, &y), NCO_ERR_RANGE, "rank 7 exceeds the dimension 5");
  CHECK_ERR(nco_lowrank_generate(4, 5, 0, 0, &rng, &X, &y), NCO_ERR_RANGE, "rank 0");
  CHECK_ERR(nco_lowrank_generate(0, 5, 1, 0, &rng, &X, &y), NCO_ERR_RANGE, "n = 0");
  CHECK_ERR(nco_lowrank_generate(4, 5, 1, -0.5, &rng, &X, &y), NCO_ERR_RANGE, "noise = -0.5");
  CHECK_ERR(nco_lowrank_generate(4, 5, 1, INFINITY, &rng, &X, &y), NCO_ERR_RANGE, "noise = inf");
  CHECK_ERR(nco_lowrank_generate(4, 5, 1, 0, NULL, &X, &y), NCO_ERR_INVALID, "NULL");
  CHECK(X.data == NULL && y.data == NULL);
}

/* ---- .npy round trip -------------------------------------------------------- */

static void test_npy_roundtrip(void) {
  nco_rng rng;
  nco_rng_seed(&rng, 8);
  nco_array X = {0}, y = {0}, RX = {0}, Ry = {0};
  REQUIRE_OK(nco_lowrank_generate(7, 4, 2, 0.1, &rng, &X, &y));
  REQUIRE_OK(nco_test_npy_roundtrip(&X, "lr_X.npy", &RX)); /* same bytes, origin the file */
  REQUIRE_OK(nco_test_npy_roundtrip(&y, "lr_y.npy", &Ry));
  CHECK(RX.ndim == 3 && RX.shape[0] == 7 && RX.shape[1] == 4 && RX.shape[2] == 4);
  nco_problem *a = NULL, *b = NULL;
  REQUIRE_OK(nco_lowrank_create(&X, &y, 2, &a));
  REQUIRE_OK(nco_lowrank_create(&RX, &Ry, 2, &b));
  float th[8];
  nco_rng_normal_fill(&rng, th, 8, 0.0, 1.0);
  double fa, fb;
  CHECK_OK(nco_problem_eval(a, th, NULL, 7, &fa, NULL));
  CHECK_OK(nco_problem_eval(b, th, NULL, 7, &fb, NULL));
  CHECK(fa == fb);
  nco_problem_free(a), nco_problem_free(b);
  /* targets of the wrong length read from a file: the error names it */
  size_t sh[1] = {6};
  nco_array S = {0}, RS = {0};
  REQUIRE_OK(nco_array_alloc(&S, NCO_DTYPE_F32, 1, sh, NULL));
  REQUIRE_OK(nco_test_npy_roundtrip(&S, "lr_y_short.npy", &RS));
  nco_problem *c = NULL;
  CHECK_ERR(nco_lowrank_create(&RX, &RS, 2, &c), NCO_ERR_SHAPE, RS.origin);
  CHECK(c == NULL);
  nco_array_free(&S), nco_array_free(&RS);
  nco_array_free(&X), nco_array_free(&y), nco_array_free(&RX), nco_array_free(&Ry);
}

int main(void) {
  RUN(test_derivatives);
  RUN(test_dense_reference);
  RUN(test_generator);
  RUN(test_init_scaling);
  RUN(test_gd_overparameterised);
  RUN(test_bad_input);
  RUN(test_npy_roundtrip);
  return nco_test_summary();
}
