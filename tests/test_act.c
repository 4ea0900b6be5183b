/* Activations φ̃ = (1 − mix)φ + mix·z (Oymak & Soltanolkotabi §4.3):
 * derivatives against central differences in double, exact values at the
 * kinks, stable tails, inverse round trips and range errors. */
#include <float.h>

#include "testlib.h"

/* Every activation with a few slopes. */
static nco_act acts[16];
static size_t n_acts;

static void add_act(nco_activation k, double slope) {
  nco_act a = nco_act_make(k);
  if (slope >= 0) a.slope = slope;
  acts[n_acts++] = a;
}

static void make_acts(void) {
  n_acts = 0;
  add_act(NCO_ACT_IDENTITY, -1);
  add_act(NCO_ACT_SIGMOID, -1);
  add_act(NCO_ACT_TANH, -1);
  add_act(NCO_ACT_SOFTPLUS, -1);
  add_act(NCO_ACT_RELU, -1);
  add_act(NCO_ACT_LEAKY_RELU, -1);
  add_act(NCO_ACT_LEAKY_RELU, 0.2);
  add_act(NCO_ACT_ELU, -1);
  add_act(NCO_ACT_ELU, 0.5);
  add_act(NCO_ACT_ELU, 2.0);
}

static const double mixes[] = {0, 0.25, 1};
#define N_MIX (sizeof mixes / sizeof mixes[0])

static void test_names(void) {
  for (int k = NCO_ACT_IDENTITY; k <= NCO_ACT_ELU; k++) {
    nco_activation got = NCO_ACT_IDENTITY;
    const char *nm = nco_act_name((nco_activation)k);
    CHECK_OK(nco_act_parse(nm, &got));
    CHECK(got == (nco_activation)k);
  }
  CHECK(strcmp(nco_act_name(NCO_ACT_LEAKY_RELU), "leaky_relu") == 0);
  CHECK(strcmp(nco_act_name(NCO_ACT_SOFTPLUS), "softplus") == 0);
  nco_activation got;
  CHECK_ERR(nco_act_parse("swish", &got), NCO_ERR_INVALID, "'swish'");
  CHECK_ERR(nco_act_parse(NULL, &got), NCO_ERR_INVALID, "NULL");
  /* defaults documented in problems.h */
  nco_act a = nco_act_make(NCO_ACT_LEAKY_RELU);
  CHECK(a.slope == 0.01 && a.mix == 0);
  a = nco_act_make(NCO_ACT_ELU);
  CHECK(a.slope == 1.0 && a.mix == 0);
  a = nco_act_make(NCO_ACT_TANH);
  CHECK(a.kind == NCO_ACT_TANH && a.mix == 0);
  CHECK_OK(nco_act_validate(&a));
}

static void test_validate(void) {
  nco_act a = nco_act_make(NCO_ACT_LEAKY_RELU);
  a.slope = -0.1;
  CHECK_ERR(nco_act_validate(&a), NCO_ERR_RANGE, "slope -0.1");
  a.slope = NAN;
  CHECK_ERR(nco_act_validate(&a), NCO_ERR_RANGE, "slope");
  a = nco_act_make(NCO_ACT_TANH);
  a.mix = 1.5;
  CHECK_ERR(nco_act_validate(&a), NCO_ERR_RANGE, "mix 1.5");
  a.mix = -0.01;
  CHECK_ERR(nco_act_validate(&a), NCO_ERR_RANGE, "mix");
  a.mix = NAN;
  CHECK_ERR(nco_act_validate(&a), NCO_ERR_RANGE, "mix");
  a = nco_act_make(NCO_ACT_TANH);
  a.kind = (nco_activation)42;
  CHECK_ERR(nco_act_validate(&a), NCO_ERR_INVALID, "unknown kind 42");
  CHECK(isnan(nco_act_f(&a, 0.5)) && isnan(nco_act_df(&a, 0.5)) && isnan(nco_act_d2f(&a, 0.5)));
  CHECK_ERR(nco_act_validate(NULL), NCO_ERR_INVALID, "NULL");
  /* boundary values are valid */
  a = nco_act_make(NCO_ACT_ELU);
  a.slope = 0;
  a.mix = 1;
  CHECK_OK(nco_act_validate(&a));
}

