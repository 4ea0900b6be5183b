/* tests/test_matcomp.c — matrix completion ½‖P_Ω(XXᵀ − M)‖²_F (Ma 2021,
 * §4.2) and its asymmetric form ½Σ_Ω(⟨u_i, v_j⟩ − M_ij)².
 *
 * Derivatives against finite differences; the observation set Ω recovered
 * through the JVP and the loss against a dense masked computation here
 * (XXᵀ formed explicitly); gradient descent from the default small random
 * start recovers M on well-sampled instances; validation errors; .npy
 * round trips. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

/* ---- derivatives ---------------------------------------------------------- */

static void test_derivatives(void) {
  /* default tolerances (rtol 1e-5): all sums are accumulated in double */
  nco_rng rng;
  nco_rng_seed(&rng, 42);
  nco_array M = {0}, E = {0};
  REQUIRE_OK(nco_matcomp_generate(8, 2, &rng, &M));
  nco_problem *pb = NULL;
  REQUIRE_OK(nco_matcomp_create(&M, 2, 0.6, &rng, &pb));
  CHECK(nco_problem_is_least_squares(pb) && nco_problem_has_exact_hvp(pb));
  CHECK(pb->dim == 16 && pb->m == 1);
  size_t mb[4] = {0, 5, 0, pb->n - 1}; /* a repeated entry */
  float x[64];
  for (int p = 0; p < 3; p++) {
    nco_rng_normal_fill(&rng, x, pb->dim, 0.0, 1.0);
    nco_test_check_derivatives(pb, x, mb, 4);
  }
  nco_problem_free(pb);
  /* rank r = n and p = 1 (diagonal included) */
  REQUIRE_OK(nco_matcomp_create(&M, 8, 1.0, &rng, &pb));
  CHECK(pb->n == 64);
  nco_rng_normal_fill(&rng, x, pb->dim, 0.0, 1.0);
  nco_test_check_derivatives(pb, x, mb, 4);
  nco_problem_free(pb);

  REQUIRE_OK(nco_matcomp_asym_generate(6, 5, 2, 0.5, 0.1, &rng, &E));
  REQUIRE_OK(nco_matcomp_asym_create(&E, 6, 5, 2, &pb));
  CHECK(pb->dim == 22 && pb->n == E.shape[0]);
  size_t mb2[4] = {1, 1, 0, pb->n - 1};
  for (int p = 0; p < 3; p++) {
    nco_rng_normal_fill(&rng, x, pb->dim, 0.0, 1.0);
    nco_test_check_derivatives(pb, x, mb2, 4);
  }
  nco_problem_free(pb);
  nco_array_free(&E);
  nco_array_free(&M);
}

/* ---- Ω and the loss against a dense masked computation ----------------- */

/* Recovers the unordered pair {a_s, b_s} of every sample through the JVP:
 * at X with x_k = (1, 0, …) and u = e_(k,0), (Ju)_s = [a_s = k] + [b_s = k]. */
static int probe_pairs(nco_problem *pb, size_t n, size_t r, size_t *pa, size_t *pb_) {
  size_t k_s = pb->n;
  float *x = calloc(n * r, sizeof *x), *u = calloc(n * r, sizeof *u), *ju = malloc(k_s * sizeof *ju);
  for (size_t s = 0; s < k_s; s++) pa[s] = pb_[s] = (size_t)-1;
  for (size_t i = 0; i < n; i++) x[i * r] = 1;
  int ok = 1;
  for (size_t k = 0; k < n; k++) {
    u[k * r] = 1;
    if (nco_problem_jvp(pb, x, NULL, k_s, u, ju)) ok = 0;
    u[k * r] = 0;
    for (size_t s = 0; s < k_s; s++) {
      if (ju[s] == 2) {
        if (pa[s] != (size_t)-1) ok = 0;
        pa[s] = pb_[s] = k;
      } else if (ju[s] == 1) {
        if (pa[s] == (size_t)-1) pa[s] = k;
        else if (pb_[s] == (size_t)-1) pb_[s] = k;
        else ok = 0;
      } else if (ju[s] != 0) {
        ok = 0;
      }
    }
  }
  for (size_t s = 0; s < k_s; s++)
    if (pa[s] == (size_t)-1 || pb_[s] == (size_t)-1) ok = 0;
  free(x), free(u), free(ju);
  return ok;
}

