/* tests/test_pca.c — PCA objective ½‖XXᵀ − M‖²_F (Ma 2021, §4.1).
 *
 * Derivatives against finite differences; loss, residual and gradient
 * against a dense double computation done here (XXᵀ formed explicitly);
 * the generator's spectrum against an independent Jacobi eigen-solver;
 * Ma's landscape: gradient descent from random starts reaches ±√λ₁·v₁,
 * the Hessian there matches the closed form, and ±√λ₂·v₂ is a strict
 * saddle; validation errors; a round trip through .npy. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

/* ---- independent dense references (double) ---------------------------- */

static double *to_double(const nco_array *M) {
  double *D = malloc(M->size * sizeof *D);
  const float *m = M->data;
  for (size_t k = 0; k < M->size; k++) D[k] = m[k];
  return D;
}

/* ½Σ_{s}Σ_j ((XXᵀ)_{i_s j} − M_{i_s j})² over rows idx (all rows if NULL),
 * with XXᵀ formed explicitly. */
static double dense_loss(const float *X, const double *M, size_t n, size_t r, const size_t *idx,
                         size_t nb) {
  double *G = malloc(n * n * sizeof *G);
  nco_test_gram(n, r, X, G);
  double f = 0;
  for (size_t s = 0; s < (idx ? nb : n); s++) {
    size_t i = idx ? idx[s] : s;
    for (size_t j = 0; j < n; j++) {
      double e = G[i * n + j] - M[i * n + j];
      f += e * e;
    }
  }
  free(G);
  return 0.5 * f;
}

/* ---- derivative checks -------------------------------------------------- */

static void test_derivatives(void) {
  /* n = 7: ranks 1, 2 and full (7); noise makes M indefinite. The default
   * check tolerances apply (rtol 1e-5): every sum is accumulated in double. */
  size_t ranks[3] = {1, 2, 7};
  size_t mb[4] = {3, 1, 3, 5}; /* minibatch with a repeated row */
  for (int t = 0; t < 3; t++) {
    nco_rng rng;
    nco_rng_seed(&rng, 100 + (uint64_t)t);
    nco_array M = {0};
    REQUIRE_OK(nco_pca_generate(7, 2, 0.5, 0.3, &rng, &M));
    nco_problem *pb = NULL;
    REQUIRE_OK(nco_pca_create(&M, ranks[t], &pb));
    CHECK(nco_problem_is_least_squares(pb));
    CHECK(nco_problem_has_exact_hvp(pb));
    CHECK(pb->dim == 7 * ranks[t] && pb->n == 7 && pb->m == 7);
    float *x = malloc(pb->dim * sizeof *x);
    for (int p = 0; p < 3; p++) {
      nco_rng_normal_fill(&rng, x, pb->dim, 0.0, 1.0);
      nco_test_check_derivatives(pb, x, mb, 4);
    }
    free(x);
    nco_problem_free(pb);
    nco_array_free(&M);
  }
}

/* ---- loss, residual and gradient against the dense computation -------- */

