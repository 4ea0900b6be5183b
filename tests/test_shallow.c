/* One-hidden-layer network x ↦ vᵀφ̃(Wx) (Oymak & Soltanolkotabi §4.3):
 * values against an independent computation, derivative checks for every
 * activation, Theorem 4.3 (GD from arbitrary W0 reaches zero loss at the
 * stated rate), init, input validation and a .npy round trip. */
#include <float.h>
#include <stdlib.h>

#include "testlib.h"

enum { N = 12, D = 5, K = 3 };

static const size_t batch_idx[] = {4, 4, 0, N - 1, 7, 4}; /* repeats on purpose */
#define NB (sizeof batch_idx / sizeof batch_idx[0])

/* The activations swept (testlib: all kinds, mix 0 and 0.3; ELU with
 * slope 0.7), checked against the textbook formulas nco_test_ref_act. */
static nco_act act_list(size_t i) { return nco_test_act_case(i, 0.7); }

/* v = (0.6, −0.8, 0): ‖v‖ = 1 up to float rounding. */
static void make_v(nco_array *v) {
  size_t sh[1] = {K};
  nco_array_alloc(v, NCO_DTYPE_F32, 1, sh, "v.npy");
  float *p = v->data;
  p[0] = 0.6f, p[1] = -0.8f, p[2] = 0;
}

static int make(const nco_act *act, uint64_t seed, const nco_array *v, nco_array *X, nco_array *y,
                nco_problem **pb) {
  nco_rng rng;
  nco_rng_seed(&rng, seed);
  int st = nco_shallow_generate(N, D, K, act, 0.1, &rng, X, y);
  if (st) return st;
  return nco_shallow_create(X, y, K, act, v, pb);
}

/* W ~ N(0,1) entries; for activations with a kink, redrawn until every
 * w_ℓᵀx_i is farther from 0 than twice the HVP check's largest move
 * (h = 1e-3·max(1,‖W‖∞), |Δz| ≤ h‖x_i‖ = h for unit-norm x_i). */
static void draw_point(const nco_act *act, const float *X, nco_rng *rng, float *W) {
  for (int tries = 0; tries < 1000; tries++) {
    nco_rng_normal_fill(rng, W, K * D, 0, 1);
    if (!nco_test_act_has_kink(act)) return;
    double winf = 0, zmin = INFINITY;
    for (size_t j = 0; j < K * D; j++) winf = fmax(winf, fabs(W[j]));
    for (size_t i = 0; i < N; i++)
      for (size_t l = 0; l < K; l++) {
        double z = 0;
        for (size_t j = 0; j < D; j++) z += (double)W[l * D + j] * X[i * D + j];
        zmin = fmin(zmin, fabs(z));
      }
    if (zmin > 2 * 1e-3 * fmax(1, winf)) return;
  }
}

/* Loss, gradient and exact HVP against formulas evaluated here in double
 * (tolerances as in test_glm.c: a few ulp between φ̃ implementations for
 * the loss; 2⁻²⁴ roundings of r, Ju and the outputs for gradient/HVP):
 *   f_i = Σ_ℓ v_ℓ φ̃(z_iℓ), r_i = f_i − y_i,
 *   ∇_{w_ℓ} = c Σ_i r_i v_ℓ φ̃'(z_iℓ) x_i,
 *   (HU)_ℓ = c Σ_i [v_ℓ φ̃'(z_iℓ)(JU)_i + r_i v_ℓ φ̃''(z_iℓ) u_ℓᵀx_i] x_i. */