/* f' and f'' against central differences in double at points away from
 * the kink at 0. With h = 1e-5·max(1,|z|) the truncation error is
 * h²/6·max|f'''| ≤ 1e-10·max(1,z²)/6·2 (|f'''| ≤ 2 for every activation
 * here at |z| ≤ 1, and the tails beyond are flat), and the rounding error is
 * ≈ ε·|f|/h ≤ 2.2e-16·30/3e-4 ≈ 2e-11. A tolerance of 1e-8·(1 + |f'|) is
 * ~100× above both, yet far below any wrong derivative. */
static void test_derivatives_fd(void) {
  static const double zs[] = {-30, -7.5, -2.2, -0.6, -0.013, 0.04, 0.9, 3.3, 12, 30};
  make_acts();
  for (size_t ai = 0; ai < n_acts; ai++) {
    for (size_t mi = 0; mi < N_MIX; mi++) {
      nco_act a = acts[ai];
      a.mix = mixes[mi];
      for (size_t zi = 0; zi < sizeof zs / sizeof zs[0]; zi++) {
        double z = zs[zi], h = 1e-5 * fmax(1, fabs(z));
        double zp = z + h, zm = z - h, dz = zp - zm; /* exact step actually taken */
        double fd1 = (nco_act_f(&a, zp) - nco_act_f(&a, zm)) / dz;
        double fd2 = (nco_act_df(&a, zp) - nco_act_df(&a, zm)) / dz;
        double d1 = nco_act_df(&a, z), d2 = nco_act_d2f(&a, z);
        CHECKF(fabs(d1 - fd1) <= 1e-8 * (1 + fabs(d1)), "%s slope %g mix %g z %g: df %.17g fd %.17g",
               nco_act_name(a.kind), a.slope, a.mix, z, d1, fd1);
        CHECKF(fabs(d2 - fd2) <= 1e-8 * (1 + fabs(d2)), "%s slope %g mix %g z %g: d2f %.17g fd %.17g",
               nco_act_name(a.kind), a.slope, a.mix, z, d2, fd2);
        /* the mix identity itself: φ̃ = (1 − m)φ + m z */
        nco_act b = a;
        b.mix = 0;
        CHECK_CLOSE(nco_act_f(&a, z), (1 - a.mix) * nco_act_f(&b, z) + a.mix * z, 1e-15,
                    4 * DBL_EPSILON);
      }
    }
  }
}

/* Closed forms checked against libm formulas written out here. */
static void test_values(void) {
  nco_act s = nco_act_make(NCO_ACT_SIGMOID), t = nco_act_make(NCO_ACT_TANH),
          sp = nco_act_make(NCO_ACT_SOFTPLUS), e = nco_act_make(NCO_ACT_ELU);
  static const double zs[] = {-3.1, -0.5, 0, 0.25, 2};
  for (size_t i = 0; i < sizeof zs / sizeof zs[0]; i++) {
    double z = zs[i];
    /* a few ulp: the implementations use the e^{−|z|} forms */
    CHECK_CLOSE(nco_act_f(&s, z), 1 / (1 + exp(-z)), 0, 8 * DBL_EPSILON);
    CHECK_CLOSE(nco_act_f(&t, z), tanh(z), 0, 8 * DBL_EPSILON);
    CHECK_CLOSE(nco_act_f(&sp, z), log(1 + exp(z)), 0, 8 * DBL_EPSILON);
    CHECK_CLOSE(nco_act_df(&sp, z), 1 / (1 + exp(-z)), 0, 8 * DBL_EPSILON);
    CHECK_CLOSE(nco_act_df(&t, z), 1 - tanh(z) * tanh(z), 1e-16, 8 * DBL_EPSILON);
  }
  CHECK_CLOSE(nco_act_f(&e, -1), exp(-1) - 1, 0, 4 * DBL_EPSILON);
  CHECK(nco_act_f(&e, 2) == 2);
}

/* Large |z|: no overflow, no NaN, tails with full relative accuracy
 * (σ(−50) = e^{−50}/(1 + e^{−50}), not 0; tanh'(30) = 4e^{−60}/(1+e^{−60})²,
 * not 1 − tanh² = 0). Relative tolerance: a few ulp of exp. */