static void test_dense_reference(void) {
  size_t n = 9, r = 3;
  nco_rng rng;
  nco_rng_seed(&rng, 7);
  nco_array M = {0};
  REQUIRE_OK(nco_pca_generate(n, 4, 0.3, 0.5, &rng, &M));
  double *Md = to_double(&M);
  nco_problem *pb = NULL;
  REQUIRE_OK(nco_pca_create(&M, r, &pb));
  CHECK(strcmp(pb->label, "pca n=9 r=3") == 0);
  float X[27];
  nco_rng_normal_fill(&rng, X, n * r, 0.0, 1.0);
  /* Both sides accumulate in double from the same float data; only the
   * summation order differs: relative 1e-12 is ~10⁴ ulps of headroom. */
  double f, ref = dense_loss(X, Md, n, r, NULL, 0);
  CHECK_OK(nco_problem_eval(pb, X, NULL, n, &f, NULL));
  CHECK_CLOSE(f, ref, 0, 1e-12);
  size_t mb[3] = {2, 2, 5};
  double refb = dense_loss(X, Md, n, r, mb, 3);
  CHECK_OK(nco_problem_eval(pb, X, mb, 3, &f, NULL));
  CHECK_CLOSE(f, refb, 0, 1e-12);
  nco_problem_set_reduction(pb, NCO_REDUCE_MEAN);
  CHECK_OK(nco_problem_eval(pb, X, mb, 3, &f, NULL));
  CHECK_CLOSE(f, refb / 3, 0, 1e-12);
  nco_problem_set_reduction(pb, NCO_REDUCE_SUM);

  /* residual layout: sample s = row idx[s], n entries each */
  double res[27];
  CHECK_OK(nco_problem_residual64(pb, X, mb, 3, res));
  for (size_t s = 0; s < 3; s++)
    for (size_t j = 0; j < n; j++) {
      size_t i = mb[s];
      double g = 0;
      for (size_t k = 0; k < r; k++) g += (double)X[i * r + k] * X[j * r + k];
      CHECK_CLOSE(res[s * n + j], g - Md[i * n + j], 1e-14, 1e-12);
    }

  /* gradient: ∇f = 2(XXᵀ − M)X (general-r form of Ma eq. 4.2 with the
   * factor 2 of the ½ convention), in double here. The library's gradient
   * is float32 (one rounding of a double sum, then J ᵀr from float
   * residuals): 1e-5 of the gradient's scale covers it. */
  float g[27];
  CHECK_OK(nco_problem_eval(pb, X, NULL, n, &f, g));
  double gref[27], gmax = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < r; k++) {
      double s = 0;
      for (size_t j = 0; j < n; j++) {
        double e = -Md[i * n + j];
        for (size_t l = 0; l < r; l++) e += (double)X[i * r + l] * X[j * r + l];
        s += 2 * e * X[j * r + k];
      }
      gref[i * r + k] = s;
      if (fabs(s) > gmax) gmax = fabs(s);
    }
  for (size_t q = 0; q < n * r; q++) CHECK_CLOSE(g[q], gref[q], 1e-5 * gmax, 0);
  free(Md);
  nco_problem_free(pb);
  nco_array_free(&M);
}

/* ---- the generator -------------------------------------------------------- */

static void test_generator(void) {
  /* noise 0: the spectrum is λ_k = 1 + (r_sig − k)·gap then zeros. M is
   * rounded to float32 once per entry (|ΔM_ij| ≤ 2⁻²⁴·|M_ij|), so every
   * eigenvalue moves by at most ‖ΔM‖₂ ≤ ‖ΔM‖_F ≤ n·2⁻²⁴·max|M| ≈ 2e-6 for
   * n = 12: 1e-5 absolute. */
  size_t n = 12;
  nco_rng rng;
  nco_rng_seed(&rng, 3);
  nco_array M = {0};
  REQUIRE_OK(nco_pca_generate(n, 3, 0.5, 0.0, &rng, &M));
  CHECK(M.dtype == NCO_DTYPE_F32 && M.ndim == 2 && M.shape[0] == n && M.shape[1] == n);
  CHECK(strcmp(M.origin, "synthetic:pca") == 0);
  const float *m = M.data;
  int sym = 1;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) sym &= m[i * n + j] == m[j * n + i];
  CHECK(sym);
  double *Md = to_double(&M), lam[12], V[144];
  nco_test_eig_sym(n, Md, lam, V);
  CHECK_CLOSE(lam[0], 2.5, 1e-5, 0);
  CHECK_CLOSE(lam[1], 2.0, 1e-5, 0);
  CHECK_CLOSE(lam[2], 1.5, 1e-5, 0);
  for (size_t k = 3; k < n; k++) CHECK_CLOSE(lam[k], 0.0, 1e-5, 0);
  free(Md);

  /* same seed, same bytes */
  nco_array M2 = {0};
  nco_rng_seed(&rng, 3);
  REQUIRE_OK(nco_pca_generate(n, 3, 0.5, 0.0, &rng, &M2));
  CHECK(memcmp(M.data, M2.data, n * n * sizeof(float)) == 0);
  nco_array_free(&M2);
  nco_array_free(&M);

  /* pure noise (r_sig = 0), n = 80: the 3240 upper-triangle entries are
   * N(0, noise²) with noise = 2: sample mean within 5 standard errors
   * (5·2/√3240 = 0.18) of 0, sample variance within 5 s.e. (5·4·√(2/3240)
   * = 0.5) of 4. */
  n = 80;
  REQUIRE_OK(nco_pca_generate(n, 0, 0.0, 2.0, &rng, &M));
  m = M.data;
  double s1 = 0, s2 = 0, cnt = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = i; j < n; j++) s1 += m[i * n + j], s2 += (double)m[i * n + j] * m[i * n + j], cnt++;
  double mean = s1 / cnt, var = s2 / cnt - mean * mean;
  CHECK(fabs(mean) < 0.18);
  CHECK(fabs(var - 4) < 0.5);
  nco_array_free(&M);
}