static void test_closed_form(void) {
  nco_array vv = {0};
  make_v(&vv);
  for (size_t ai = 0; ai < NCO_TEST_N_ACTS; ai++) {
    for (int use_v = 0; use_v < 2; use_v++) {
      nco_act act = act_list(ai);
      nco_array X = {0}, y = {0};
      nco_problem *pb = NULL;
      REQUIRE_OK(make(&act, 100 + ai, use_v ? &vv : NULL, &X, &y, &pb));
      const float *Xd = X.data, *yd = y.data;
      double v[K];
      for (size_t l = 0; l < K; l++)
        v[l] = use_v ? ((float *)vv.data)[l] : (l % 2 ? -1 : 1) / sqrt((double)K);
      nco_rng rng;
      nco_rng_seed(&rng, 7 + ai);
      float W[K * D], U[K * D], g[K * D], hu[K * D];
      draw_point(&act, Xd, &rng, W);
      nco_rng_normal_fill(&rng, U, K * D, 0, 1);
      for (int red = 0; red < 2; red++) {
        nco_problem_set_reduction(pb, red ? NCO_REDUCE_MEAN : NCO_REDUCE_SUM);
        for (int mb = 0; mb < 2; mb++) {
          const size_t *idx = mb ? batch_idx : NULL;
          size_t nb = mb ? NB : N;
          double c = red ? 1.0 / nb : 1.0, loss, lref = 0, lerr = 0;
          double gref[K * D] = {0}, gabs[K * D] = {0}, href[K * D] = {0}, habs[K * D] = {0};
          for (size_t s = 0; s < nb; s++) {
            size_t i = idx ? idx[s] : s;
            const float *xi = Xd + i * D;
            double z[K], ux[K], f = 0, fa = 0, ju = 0;
            for (size_t l = 0; l < K; l++) {
              z[l] = ux[l] = 0;
              for (size_t j = 0; j < D; j++) z[l] += (double)W[l * D + j] * xi[j], ux[l] += (double)U[l * D + j] * xi[j];
              f += v[l] * nco_test_ref_act(&act, z[l], 0);
              fa += fabs(v[l]) * (fabs(nco_test_ref_act(&act, z[l], 0)) + fabs(z[l]));
              ju += v[l] * nco_test_ref_act(&act, z[l], 1) * ux[l];
            }
            double r = f - yd[i];
            lref += 0.5 * c * r * r;
            lerr += c * fabs(r) * 8 * DBL_EPSILON * fa;
            for (size_t l = 0; l < K; l++) {
              double f1 = nco_test_ref_act(&act, z[l], 1), f2 = nco_test_ref_act(&act, z[l], 2);
              for (size_t j = 0; j < D; j++) {
                gref[l * D + j] += c * r * v[l] * f1 * xi[j];
                gabs[l * D + j] += fabs(c * r * v[l] * f1 * xi[j]);
                href[l * D + j] += c * (v[l] * f1 * ju + r * v[l] * f2 * ux[l]) * xi[j];
                habs[l * D + j] += c * (fabs(v[l] * f1 * ju) + fabs(r * v[l] * f2 * ux[l])) * fabs(xi[j]);
              }
            }
          }
          CHECK_OK(nco_problem_eval(pb, W, idx, nb, &loss, g));
          CHECK_OK(nco_problem_hvp(pb, W, idx, nb, U, hu));
          CHECKF(fabs(loss - lref) <= 10 * lerr + 1e-12 * lref, "%s: loss %.17g ref %.17g", pb->label, loss, lref);
          for (size_t j = 0; j < K * D; j++) {
            CHECKF(fabs(g[j] - gref[j]) <= 4 * 0x1p-24 * gabs[j] + 2 * 0x1p-24 * fabs(gref[j]) + 1e-15,
                   "%s: grad[%zu] %.9g ref %.9g", pb->label, j, g[j], gref[j]);
            CHECKF(fabs(hu[j] - href[j]) <= 4 * 0x1p-24 * habs[j] + 2 * 0x1p-24 * fabs(href[j]) + 1e-15,
                   "%s: hv[%zu] %.9g ref %.9g", pb->label, j, hu[j], href[j]);
          }
        }
      }
      CHECK(nco_problem_has_exact_hvp(pb));
      nco_problem_free(pb);
      nco_array_free(&X);
      nco_array_free(&y);
    }
  }
  nco_array_free(&vv);
}

/* nco_check_* (defaults, see check.h) for every activation and mix, two
 * random points away from kinks, full and repeated-index batches, SUM and
 * MEAN. */
static void test_derivative_checks(void) {
  for (size_t ai = 0; ai < NCO_TEST_N_ACTS; ai++) {
    nco_act act = act_list(ai);
    nco_array X = {0}, y = {0};
    nco_problem *pb = NULL;
    REQUIRE_OK(make(&act, 200 + ai, NULL, &X, &y, &pb));
    nco_rng rng;
    nco_rng_seed(&rng, 40 + ai);
    CHECK(nco_problem_is_least_squares(pb) && nco_problem_has_exact_hvp(pb));
    float W[K * D];
    for (int trial = 0; trial < 2; trial++) {
      draw_point(&act, X.data, &rng, W);
      nco_test_check_derivatives(pb, W, batch_idx, NB);
    }
    nco_problem_free(pb);
    nco_array_free(&X);
    nco_array_free(&y);
  }
}