static void test_tails(void) {
  nco_act s = nco_act_make(NCO_ACT_SIGMOID), t = nco_act_make(NCO_ACT_TANH),
          sp = nco_act_make(NCO_ACT_SOFTPLUS);
  double e50 = exp(-50), e40 = exp(-40), e60 = exp(-60);
  CHECK_CLOSE(nco_act_f(&s, -50), e50 / (1 + e50), 0, 8 * DBL_EPSILON);
  CHECK_CLOSE(nco_act_df(&s, 40), e40 / ((1 + e40) * (1 + e40)), 0, 8 * DBL_EPSILON);
  CHECK_CLOSE(nco_act_df(&s, -40), e40 / ((1 + e40) * (1 + e40)), 0, 8 * DBL_EPSILON);
  CHECK_CLOSE(nco_act_d2f(&s, 40), -e40, 0, 1e-12);
  CHECK_CLOSE(nco_act_d2f(&s, -40), e40, 0, 1e-12);
  CHECK_CLOSE(nco_act_df(&t, 30), 4 * e60 / ((1 + e60) * (1 + e60)), 0, 8 * DBL_EPSILON);
  CHECK_CLOSE(nco_act_d2f(&t, -30), 8 * e60, 0, 1e-12);
  CHECK_CLOSE(nco_act_f(&sp, -50), e50, 0, 8 * DBL_EPSILON);
  CHECK_CLOSE(nco_act_f(&sp, 50), 50, 0, DBL_EPSILON);
  static const double big[] = {-1e308, -800, 800, 1e308};
  make_acts();
  for (size_t ai = 0; ai < n_acts; ai++)
    for (size_t mi = 0; mi < N_MIX; mi++)
      for (size_t zi = 0; zi < 4; zi++) {
        nco_act a = acts[ai];
        a.mix = mixes[mi];
        double z = big[zi];
        double f = nco_act_f(&a, z), d1 = nco_act_df(&a, z), d2 = nco_act_d2f(&a, z);
        CHECKF(!isnan(f) && !isnan(d1) && isfinite(d1) && isfinite(d2), "%s mix %g z %g: %g %g %g",
               nco_act_name(a.kind), a.mix, z, f, d1, d2);
      }
  CHECK(nco_act_f(&s, 800) == 1 && nco_act_f(&s, -800) == 0);
  CHECK(nco_act_f(&sp, 800) == 800);
}

/* Exact values at the kink z = 0: the left branch (ReLU'(0) = 0). */
static void test_kinks(void) {
  nco_act r = nco_act_make(NCO_ACT_RELU);
  CHECK(nco_act_f(&r, 0) == 0 && nco_act_df(&r, 0) == 0 && nco_act_d2f(&r, 0) == 0);
  CHECK(nco_act_df(&r, 1e-300) == 1 && nco_act_df(&r, -1e-300) == 0);
  CHECK(nco_act_f(&r, -3) == 0 && nco_act_f(&r, 3) == 3);
  nco_act l = nco_act_make(NCO_ACT_LEAKY_RELU);
  l.slope = 0.1;
  CHECK(nco_act_f(&l, 0) == 0 && nco_act_df(&l, 0) == 0.1 && nco_act_d2f(&l, 0) == 0);
  CHECK(nco_act_df(&l, 1e-300) == 1);
  CHECK(nco_act_f(&l, -2) == -0.2);
  nco_act rm = r; /* ReLU mixed: the leaky ReLU of Oymak §4.3 */
  rm.mix = 0.25;
  CHECK(nco_act_df(&rm, 0) == 0.25 && nco_act_df(&rm, 1) == 1 && nco_act_f(&rm, -1) == -0.25);
  nco_act e = nco_act_make(NCO_ACT_ELU);
  e.slope = 0.5;
  CHECK(nco_act_f(&e, 0) == 0 && nco_act_df(&e, 0) == 0.5 && nco_act_d2f(&e, 0) == 0.5);
  CHECK(nco_act_df(&e, 1e-300) == 1 && nco_act_d2f(&e, 1e-300) == 0);
  nco_act s = nco_act_make(NCO_ACT_SIGMOID);
  CHECK(nco_act_f(&s, 0) == 0.5 && nco_act_df(&s, 0) == 0.25 && nco_act_d2f(&s, 0) == 0);
}