/* ---- Ma §4.1: the landscape -------------------------------------------------- */

/* Plain gradient descent x ← x − η∇f on the full batch; returns the first
 * iteration at which min(‖x − z‖, ‖x + z‖) ≤ tol·‖z‖ (or iters if never),
 * leaving x at the final iterate after `iters` steps. */
static size_t gd(nco_problem *pb, float *x, double eta, size_t iters, const float *z, double tol) {
  float *g = malloc(pb->dim * sizeof *g);
  double f, zn = z ? nco_nrm2(pb->dim, z) : 0;
  size_t hit = iters;
  for (size_t t = 0; t < iters; t++) {
    if (nco_problem_eval(pb, x, NULL, pb->n, &f, g)) break;
    nco_axpy(pb->dim, (float)-eta, g, x);
    if (z && hit == iters) {
      double dp = nco_dist2(pb->dim, x, z), dm = 0;
      for (size_t j = 0; j < pb->dim; j++) dm += ((double)x[j] + z[j]) * ((double)x[j] + z[j]);
      if (fmin(dp, sqrt(dm)) <= tol * zn) hit = t + 1;
    }
  }
  free(g);
  return hit;
}

static double sign_dist(const float *x, const float *z, size_t n) {
  double dp = 0, dm = 0;
  for (size_t j = 0; j < n; j++) {
    dp += ((double)x[j] - z[j]) * ((double)x[j] - z[j]);
    dm += ((double)x[j] + z[j]) * ((double)x[j] + z[j]);
  }
  return sqrt(fmin(dp, dm));
}