/* ‖f(W) − y‖ computed here (tanh from libm). */
static double misfit(size_t n, size_t d, size_t k, const float *X, const float *y, const float *W, double mix) {
  double s = 0;
  for (size_t i = 0; i < n; i++) {
    double f = 0;
    for (size_t l = 0; l < k; l++) {
      double z = 0;
      for (size_t j = 0; j < d; j++) z += (double)W[l * d + j] * X[i * d + j];
      f += ((l % 2) ? -1 : 1) / sqrt((double)k) * ((1 - mix) * tanh(z) + mix * z);
    }
    s += (f - y[i]) * (f - y[i]);
  }
  return sqrt(s);
}

/* Theorem 4.3's rate along the GD path: the bound (1 − ηγ²σmin²)^τ‖f(W0) − y‖
 * at iterate τ, the iterates whose misfit √(2·loss) exceeds it (plus
 * slack), and the loss at the last iterate. */
typedef struct rate_watch {
  double loss0, r0, rho, bound, loss;
  size_t viol;
} rate_watch;

/* nco_test_gd watch: stops at loss ≤ 1e-8·loss(W0). */
static int watch_rate(void *ctx, size_t t, double loss, const float *W, const float *g) {
  rate_watch *w = ctx;
  (void)t, (void)W, (void)g;
  w->loss = loss;
  if (sqrt(2 * loss) > w->bound + 1e-6 * w->r0) w->viol++;
  if (loss <= 1e-8 * w->loss0) return 1;
  w->bound *= w->rho;
  return 0;
}

/* Oymak & Soltanolkotabi Theorem 4.3: n = 10 ≤ d = 60, k = 4 hidden units,
 * φ̃ = 0.7·tanh + 0.3·z, so γ = inf φ̃' = 0.3, Γ = sup φ̃' = 1 and
 * M = sup|φ̃''| = 0.7·4/(3√3) (|tanh''| peaks at 4/(3√3)); v fixed, ‖v‖ = 1.
 * GD with the theorem's step
 *   η = 1/(2Γ²‖X‖²)·min(1, γ²/(ΓM)·σmin(X)²/(‖X‖_{2,∞}‖X‖)/‖f(W0) − y‖)
 * from two arbitrary starts (N(0,1) entries and the default init) must
 * reach loss ≤ 1e-8·loss(W0), and every iterate must obey
 * ‖f(W_τ) − y‖ ≤ (1 − ηγ²σmin(X)²)^τ ‖f(W0) − y‖. The bound is for exact
 * arithmetic; the float32 residual floor is ≈ 2⁻²⁴·√n·max|f| ≈ 1e-6, so we
 * allow 1e-6·‖f(W0) − y‖ slack (≪ the 1e-4 ratio the test drives to). */
static void test_theorem_4_3(void) {
  enum { n = 10, d = 60, k = 4 };
  nco_act act = nco_act_make(NCO_ACT_TANH);
  act.mix = 0.3;
  const double gam = 0.3, Gam = 1.0, M = 0.7 * 4 / (3 * sqrt(3.0));
  nco_rng rng;
  nco_rng_seed(&rng, 4343);
  nco_array X = {0}, y = {0};
  nco_problem *pb = NULL;
  /* labels from another network plus noise: arbitrary targets */
  REQUIRE_OK(nco_shallow_generate(n, d, k, &act, 0.2, &rng, &X, &y));
  REQUIRE_OK(nco_shallow_create(&X, &y, k, &act, NULL, &pb));
  CHECK(strcmp(pb->label, "shallow(tanh mix=0.3) n=10 d=60 k=4") == 0);
  const float *Xd = X.data, *yd = y.data;
  double G[n * n], ev[n], rowmax = 0;
  nco_test_gram(n, d, Xd, G); /* XXᵀ */
  for (size_t i = 0; i < n; i++) rowmax = fmax(rowmax, sqrt(G[i * n + i]));
  nco_test_eig_sym(n, G, ev, NULL);
  double lmin = ev[n - 1], lmax = ev[0];
  double nX = sqrt(lmax), smin = sqrt(lmin);
  CHECK_CLOSE(rowmax, 1, 0, 1e-6); /* rows on the unit sphere */
  for (int start = 0; start < 2; start++) {
    float W[k * d];
    if (start == 0)
      nco_rng_normal_fill(&rng, W, k * d, 0, 1);
    else
      CHECK_OK(nco_problem_init(pb, &rng, W));
    double r0 = misfit(n, d, k, Xd, yd, W, act.mix), loss0;
    CHECK_OK(nco_problem_eval(pb, W, NULL, n, &loss0, NULL));
    CHECK_CLOSE(sqrt(2 * loss0), r0, 0, 1e-9);
    double eta = 1 / (2 * Gam * Gam * nX * nX) *
                 fmin(1, gam * gam / (Gam * M) * smin * smin / (rowmax * nX) / r0);
    double rho = 1 - eta * gam * gam * smin * smin;
    rate_watch rw = {.loss0 = loss0, .r0 = r0, .rho = rho, .bound = r0, .loss = loss0, .viol = 0};
    size_t T = nco_test_gd(pb, W, eta, 400000, watch_rate, &rw);
    double loss = rw.loss, rT = misfit(n, d, k, Xd, yd, W, act.mix);
    fprintf(stderr,
            "  theorem 4.3 (start %d): |X|=%.4g smin=%.4g eta=%.4g rate bound=%.7f; %zu GD steps, loss %.4g -> %.4g"
            " (ratio %.3g), misfit %.4g -> %.4g, bound at T %.4g\n",
            start, nX, smin, eta, rho, T, loss0, loss, loss / loss0, r0, rT, rw.bound);
    CHECKF(loss <= 1e-8 * loss0, "GD did not reach zero loss in %zu steps (ratio %.3g)", T, loss / loss0);
    CHECKF(rw.viol == 0, "misfit above the Theorem 4.3 rate at %zu iterates", rw.viol);
    CHECK(rT <= 1.01e-4 * r0 + 1e-6 * r0); /* independent misfit agrees */
  }
  nco_problem_free(pb);
  nco_array_free(&X);
  nco_array_free(&y);
}