static void test_omega_and_loss(void) {
  size_t n = 30, r = 2;
  double p = 0.5;
  nco_rng rng;
  nco_rng_seed(&rng, 9);
  nco_array M = {0};
  REQUIRE_OK(nco_matcomp_generate(n, r, &rng, &M));
  CHECK(strcmp(M.origin, "synthetic:matcomp") == 0);
  const float *m = M.data;
  int sym = 1;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) sym &= m[i * n + j] == m[j * n + i];
  CHECK(sym);

  nco_rng r_create = rng, r_check = rng;
  nco_problem *pb = NULL;
  REQUIRE_OK(nco_matcomp_create(&M, r, p, &r_create, &pb));
  /* the rng advanced by exactly n(n+1)/2 uniforms (documented) */
  for (size_t q = 0; q < n * (n + 1) / 2; q++) (void)nco_rng_uniform(&r_check);
  CHECK(memcmp(&r_check, &r_create, sizeof r_check) == 0);

  size_t k = pb->n, *pa = malloc(k * sizeof *pa), *pbb = malloc(k * sizeof *pbb);
  REQUIRE(probe_pairs(pb, n, r, pa, pbb));
  /* each observed off-diagonal pair appears exactly twice, a diagonal once */
  unsigned char *cnt = calloc(n * n, 1), *mask = calloc(n * n, 1);
  for (size_t s = 0; s < k; s++) {
    size_t a = pa[s] < pbb[s] ? pa[s] : pbb[s], b = pa[s] < pbb[s] ? pbb[s] : pa[s];
    cnt[a * n + b]++;
    mask[a * n + b] = mask[b * n + a] = 1;
  }
  size_t pairs = 0, bad = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = i; j < n; j++) {
      if (!cnt[i * n + j]) continue;
      pairs++;
      if (cnt[i * n + j] != (i == j ? 1 : 2)) bad++;
    }
  CHECK(bad == 0);
  /* #pairs ~ Binomial(n(n+1)/2 = 465, 1/2): mean 232.5, sd 10.8; 5 sd */
  double mean = p * (double)(n * (n + 1) / 2), sd = sqrt(mean * (1 - p));
  CHECKF(fabs((double)pairs - mean) < 5 * sd, "%zu observed pairs", pairs);
  printf("matcomp n=30 p=0.5: %zu observed pairs, %zu samples\n", pairs, k);

  /* residual at X = 0 is −M_ij for the probed pair */
  double *res = malloc(k * sizeof *res);
  float *X = calloc(n * r, sizeof *X);
  CHECK_OK(nco_problem_residual64(pb, X, NULL, k, res));
  for (size_t s = 0; s < k; s++) CHECK(res[s] == -(double)m[pa[s] * n + pbb[s]]);

  /* loss at a random X against ½Σ_ij mask_ij ((XXᵀ)_ij − M_ij)², XXᵀ formed
   * explicitly; both accumulate in double from the same floats, so 1e-12
   * relative only allows for the summation order. */
  nco_rng_normal_fill(&rng, X, n * r, 0.0, 0.5);
  double ref = 0, f;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      double g = 0;
      for (size_t l = 0; l < r; l++) g += (double)X[i * r + l] * X[j * r + l];
      if (mask[i * n + j]) ref += (g - m[i * n + j]) * (g - m[i * n + j]);
    }
  ref *= 0.5;
  CHECK_OK(nco_problem_eval(pb, X, NULL, k, &f, NULL));
  CHECK_CLOSE(f, ref, 0, 1e-12);
  nco_problem_set_reduction(pb, NCO_REDUCE_MEAN);
  CHECK_OK(nco_problem_eval(pb, X, NULL, k, &f, NULL));
  CHECK_CLOSE(f, ref / (double)k, 0, 1e-12);
  nco_problem_free(pb);

  /* p = 1: Ω is everything, the loss is the PCA objective ½‖XXᵀ − M‖²_F */
  REQUIRE_OK(nco_matcomp_create(&M, r, 1.0, &rng, &pb));
  CHECK(pb->n == n * n);
  ref = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      double g = -(double)m[i * n + j];
      for (size_t l = 0; l < r; l++) g += (double)X[i * r + l] * X[j * r + l];
      ref += g * g;
    }
  CHECK_OK(nco_problem_eval(pb, X, NULL, pb->n, &f, NULL));
  CHECK_CLOSE(f, 0.5 * ref, 0, 1e-12);
  nco_problem_free(pb);

  /* asymmetric: the loss straight from the entries */
  nco_array E = {0};
  REQUIRE_OK(nco_matcomp_asym_generate(7, 4, 2, 0.5, 0.2, &rng, &E));
  CHECK(strcmp(E.origin, "synthetic:matcomp_asym") == 0);
  REQUIRE_OK(nco_matcomp_asym_create(&E, 7, 4, 2, &pb));
  float UV[22];
  nco_rng_normal_fill(&rng, UV, 22, 0.0, 1.0);
  const float *e = E.data;
  ref = 0;
  for (size_t s = 0; s < E.shape[0]; s++) {
    size_t i = (size_t)e[3 * s], j = (size_t)e[3 * s + 1];
    double g = -(double)e[3 * s + 2];
    for (size_t l = 0; l < 2; l++) g += (double)UV[i * 2 + l] * UV[(7 + j) * 2 + l];
    ref += g * g;
  }
  CHECK_OK(nco_problem_eval(pb, UV, NULL, pb->n, &f, NULL));
  CHECK_CLOSE(f, 0.5 * ref, 0, 1e-12);
  nco_problem_free(pb);
  nco_array_free(&E);

  free(pa), free(pbb), free(cnt), free(mask), free(res), free(X);
  nco_array_free(&M);
}