static void test_ma_landscape(void) {
  /* n = 50, spectrum ≈ 2.5, 2.0, 1.5 (gap 0.5) plus symmetric noise 0.01
   * (spectral norm ≈ 2·0.01·√50 ≈ 0.14). λ₁, v₁, λ₂, v₂ come from the
   * Jacobi solver of testlib, in double. */
  size_t n = 50;
  nco_rng rng;
  nco_rng_seed(&rng, 2021);
  nco_array M = {0};
  REQUIRE_OK(nco_pca_generate(n, 3, 0.5, 0.01, &rng, &M));
  double *Md = to_double(&M), *lam = malloc(n * sizeof *lam), *V = malloc(n * n * sizeof *V);
  nco_test_eig_sym(n, Md, lam, V);
  double l1 = lam[0], l2 = lam[1], fro2 = 0;
  for (size_t k = 0; k < n * n; k++) fro2 += Md[k] * Md[k];
  CHECK(l1 - l2 > 0.3);
  nco_problem *pb = NULL;
  REQUIRE_OK(nco_pca_create(&M, 1, &pb));
  CHECK(strcmp(pb->label, "pca n=50 r=1") == 0);
  float *z = malloc(n * sizeof *z), *v1 = malloc(n * sizeof *v1), *v2 = malloc(n * sizeof *v2),
        *x = malloc(n * sizeof *x), *hv = malloc(n * sizeof *hv), *u = malloc(n * sizeof *u),
        *g = malloc(n * sizeof *g);
  for (size_t i = 0; i < n; i++) {
    v1[i] = (float)V[i * n + 0];
    v2[i] = (float)V[i * n + 1];
    z[i] = (float)(sqrt(l1) * V[i * n + 0]); /* the global minimum ±√λ₁ v₁ */
  }
  double zn = sqrt(l1);

  /* Step η = 1/(4λ₁). With the ½ convention ∇f = 2(‖x‖²x − Mx) and, at
   * the minimum, ∇²f = 2(2xxᵀ − M + λ₁I) has eigenvalues 4λ₁ (along v₁)
   * and 2(λ₁ − λ_k) ∈ (0, 2λ₁ + 2|λ_min|] elsewhere, so η is 1/L there;
   * along v₁ the iteration a ← a(3λ₁ − a²)/(2λ₁) is increasing on
   * [0, √λ₁] and fixes √λ₁, so ‖x‖² never overshoots λ₁ (from a small
   * start). The local rate is 1 − (λ₁ − λ₂)/(2λ₁) ≈ 0.9 per step.
   *
   * Tolerance 1e-4·‖x*‖: the iterates are float32; the gradient is exact
   * to ~n·2⁻²⁴ relative, so GD stalls where ‖∇f‖ ≈ 1e-6·λ₁^{3/2}, i.e. at
   * a distance ≈ that divided by the smallest curvature 2(λ₁ − λ₂) ≈ 1,
   * ~1e-6·‖x*‖; 1e-4 leaves two orders of margin. */
  double eta = 1 / (4 * l1);
  const size_t iters = 600;
  for (uint64_t seed = 1; seed <= 5; seed++) {
    nco_rng r0;
    nco_rng_seed(&r0, seed);
    REQUIRE_OK(nco_problem_init(pb, &r0, x));
    double x0n = nco_nrm2(n, x);
    size_t hit = gd(pb, x, eta, iters, z, 1e-4);
    double dist = sign_dist(x, z, n) / zn, f;
    CHECK_OK(nco_problem_eval(pb, x, NULL, n, &f, g));
    printf("pca GD seed %llu: |x0| = %.3g, reached 1e-4 at iteration %zu, after %zu: rel dist %.3g, "
           "|grad| %.3g, loss %.9g (Eckart-Young %.9g)\n",
           (unsigned long long)seed, x0n, hit, iters, dist, nco_nrm2(n, g), f, 0.5 * (fro2 - l1 * l1));
    CHECKF(dist < 1e-4, "seed %llu: relative distance %.3g", (unsigned long long)seed, dist);
    CHECK(hit < iters);
    /* the minimum value is ½(‖M‖²_F − λ₁²) (Eckart–Young); loss is a sum of
     * ~n² squares evaluated at a float point 1e-6 from x*: 1e-6 relative */
    CHECK_CLOSE(f, 0.5 * (fro2 - l1 * l1), 0, 1e-6);
  }

  /* Hessian at the minimum found: ∇²f(x) = 2(2xxᵀ − M + ‖x‖²I) (Ma eq. 4.3
   * with the factor 2 of the ½ convention), applied to random u in double
   * here. The library's HVP is float32 JᵀJu + Σr_i∇²g_i u with double
   * sums: error ≲ n·2⁻²⁴ times the size of the terms,
   * 2(3‖x‖² + ‖M‖₂)‖u‖ ≈ 20: 1e-5 of that. */
  double xx = 0;
  for (size_t i = 0; i < n; i++) xx += (double)x[i] * x[i];
  for (int k = 0; k < 3; k++) {
    nco_rng_normal_fill(&rng, u, n, 0.0, 1.0);
    CHECK_OK(nco_problem_hvp(pb, x, NULL, n, u, hv));
    double xu = 0, un = nco_nrm2(n, u), err = 0;
    for (size_t i = 0; i < n; i++) xu += (double)x[i] * u[i];
    for (size_t i = 0; i < n; i++) {
      double mu = 0;
      for (size_t j = 0; j < n; j++) mu += Md[i * n + j] * u[j];
      double ref = 2 * (2 * x[i] * xu - mu + xx * u[i]);
      err = fmax(err, fabs(hv[i] - ref));
    }
    CHECKF(err <= 1e-5 * 2 * (3 * xx + l1) * un, "Hessian at minimum: max error %.3g", err);
  }
  /* curvature along v₁ is 4λ₁, along v₂ 2(λ₁ − λ₂) > 0 */
  CHECK_OK(nco_problem_hvp(pb, x, NULL, n, v1, hv));
  CHECK_CLOSE(nco_dot(n, v1, hv), 4 * l1, 1e-4, 1e-4);
  CHECK_OK(nco_problem_hvp(pb, x, NULL, n, v2, hv));
  CHECK_CLOSE(nco_dot(n, v2, hv), 2 * (l1 - l2), 1e-4, 1e-4);

  /* Strict saddle at ±√λ₂ v₂ (Ma, proof of Thm 4.1): stationary (Lemma
   * 4.2), and v₁ᵀ∇²f v₁ = 2(‖x‖² − λ₁) = 2(λ₂ − λ₁) < 0. The point is
   * rounded to float32, so ∇f is ~1e-7·λ₂^{3/2}·√n, not 0: 1e-5 bound. */
  for (int sgn = -1; sgn <= 1; sgn += 2) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(sgn * sqrt(l2) * V[i * n + 1]);
    double f;
    CHECK_OK(nco_problem_eval(pb, x, NULL, n, &f, g));
    CHECKF(nco_nrm2(n, g) < 1e-5, "gradient at the saddle: %.3g", nco_nrm2(n, g));
    CHECK_OK(nco_problem_hvp(pb, x, NULL, n, v1, hv));
    double c1 = nco_dot(n, v1, hv);
    CHECK(c1 < 0);
    CHECK_CLOSE(c1, 2 * (l2 - l1), 1e-4, 1e-4);
    CHECK_OK(nco_problem_hvp(pb, x, NULL, n, v2, hv));
    CHECK_CLOSE(nco_dot(n, v2, hv), 4 * l2, 1e-4, 1e-4); /* positive: a saddle, not a max */
  }
  /* ... and GD escapes it along v₁: start at √λ₂ v₂ + 1e-3·v₁ */
  for (size_t i = 0; i < n; i++) x[i] = (float)(sqrt(l2) * V[i * n + 1] + 1e-3 * V[i * n]);
  size_t hit = gd(pb, x, eta, 1000, z, 1e-4);
  printf("pca GD from the saddle + 1e-3 v1: reached 1e-4 at iteration %zu, final rel dist %.3g\n", hit,
         sign_dist(x, z, n) / zn);
  CHECK(sign_dist(x, z, n) < 1e-4 * zn);

  /* rank 2: GD reaches the Eckart–Young value ½Σ_{k≥2} λ_k² (λ₂ > 0) */
  nco_problem *pb2 = NULL;
  REQUIRE_OK(nco_pca_create(&M, 2, &pb2));
  float *X2 = malloc(2 * n * sizeof *X2);
  nco_rng r2;
  nco_rng_seed(&r2, 11);
  REQUIRE_OK(nco_problem_init(pb2, &r2, X2));
  /* the slowest local rate is now 1 − (λ₂ − λ₃)/(2λ₁) ≈ 0.9 */
  gd(pb2, X2, eta, 800, NULL, 0);
  double f2, tail = 0;
  for (size_t k = 2; k < n; k++) tail += lam[k] * lam[k];
  CHECK_OK(nco_problem_eval(pb2, X2, NULL, n, &f2, NULL));
  printf("pca r=2 GD: loss %.9g, Eckart-Young %.9g\n", f2, 0.5 * tail);
  CHECK_CLOSE(f2, 0.5 * tail, 0, 1e-5);
  free(X2);
  nco_problem_free(pb2);

  free(z), free(v1), free(v2), free(x), free(hv), free(u), free(g);
  free(Md), free(lam), free(V);
  nco_problem_free(pb);
  nco_array_free(&M);
}