/* Default init: W ~ N(0, 1/d) entries (2000 draws: sample variance within
 * 5 sd = 5·√(2/2000) ≈ 16% of 1/d), and deterministic in the seed. */
static void test_init(void) {
  enum { n = 5, d = 40, k = 50 };
  nco_rng rng;
  nco_rng_seed(&rng, 1);
  nco_array X = {0}, y = {0};
  nco_problem *pb = NULL;
  nco_act act = nco_act_make(NCO_ACT_SIGMOID);
  REQUIRE_OK(nco_shallow_generate(n, d, k, &act, 0, &rng, &X, &y));
  REQUIRE_OK(nco_shallow_create(&X, &y, k, &act, NULL, &pb));
  CHECK(pb->dim == k * d);
  static float W[k * d], W2[k * d];
  nco_rng r1, r2;
  nco_rng_seed(&r1, 9);
  nco_rng_seed(&r2, 9);
  CHECK_OK(nco_problem_init(pb, &r1, W));
  CHECK_OK(nco_problem_init(pb, &r2, W2));
  CHECK(memcmp(W, W2, sizeof W) == 0);
  double m = 0, v = 0;
  for (size_t j = 0; j < k * d; j++) m += W[j];
  m /= k * d;
  for (size_t j = 0; j < k * d; j++) v += (W[j] - m) * (W[j] - m);
  v /= k * d - 1;
  CHECKF(fabs(v * d - 1) < 5 * sqrt(2.0 / (k * d)), "init variance %g, expected %g", v, 1.0 / d);
  /* generator: rows of X on the unit sphere, noise-free y realised by the
   * default v with W* (loss 0 at W* is not checkable without W*; check the
   * rows instead) */
  for (size_t i = 0; i < n; i++) CHECK_CLOSE(nco_nrm2(d, (float *)X.data + i * d), 1, 0, 1e-6);
  CHECK(strcmp(X.origin, "synthetic:shallow") == 0);
  nco_problem_free(pb);
  nco_array_free(&X);
  nco_array_free(&y);
}