/* 1 if φ̃ (this activation and mix) is strictly increasing. */
static int invertible(const nco_act *a) {
  if (a->mix > 0) return 1;
  if (a->kind == NCO_ACT_RELU) return 0;
  if ((a->kind == NCO_ACT_LEAKY_RELU || a->kind == NCO_ACT_ELU) && a->slope == 0) return 0;
  return 1;
}

/* Inverse round trips. For y = φ̃(z):
 *  - |φ̃(ẑ) − y| ≤ 8ε·(|y| + φ̃'(ẑ)|ẑ|): ẑ within a few ulp of the root and
 *    φ̃ evaluated to a few ulp;
 *  - |ẑ − z| ≤ 8ε·(|z| + |y|/φ̃'(z)): the condition number of the inverse
 *    (an ulp of y moves z by ulp/φ̃');
 *  - for the numeric (mix ∈ (0,1)) branch: full double precision, i.e. no
 *    neighbouring double of ẑ is closer to the root (up to the rounding of
 *    φ̃ itself, 2ε|y|). */
static void test_inverse_roundtrip(void) {
  static const double zs[] = {-6, -1.7, -0.3, 0.2, 1.1, 5};
  make_acts();
  static const double mx[] = {0, 0.3, 1};
  size_t n_checked = 0;
  for (size_t ai = 0; ai < n_acts; ai++)
    for (size_t mi = 0; mi < 3; mi++) {
      nco_act a = acts[ai];
      a.mix = mx[mi];
      if (!invertible(&a)) continue;
      for (size_t zi = 0; zi < sizeof zs / sizeof zs[0]; zi++) {
        double z = zs[zi], y = nco_act_f(&a, z), zh = NAN;
        int st = nco_act_inverse(&a, y, &zh);
        CHECKF(st == NCO_OK, "%s slope %g mix %g y %g: %s", nco_act_name(a.kind), a.slope, a.mix, y,
               nco_last_error());
        if (st) continue;
        n_checked++;
        double fy = nco_act_f(&a, zh), dz = nco_act_df(&a, z);
        CHECKF(fabs(fy - y) <= 8 * DBL_EPSILON * (fabs(y) + nco_act_df(&a, zh) * fabs(zh)),
               "%s slope %g mix %g: f(inv(%.17g)) = %.17g", nco_act_name(a.kind), a.slope, a.mix, y, fy);
        CHECKF(fabs(zh - z) <= 8 * DBL_EPSILON * (fabs(z) + fabs(y) / dz),
               "%s slope %g mix %g: inv(f(%.17g)) = %.17g", nco_act_name(a.kind), a.slope, a.mix, z, zh);
        if (a.mix > 0 && a.mix < 1) {
          double up = fabs(nco_act_f(&a, nextafter(zh, INFINITY)) - y);
          double dn = fabs(nco_act_f(&a, nextafter(zh, -INFINITY)) - y);
          CHECKF(fabs(fy - y) <= fmin(up, dn) + 2 * DBL_EPSILON * fabs(y),
                 "%s mix %g y %.17g: |f(z)-y| %.3g, neighbours %.3g %.3g", nco_act_name(a.kind), a.mix, y,
                 fabs(fy - y), up, dn);
        }
      }
    }
  CHECK(n_checked > 100);
  /* targets far out in the tails of the mixed activations */
  nco_act s = nco_act_make(NCO_ACT_SIGMOID);
  s.mix = 0.3;
  double z;
  CHECK_OK(nco_act_inverse(&s, 50, &z));
  CHECK_CLOSE(nco_act_f(&s, z), 50, 0, 4 * DBL_EPSILON);
  CHECK_CLOSE(z, (50 - 0.7) / 0.3, 0, 1e-12); /* σ(164.33) = 1 to double precision */
  CHECK_OK(nco_act_inverse(&s, -1e6, &z));
  CHECK_CLOSE(z, -1e6 / 0.3, 0, 1e-15);
  nco_act e = nco_act_make(NCO_ACT_ELU);
  CHECK_OK(nco_act_inverse(&e, -0.5, &z));
  CHECK_CLOSE(z, -log(2.0), 0, 2 * DBL_EPSILON);
  nco_act sp = nco_act_make(NCO_ACT_SOFTPLUS);
  CHECK_OK(nco_act_inverse(&sp, 1e-10, &z)); /* log(expm1(1e-10)) ≈ log(1e-10) */
  CHECK_CLOSE(z, log(1e-10) + 0.5e-10, 0, 1e-14);
  CHECK_OK(nco_act_inverse(&sp, 40, &z));
  CHECK_CLOSE(z, 40 + log1p(-exp(-40)), 0, DBL_EPSILON);
}