/* ---- recovery by gradient descent (Ma §4.2) ------------------------------ */

static void test_gd_recovery(void) {
  /* n = 30, r = 2, p = 0.5: about 465 observed ordered entries against
   * nr − r(r−1)/2 = 59 degrees of freedom, M = UUᵀ Gaussian (incoherent
   * w.h.p.) and noise-free, so the global minima have XXᵀ = M exactly and
   * (Ge et al. 2016, Ma Thm 4.4) there are no spurious local minima. The
   * only floor is float32 (~1e-6 relative), so 1e-3 relative Frobenius
   * error is a statement about recovery, not about precision.
   *
   * Step: at a minimum the full-observation Hessian is at most 4‖M‖₂ (the
   * PCA case) and the sampled one concentrates around p times it (Ma
   * Thm 4.5), so L ≈ 4p‖M‖₂; η = 1/(8p‖M‖₂), half of 1/L, absorbs the
   * sampling fluctuation. */
  size_t n = 30, r = 2;
  double p = 0.5;
  for (uint64_t seed = 1; seed <= 3; seed++) {
    nco_rng rng;
    nco_rng_seed(&rng, 1000 + seed);
    nco_array M = {0};
    REQUIRE_OK(nco_matcomp_generate(n, r, &rng, &M));
    nco_problem *pb = NULL;
    REQUIRE_OK(nco_matcomp_create(&M, r, p, &rng, &pb));
    const float *m = M.data;
    double *Md = malloc(n * n * sizeof *Md), mf = 0;
    for (size_t q = 0; q < n * n; q++) Md[q] = m[q], mf += Md[q] * Md[q];
    mf = sqrt(mf);
    double l1 = nco_test_eig_max(n, Md), eta = 1 / (8 * p * l1);
    float *X = malloc(n * r * sizeof *X), *g = malloc(n * r * sizeof *g);
    REQUIRE_OK(nco_problem_init(pb, &rng, X));
    double rel = INFINITY, f = 0;
    size_t it, hit = 0, maxit = 5000;
    for (it = 0; it < maxit; it++) {
      if (nco_problem_eval(pb, X, NULL, pb->n, &f, g)) break;
      nco_axpy(n * r, (float)-eta, g, X);
      if (it % 10 == 9) {
        double e2 = 0;
        for (size_t i = 0; i < n; i++)
          for (size_t j = 0; j < n; j++) {
            double d = -Md[i * n + j];
            for (size_t l = 0; l < r; l++) d += (double)X[i * r + l] * X[j * r + l];
            e2 += d * d;
          }
        rel = sqrt(e2) / mf;
        if (rel < 1e-3 && !hit) hit = it + 1;
        if (rel < 1e-6) break;
      }
    }
    printf("matcomp GD seed %llu (|Omega| = %zu, |M|_2 = %.3g): rel err < 1e-3 at iteration %zu, "
           "%.3g after %zu, loss %.3g\n",
           (unsigned long long)seed, pb->n, l1, hit, rel, it, f);
    CHECKF(rel < 1e-3, "seed %llu: relative error %.3g", (unsigned long long)seed, rel);
    free(X), free(g), free(Md);
    nco_problem_free(pb);
    nco_array_free(&M);
  }

  /* asymmetric, 20×15, rank 2, p = 0.6, noise-free. The full matrix comes
   * from the generator with p = 1 (row-major, every entry); the test
   * subsamples it itself. Its rank is checked through MᵀM's spectrum. */
  size_t n1 = 20, n2 = 15;
  nco_rng rng;
  nco_rng_seed(&rng, 77);
  nco_array F = {0}, E = {0};
  REQUIRE_OK(nco_matcomp_asym_generate(n1, n2, r, 1.0, 0.0, &rng, &F));
  REQUIRE(F.shape[0] == n1 * n2);
  const float *fe = F.data;
  double *Mf = malloc(n1 * n2 * sizeof *Mf), mf = 0;
  int order = 1;
  for (size_t q = 0; q < n1 * n2; q++) {
    order &= fe[3 * q] == (float)(q / n2) && fe[3 * q + 1] == (float)(q % n2);
    Mf[q] = fe[3 * q + 2];
    mf += Mf[q] * Mf[q];
  }
  mf = sqrt(mf);
  CHECK(order);
  /* rank 2: the third singular value (√ of the third eigenvalue of MᵀM,
   * by Jacobi, testlib) vanishes up to the float32 rounding of the values,
   * σ₃ ≲ 2⁻²⁴·‖M‖_F ≈ 6e-8·‖M‖_F: bound 1e-5·σ₁. */
  double *Gm = malloc(n2 * n2 * sizeof *Gm), ev[15];
  for (size_t a = 0; a < n2; a++)
    for (size_t b = 0; b < n2; b++) {
      double s = 0;
      for (size_t i = 0; i < n1; i++) s += Mf[i * n2 + a] * Mf[i * n2 + b];
      Gm[a * n2 + b] = s;
    }
  nco_test_eig_sym(n2, Gm, ev, NULL);
  CHECK(ev[1] > 1e-3 * ev[0]);
  CHECKF(sqrt(fmax(ev[2], 0)) < 1e-5 * sqrt(ev[0]), "sigma_3/sigma_1 = %.3g",
         sqrt(fmax(ev[2], 0) / ev[0]));
  free(Gm);
  size_t k = 0;
  float *sub = malloc(n1 * n2 * 3 * sizeof *sub);
  for (size_t q = 0; q < n1 * n2; q++)
    if (nco_rng_uniform(&rng) < 0.6) memcpy(sub + 3 * k++, fe + 3 * q, 3 * sizeof *sub);
  size_t sh[2] = {k, 3};
  REQUIRE_OK(nco_array_alloc(&E, NCO_DTYPE_F32, 2, sh, "test:subsample"));
  memcpy(E.data, sub, k * 3 * sizeof *sub);
  nco_problem *pb = NULL;
  REQUIRE_OK(nco_matcomp_asym_create(&E, n1, n2, r, &pb));
  /* ‖M‖₂ ≤ ‖M‖_F: η = 1/(8p‖M‖_F) is at most the symmetric choice */
  double eta = 1 / (8 * 0.6 * mf);
  float *UV = malloc((n1 + n2) * r * sizeof *UV), *g = malloc((n1 + n2) * r * sizeof *g);
  REQUIRE_OK(nco_problem_init(pb, &rng, UV));
  double rel = INFINITY, f = 0;
  size_t it;
  for (it = 0; it < 20000; it++) {
    if (nco_problem_eval(pb, UV, NULL, pb->n, &f, g)) break;
    nco_axpy((n1 + n2) * r, (float)-eta, g, UV);
    if (it % 20 == 19) {
      double e2 = 0;
      for (size_t i = 0; i < n1; i++)
        for (size_t j = 0; j < n2; j++) {
          double d = -Mf[i * n2 + j];
          for (size_t l = 0; l < r; l++) d += (double)UV[i * r + l] * UV[(n1 + j) * r + l];
          e2 += d * d;
        }
      rel = sqrt(e2) / mf;
      if (rel < 1e-5) break;
    }
  }
  printf("matcomp_asym GD (k = %zu of %zu): rel err %.3g after %zu iterations, loss %.3g\n", k,
         n1 * n2, rel, it, f);
  CHECKF(rel < 1e-3, "asymmetric: relative error %.3g", rel);
  free(UV), free(g), free(sub), free(Mf);
  nco_problem_free(pb);
  nco_array_free(&E);
  nco_array_free(&F);
}