/* ---- validation --------------------------------------------------------------- */

static void test_bad_input(void) {
  nco_problem *pb = NULL;
  nco_array M = {0};
  size_t sh2[2] = {4, 4};
  REQUIRE_OK(nco_array_alloc(&M, NCO_DTYPE_F32, 2, sh2, "bad/M.npy"));
  float *m = M.data;
  for (size_t i = 0; i < 4; i++) m[i * 4 + i] = 1;
  CHECK_ERR(nco_pca_create(NULL, 1, &pb), NCO_ERR_INVALID, "NULL");
  CHECK_ERR(nco_pca_create(&M, 1, NULL), NCO_ERR_INVALID, "NULL");
  CHECK_ERR(nco_pca_create(&M, 0, &pb), NCO_ERR_RANGE, "rank 0");
  CHECK_ERR(nco_pca_create(&M, 7, &pb), NCO_ERR_RANGE, "rank 7 exceeds the dimension 4");
  CHECK_ERR(nco_pca_create(&M, 7, &pb), NCO_ERR_RANGE, "bad/M.npy");
  CHECK(pb == NULL);
  /* asymmetric beyond 1e-6 relative */
  m[1] = 0.5f, m[4] = 0.5f + 1e-5f;
  CHECK_ERR(nco_pca_create(&M, 1, &pb), NCO_ERR_INVALID, "bad/M.npy: matrix is not symmetric");
  CHECK_ERR(nco_pca_create(&M, 1, &pb), NCO_ERR_INVALID, "entry (0, 1)");
  /* within 1e-6 relative: accepted */
  m[4] = 0.5f + 2.5e-7f;
  CHECK_OK(nco_pca_create(&M, 1, &pb));
  nco_problem_free(pb);
  pb = NULL;
  m[4] = 0.5f;
  m[5] = NAN;
  CHECK_ERR(nco_pca_create(&M, 1, &pb), NCO_ERR_NONFINITE, "bad/M.npy: matrix has a non-finite");
  m[5] = INFINITY;
  CHECK_ERR(nco_pca_create(&M, 1, &pb), NCO_ERR_NONFINITE, "(1, 1)");
  nco_array_free(&M);

  size_t sh34[2] = {3, 4}, sh1[1] = {4}, sh3[3] = {2, 2, 2};
  REQUIRE_OK(nco_array_alloc(&M, NCO_DTYPE_F32, 2, sh34, "bad/rect.npy"));
  CHECK_ERR(nco_pca_create(&M, 1, &pb), NCO_ERR_SHAPE, "bad/rect.npy: matrix (must be square) has shape (3, 4)");
  nco_array_free(&M);
  REQUIRE_OK(nco_array_alloc(&M, NCO_DTYPE_F32, 1, sh1, "bad/vec.npy"));
  CHECK_ERR(nco_pca_create(&M, 1, &pb), NCO_ERR_SHAPE, "matrix has shape (4,)");
  nco_array_free(&M);
  REQUIRE_OK(nco_array_alloc(&M, NCO_DTYPE_F32, 3, sh3, "bad/cube.npy"));
  CHECK_ERR(nco_pca_create(&M, 1, &pb), NCO_ERR_SHAPE, "expected (*, *)");
  nco_array_free(&M);

  /* float64 input: converted; 1e300 overflows float32 */
  REQUIRE_OK(nco_array_alloc(&M, NCO_DTYPE_F64, 2, sh2, "bad/M64.npy"));
  double *md = M.data;
  for (size_t i = 0; i < 4; i++) md[i * 4 + i] = 2;
  md[1] = md[4] = 0.25;
  CHECK_OK(nco_pca_create(&M, 2, &pb));
  if (pb) {
    float X[8] = {0};
    double f;
    CHECK_OK(nco_problem_eval(pb, X, NULL, 4, &f, NULL));
    CHECK_CLOSE(f, 0.5 * (4 * 4 + 2 * 0.0625), 0, 1e-15);
  }
  nco_problem_free(pb);
  pb = NULL;
  md[0] = 1e300;
  CHECK_ERR(nco_pca_create(&M, 1, &pb), NCO_ERR_RANGE, "overflows float32");
  md[0] = NAN;
  CHECK_ERR(nco_pca_create(&M, 1, &pb), NCO_ERR_NONFINITE, "bad/M64.npy");
  nco_array_free(&M);

  /* generator arguments */
  nco_rng rng;
  nco_rng_seed(&rng, 1);
  CHECK_ERR(nco_pca_generate(5, 7, 0.5, 0.0, &rng, &M), NCO_ERR_RANGE, "rank 7 exceeds the dimension 5");
  CHECK_ERR(nco_pca_generate(0, 0, 0.5, 0.0, &rng, &M), NCO_ERR_RANGE, "n = 0");
  CHECK_ERR(nco_pca_generate(5, 1, -1.0, 0.0, &rng, &M), NCO_ERR_RANGE, "gap = -1");
  CHECK_ERR(nco_pca_generate(5, 1, 0.5, NAN, &rng, &M), NCO_ERR_RANGE, "noise = nan");
  CHECK_ERR(nco_pca_generate(5, 1, 0.5, 0.0, NULL, &M), NCO_ERR_INVALID, "NULL");
  CHECK(M.data == NULL);
}