static void test_inverse_range(void) {
  double z;
  nco_act s = nco_act_make(NCO_ACT_SIGMOID);
  CHECK_ERR(nco_act_inverse(&s, 1.0, &z), NCO_ERR_RANGE, "outside its range (0, 1)");
  CHECK_ERR(nco_act_inverse(&s, 0.0, &z), NCO_ERR_RANGE, "outside its range (0, 1)");
  CHECK_ERR(nco_act_inverse(&s, -0.5, &z), NCO_ERR_RANGE, "sigmoid");
  CHECK_ERR(nco_act_inverse(&s, NAN, &z), NCO_ERR_RANGE, "non-finite");
  CHECK_ERR(nco_act_inverse(&s, INFINITY, &z), NCO_ERR_RANGE, "non-finite");
  nco_act t = nco_act_make(NCO_ACT_TANH);
  CHECK_ERR(nco_act_inverse(&t, 1.0, &z), NCO_ERR_RANGE, "(-1, 1)");
  CHECK_ERR(nco_act_inverse(&t, -1.0, &z), NCO_ERR_RANGE, "(-1, 1)");
  nco_act sp = nco_act_make(NCO_ACT_SOFTPLUS);
  CHECK_ERR(nco_act_inverse(&sp, 0.0, &z), NCO_ERR_RANGE, "(0, inf)");
  CHECK_ERR(nco_act_inverse(&sp, -2.0, &z), NCO_ERR_RANGE, "softplus");
  nco_act r = nco_act_make(NCO_ACT_RELU);
  CHECK_ERR(nco_act_inverse(&r, 1.0, &z), NCO_ERR_RANGE, "not strictly increasing");
  nco_act l = nco_act_make(NCO_ACT_LEAKY_RELU);
  l.slope = 0;
  CHECK_ERR(nco_act_inverse(&l, -1.0, &z), NCO_ERR_RANGE, "not strictly increasing");
  nco_act e = nco_act_make(NCO_ACT_ELU);
  CHECK_ERR(nco_act_inverse(&e, -1.0, &z), NCO_ERR_RANGE, "outside its range (-1, inf)");
  e.slope = 0;
  CHECK_ERR(nco_act_inverse(&e, -0.1, &z), NCO_ERR_RANGE, "no inverse");
  CHECK_ERR(nco_act_inverse(&e, 0.5, &z), NCO_ERR_RANGE, "not strictly increasing");
  CHECK_ERR(nco_act_inverse(&r, 0.0, &z), NCO_ERR_RANGE, "not strictly increasing");
  /* mixed: range ℝ, but no finite z reaches 1e308 with slope 0.3 */
  s.mix = 0.3;
  CHECK_ERR(nco_act_inverse(&s, 1e308, &z), NCO_ERR_RANGE, "no finite z");
  s.mix = 2;
  CHECK_ERR(nco_act_inverse(&s, 0.5, &z), NCO_ERR_RANGE, "mix 2");
  CHECK_ERR(nco_act_inverse(&t, 0.5, NULL), NCO_ERR_INVALID, "NULL");
  /* invertible corner cases */
  r.mix = 0.5;
  CHECK_OK(nco_act_inverse(&r, -1.0, &z));
  CHECK(z == -2.0);
  CHECK_OK(nco_act_inverse(&r, 3.0, &z));
  CHECK(z == 3.0);
  l.slope = 0.1;
  CHECK_OK(nco_act_inverse(&l, -0.5, &z));
  CHECK_CLOSE(z, -5.0, 0, 2 * DBL_EPSILON);
}

int main(void) {
  RUN(test_names);
  RUN(test_validate);
  RUN(test_derivatives_fd);
  RUN(test_values);
  RUN(test_tails);
  RUN(test_kinks);
  RUN(test_inverse_roundtrip);
  RUN(test_inverse_range);
  return nco_test_summary();
}