/* ---- validation ------------------------------------------------------------- */

static void test_bad_input_sym(void) {
  nco_rng rng;
  nco_rng_seed(&rng, 1);
  nco_problem *pb = NULL;
  nco_array M = {0};
  size_t sh[2] = {5, 5};
  REQUIRE_OK(nco_array_alloc(&M, NCO_DTYPE_F32, 2, sh, "bad/mc.npy"));
  float *m = M.data;
  for (size_t q = 0; q < 25; q++) m[q] = 1;
  CHECK_ERR(nco_matcomp_create(NULL, 1, 0.5, &rng, &pb), NCO_ERR_INVALID, "NULL");
  CHECK_ERR(nco_matcomp_create(&M, 1, 0.5, NULL, &pb), NCO_ERR_INVALID, "rng");
  CHECK_ERR(nco_matcomp_create(&M, 1, 0.5, &rng, NULL), NCO_ERR_INVALID, "NULL");
  CHECK_ERR(nco_matcomp_create(&M, 0, 0.5, &rng, &pb), NCO_ERR_RANGE, "rank 0");
  CHECK_ERR(nco_matcomp_create(&M, 7, 0.5, &rng, &pb), NCO_ERR_RANGE, "rank 7 exceeds the dimension 5");
  CHECK_ERR(nco_matcomp_create(&M, 1, 0.0, &rng, &pb), NCO_ERR_RANGE, "p = 0 is not in (0, 1]");
  CHECK_ERR(nco_matcomp_create(&M, 1, 1.5, &rng, &pb), NCO_ERR_RANGE, "p = 1.5");
  CHECK_ERR(nco_matcomp_create(&M, 1, -0.1, &rng, &pb), NCO_ERR_RANGE, "p = -0.1");
  CHECK_ERR(nco_matcomp_create(&M, 1, NAN, &rng, &pb), NCO_ERR_RANGE, "p = nan");
  CHECK_ERR(nco_matcomp_create(&M, 1, 1e-12, &rng, &pb), NCO_ERR_RANGE, "bad/mc.npy: matcomp: no entries observed");
  m[3] = 2;
  CHECK_ERR(nco_matcomp_create(&M, 1, 0.5, &rng, &pb), NCO_ERR_INVALID, "bad/mc.npy: matrix is not symmetric");
  m[3] = 1;
  m[24] = NAN;
  CHECK_ERR(nco_matcomp_create(&M, 1, 0.5, &rng, &pb), NCO_ERR_NONFINITE, "(4, 4)");
  CHECK(pb == NULL);
  nco_array_free(&M);
  size_t sh2[2] = {5, 4};
  REQUIRE_OK(nco_array_alloc(&M, NCO_DTYPE_F32, 2, sh2, "bad/mc.npy"));
  CHECK_ERR(nco_matcomp_create(&M, 1, 0.5, &rng, &pb), NCO_ERR_SHAPE, "has shape (5, 4), expected (5, 5)");
  nco_array_free(&M);
  CHECK_ERR(nco_matcomp_generate(5, 7, &rng, &M), NCO_ERR_RANGE, "rank 7 exceeds the dimension 5");
  CHECK_ERR(nco_matcomp_generate(5, 0, &rng, &M), NCO_ERR_RANGE, "rank 0");
  CHECK_ERR(nco_matcomp_generate(0, 1, &rng, &M), NCO_ERR_RANGE, "n = 0");
  CHECK(M.data == NULL);
}