/* ---- .npy round trip ------------------------------------------------------ */

static void test_npy_roundtrip(void) {
  nco_rng rng;
  nco_rng_seed(&rng, 5);
  nco_array M = {0}, R = {0};
  REQUIRE_OK(nco_pca_generate(10, 2, 0.5, 0.1, &rng, &M));
  REQUIRE_OK(nco_test_npy_roundtrip(&M, "pca_M.npy", &R)); /* same bytes, origin the file */
  CHECK(R.dtype == NCO_DTYPE_F32 && R.ndim == 2 && R.shape[0] == 10 && R.shape[1] == 10);
  nco_problem *a = NULL, *b = NULL;
  REQUIRE_OK(nco_pca_create(&M, 2, &a));
  REQUIRE_OK(nco_pca_create(&R, 2, &b));
  float X[20];
  nco_rng_normal_fill(&rng, X, 20, 0.0, 1.0);
  double fa, fb;
  CHECK_OK(nco_problem_eval(a, X, NULL, 10, &fa, NULL));
  CHECK_OK(nco_problem_eval(b, X, NULL, 10, &fb, NULL));
  CHECK(fa == fb); /* same float data, same arithmetic: bitwise equal */
  nco_problem_free(a);
  nco_problem_free(b);
  nco_array_free(&R);
  /* an asymmetric matrix read from a file: the error names the file */
  ((float *)M.data)[1] += 1.0f;
  REQUIRE_OK(nco_test_npy_roundtrip(&M, "pca_asym.npy", &R));
  nco_problem *c = NULL;
  CHECK_ERR(nco_pca_create(&R, 1, &c), NCO_ERR_INVALID, R.origin);
  CHECK(c == NULL);
  nco_array_free(&R);
  nco_array_free(&M);
}

int main(void) {
  RUN(test_derivatives);
  RUN(test_dense_reference);
  RUN(test_generator);
  RUN(test_ma_landscape);
  RUN(test_bad_input);
  RUN(test_npy_roundtrip);
  return nco_test_summary();
}