static void test_bad_input(void) {
  nco_act act = nco_act_make(NCO_ACT_TANH);
  nco_array X = {0}, y = {0}, v = {0}, vlong = {0}, v2 = {0}, ys = {0};
  nco_problem *pb = NULL;
  nco_rng rng;
  nco_rng_seed(&rng, 3);
  REQUIRE_OK(nco_shallow_generate(N, D, K, &act, 0.1, &rng, &X, &y));
  snprintf(X.origin, sizeof X.origin, "data/X.npy");
  snprintf(y.origin, sizeof y.origin, "data/y.npy");
  make_v(&v);
  size_t sh4[1] = {K + 1}, sh2[2] = {K, 2}, shs[1] = {N - 2};
  REQUIRE_OK(nco_array_alloc(&vlong, NCO_DTYPE_F32, 1, sh4, "vlong.npy"));
  REQUIRE_OK(nco_array_alloc(&v2, NCO_DTYPE_F32, 2, sh2, "v2.npy"));
  REQUIRE_OK(nco_array_alloc(&ys, NCO_DTYPE_F32, 1, shs, "data/ys.npy"));
  CHECK_OK(nco_shallow_create(&X, &y, K, &act, &v, &pb));
  nco_problem_free(pb);
  pb = NULL;
  ((float *)v.data)[1] = -0.9f;
  CHECK_ERR(nco_shallow_create(&X, &y, K, &act, &v, &pb), NCO_ERR_RANGE, "v.npy: output weights v has norm 1.08");
  ((float *)v.data)[1] = NAN;
  CHECK_ERR(nco_shallow_create(&X, &y, K, &act, &v, &pb), NCO_ERR_NONFINITE,
            "v.npy: output weights v has a non-finite value (nan) at index (1,)");
  ((float *)v.data)[1] = -0.8f;
  CHECK_ERR(nco_shallow_create(&X, &y, K, &act, &vlong, &pb), NCO_ERR_SHAPE,
            "vlong.npy: output weights v has 4 entries but the hidden width is k = 3");
  CHECK_ERR(nco_shallow_create(&X, &y, K, &act, &v2, &pb), NCO_ERR_SHAPE, "v2.npy: output weights v has shape (3, 2)");
  CHECK_ERR(nco_shallow_create(&X, &y, 0, &act, NULL, &pb), NCO_ERR_RANGE, "k = 0");
  CHECK_ERR(nco_shallow_create(&X, &ys, K, &act, NULL, &pb), NCO_ERR_SHAPE,
            "data/X.npy: features has 12 rows but targets (data/ys.npy) has 10 entries");
  CHECK_ERR(nco_shallow_create(&y, &y, K, &act, NULL, &pb), NCO_ERR_SHAPE, "data/y.npy: features has shape (12,)");
  ((float *)X.data)[3 * D + 1] = NAN;
  CHECK_ERR(nco_shallow_create(&X, &y, K, &act, NULL, &pb), NCO_ERR_NONFINITE,
            "data/X.npy: features has a non-finite value (nan) at index (3, 1)");
  ((float *)X.data)[3 * D + 1] = 0;
  nco_act bad = nco_act_make(NCO_ACT_LEAKY_RELU);
  bad.slope = -0.01;
  CHECK_ERR(nco_shallow_create(&X, &y, K, &bad, NULL, &pb), NCO_ERR_RANGE, "shallow: activation leaky_relu: slope -0.01");
  CHECK(pb == NULL);
  nco_array G = {0}, H = {0};
  CHECK_ERR(nco_shallow_generate(N, D, 0, &act, 0, &rng, &G, &H), NCO_ERR_RANGE, "k = 0");
  CHECK_ERR(nco_shallow_generate(N, D, K, &act, -0.5, &rng, &G, &H), NCO_ERR_RANGE, "noise -0.5");
  CHECK_ERR(nco_shallow_generate(N, D, K, &bad, 0, &rng, &G, &H), NCO_ERR_RANGE, "slope");
  CHECK(G.data == NULL && H.data == NULL);
  nco_array_free(&X);
  nco_array_free(&y);
  nco_array_free(&v);
  nco_array_free(&vlong);
  nco_array_free(&v2);
  nco_array_free(&ys);
}

/* generate → .npy → read → create: bitwise the same loss and gradient. */
static void test_npy_roundtrip(void) {
  nco_act act = nco_act_make(NCO_ACT_SOFTPLUS);
  nco_array X = {0}, y = {0}, Xr = {0}, yr = {0}, v = {0}, vr = {0};
  nco_problem *p1 = NULL, *p2 = NULL;
  make_v(&v);
  REQUIRE_OK(make(&act, 66, &v, &X, &y, &p1));
  nco_test_npy_roundtrip(&X, "shallow_X.npy", &Xr);
  nco_test_npy_roundtrip(&y, "shallow_y.npy", &yr);
  nco_test_npy_roundtrip(&v, "shallow_v.npy", &vr);
  CHECK_OK(nco_shallow_create(&Xr, &yr, K, &act, &vr, &p2));
  nco_test_check_same_problem(p1, p2, 4);
  nco_problem_free(p1);
  nco_problem_free(p2);
  nco_array_free(&X);
  nco_array_free(&y);
  nco_array_free(&Xr);
  nco_array_free(&yr);
  nco_array_free(&v);
  nco_array_free(&vr);
}

int main(void) {
  RUN(test_closed_form);
  RUN(test_derivative_checks);
  RUN(test_theorem_4_3);
  RUN(test_init);
  RUN(test_bad_input);
  RUN(test_npy_roundtrip);
  return nco_test_summary();
}