static void test_bad_input_asym(void) {
  nco_problem *pb = NULL;
  nco_array E = {0};
  size_t sh[2] = {3, 3};
  REQUIRE_OK(nco_array_alloc(&E, NCO_DTYPE_F32, 2, sh, "bad/entries.npy"));
  float *e = E.data;
  float good[9] = {0, 0, 1.5f, 2, 3, -1, 1, 2, 0.25f};
  memcpy(e, good, sizeof good);
  CHECK_OK(nco_matcomp_asym_create(&E, 3, 4, 2, &pb));
  nco_problem_free(pb);
  pb = NULL;
  CHECK_ERR(nco_matcomp_asym_create(NULL, 3, 4, 2, &pb), NCO_ERR_INVALID, "NULL");
  CHECK_ERR(nco_matcomp_asym_create(&E, 3, 4, 0, &pb), NCO_ERR_RANGE, "rank 0");
  CHECK_ERR(nco_matcomp_asym_create(&E, 3, 4, 7, &pb), NCO_ERR_RANGE, "rank 7 exceeds the dimension 3");
  CHECK_ERR(nco_matcomp_asym_create(&E, 0, 4, 1, &pb), NCO_ERR_RANGE, "0×4");
  /* row index 3 with n1 = 3; column 3 with n2 = 3 */
  CHECK_ERR(nco_matcomp_asym_create(&E, 2, 4, 1, &pb), NCO_ERR_RANGE,
            "bad/entries.npy: entries row 1: row index i = 2 is out of range [0, 2)");
  CHECK_ERR(nco_matcomp_asym_create(&E, 3, 3, 1, &pb), NCO_ERR_RANGE, "column index j = 3 is out of range [0, 3)");
  e[4] = 1.5f;
  CHECK_ERR(nco_matcomp_asym_create(&E, 3, 4, 1, &pb), NCO_ERR_INVALID, "row 1: column index j = 1.5 is not an integer");
  e[4] = -1;
  CHECK_ERR(nco_matcomp_asym_create(&E, 3, 4, 1, &pb), NCO_ERR_RANGE, "column index j = -1 is out of range");
  e[4] = 3;
  e[0] = NAN;
  CHECK_ERR(nco_matcomp_asym_create(&E, 3, 4, 1, &pb), NCO_ERR_NONFINITE, "bad/entries.npy: entries has a non-finite");
  e[0] = 0;
  e[8] = INFINITY;
  CHECK_ERR(nco_matcomp_asym_create(&E, 3, 4, 1, &pb), NCO_ERR_NONFINITE, "(2, 2)");
  CHECK(pb == NULL);
  nco_array_free(&E);

  size_t sh2[2] = {3, 2}, sh0[2] = {0, 3}, sh1[1] = {3};
  REQUIRE_OK(nco_array_alloc(&E, NCO_DTYPE_F32, 2, sh2, "bad/e2.npy"));
  CHECK_ERR(nco_matcomp_asym_create(&E, 3, 4, 1, &pb), NCO_ERR_SHAPE, "has shape (3, 2), expected (*, 3)");
  nco_array_free(&E);
  REQUIRE_OK(nco_array_alloc(&E, NCO_DTYPE_F32, 1, sh1, "bad/e1.npy"));
  CHECK_ERR(nco_matcomp_asym_create(&E, 3, 4, 1, &pb), NCO_ERR_SHAPE, "bad/e1.npy");
  nco_array_free(&E);
  REQUIRE_OK(nco_array_alloc(&E, NCO_DTYPE_F32, 2, sh0, "bad/e0.npy"));
  CHECK_ERR(nco_matcomp_asym_create(&E, 3, 4, 1, &pb), NCO_ERR_RANGE, "no observed entries");
  nco_array_free(&E);

  /* integer and float64 entries are accepted; 1e300 does not fit float32 */
  REQUIRE_OK(nco_array_alloc(&E, NCO_DTYPE_I64, 2, sh, "ok/entries_i64.npy"));
  int64_t *ei = E.data;
  int64_t gi[9] = {0, 0, 2, 2, 3, -1, 1, 2, 5};
  memcpy(ei, gi, sizeof gi);
  CHECK_OK(nco_matcomp_asym_create(&E, 3, 4, 1, &pb));
  if (pb) {
    float uv[7] = {0};
    double f;
    CHECK_OK(nco_problem_eval(pb, uv, NULL, pb->n, &f, NULL));
    CHECK_CLOSE(f, 0.5 * (4 + 1 + 25), 0, 1e-15);
  }
  nco_problem_free(pb);
  pb = NULL;
  nco_array_free(&E);
  REQUIRE_OK(nco_array_alloc(&E, NCO_DTYPE_F64, 2, sh, "bad/entries64.npy"));
  double *ed = E.data;
  double gd[9] = {0, 0, 1e300, 2, 3, -1, 1, 2, 0.25};
  memcpy(ed, gd, sizeof gd);
  CHECK_ERR(nco_matcomp_asym_create(&E, 3, 4, 1, &pb), NCO_ERR_RANGE, "entries row 0: value 1e+300 overflows float32");
  ed[2] = 1;
  ed[3] = 2.0000001;
  CHECK_ERR(nco_matcomp_asym_create(&E, 3, 4, 1, &pb), NCO_ERR_INVALID, "row index i = 2.0000001 is not an integer");
  nco_array_free(&E);

  nco_rng rng;
  nco_rng_seed(&rng, 2);
  CHECK_ERR(nco_matcomp_asym_generate(3, 4, 4, 0.5, 0, &rng, &E), NCO_ERR_RANGE, "rank 4 exceeds the dimension 3");
  CHECK_ERR(nco_matcomp_asym_generate(3, 4, 1, 0.0, 0, &rng, &E), NCO_ERR_RANGE, "p = 0");
  CHECK_ERR(nco_matcomp_asym_generate(3, 4, 1, 0.5, -1, &rng, &E), NCO_ERR_RANGE, "noise = -1");
  CHECK_ERR(nco_matcomp_asym_generate(3, 4, 1, 1e-12, 0, &rng, &E), NCO_ERR_RANGE, "no entries observed");
  CHECK(E.data == NULL);
}

/* ---- .npy round trips ------------------------------------------------------ */

static void test_npy_roundtrip(void) {
  nco_rng rng;
  nco_rng_seed(&rng, 31);
  nco_array M = {0}, R = {0}, E = {0}, S = {0};
  REQUIRE_OK(nco_matcomp_generate(12, 2, &rng, &M));
  REQUIRE_OK(nco_test_npy_roundtrip(&M, "mc_M.npy", &R)); /* same bytes, origin the file */
  nco_rng ra = rng, rb = rng; /* same Ω for both */
  nco_problem *a = NULL, *b = NULL;
  REQUIRE_OK(nco_matcomp_create(&M, 2, 0.5, &ra, &a));
  REQUIRE_OK(nco_matcomp_create(&R, 2, 0.5, &rb, &b));
  CHECK(a->n == b->n);
  float X[24];
  nco_rng_normal_fill(&rng, X, 24, 0.0, 1.0);
  double fa, fb;
  CHECK_OK(nco_problem_eval(a, X, NULL, a->n, &fa, NULL));
  CHECK_OK(nco_problem_eval(b, X, NULL, b->n, &fb, NULL));
  CHECK(fa == fb);
  nco_problem_free(a), nco_problem_free(b);
  a = b = NULL;

  REQUIRE_OK(nco_matcomp_asym_generate(9, 6, 2, 0.4, 0.1, &rng, &E));
  REQUIRE_OK(nco_test_npy_roundtrip(&E, "mc_entries.npy", &S));
  REQUIRE_OK(nco_matcomp_asym_create(&E, 9, 6, 2, &a));
  REQUIRE_OK(nco_matcomp_asym_create(&S, 9, 6, 2, &b));
  float UV[30];
  nco_rng_normal_fill(&rng, UV, 30, 0.0, 1.0);
  CHECK_OK(nco_problem_eval(a, UV, NULL, a->n, &fa, NULL));
  CHECK_OK(nco_problem_eval(b, UV, NULL, b->n, &fb, NULL));
  CHECK(fa == fb);
  nco_problem_free(a), nco_problem_free(b);
  nco_array_free(&S);
  /* a bad index read from a file: the error names the file */
  ((float *)E.data)[0] = 9; /* row index 9 with n1 = 9 */
  REQUIRE_OK(nco_test_npy_roundtrip(&E, "mc_bad_entries.npy", &S));
  nco_problem *c = NULL;
  CHECK_ERR(nco_matcomp_asym_create(&S, 9, 6, 2, &c), NCO_ERR_RANGE, S.origin);
  CHECK(c == NULL);
  nco_array_free(&S);
  nco_array_free(&E);
  nco_array_free(&R);
  nco_array_free(&M);
}

int main(void) {
  RUN(test_derivatives);
  RUN(test_omega_and_loss);
  RUN(test_gd_recovery);
  RUN(test_bad_input_sym);
  RUN(test_bad_input_asym);
  RUN(test_npy_roundtrip);
  return nco_test_summary();
}
