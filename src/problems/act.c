/* Scalar activations φ̃(z) = (1 − mix)·φ(z) + mix·z with first and second
 * derivatives and the inverse, for the GLM and the shallow network.
 *
 * Oymak & Soltanolkotabi §4.3: adding a linear part to any non-decreasing φ
 * gives a strictly increasing φ̃ with φ̃' ≥ mix > 0 (leaky ReLU is ReLU
 * mixed this way); Theorems 4.1 and 4.3 need exactly that.
 *
 * Kinks: at z = 0 the piecewise definitions take the left branch, so
 * ReLU'(0) = 0, leaky'(0) = slope, ELU'(0) = ELU''(0) = α (the usual
 * convention of autodiff frameworks for ReLU).
 *
 * Large |z|: the sigmoid, softplus and the derivatives of the sigmoid and
 * tanh are computed from t = e^{−|z|} (never e^{+|z|}), so nothing
 * overflows and the tails keep full relative accuracy instead of rounding
 * to 0 through 1 − σ or 1 − tanh².
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ncopt/problems.h"
#include "ncopt/status.h"

/* One table for names and default slopes (designated initializers). */
static const struct {
  const char *name;
  double slope;
} act_info[] = {
    [NCO_ACT_IDENTITY] = {"identity", 0},
    [NCO_ACT_SIGMOID] = {"sigmoid", 0},
    [NCO_ACT_TANH] = {"tanh", 0},
    [NCO_ACT_SOFTPLUS] = {"softplus", 0},
    [NCO_ACT_RELU] = {"relu", 0},
    [NCO_ACT_LEAKY_RELU] = {"leaky_relu", 0.01},
    [NCO_ACT_ELU] = {"elu", 1.0},
};
#define N_ACT (sizeof act_info / sizeof act_info[0])

static int kind_valid(nco_activation k) { return (unsigned)k < N_ACT; }

nco_act nco_act_make(nco_activation kind) {
  nco_act a = {.kind = kind, .slope = kind_valid(kind) ? act_info[kind].slope : 0, .mix = 0};
  return a;
}

const char *nco_act_name(nco_activation kind) {
  return kind_valid(kind) ? act_info[kind].name : "unknown";
}

int nco_act_parse(const char *name, nco_activation *kind) {
  if (!name || !kind) return nco_error(NCO_ERR_INVALID, "activation: NULL name or output");
  for (size_t k = 0; k < N_ACT; k++) {
    if (strcmp(name, act_info[k].name) == 0) {
      *kind = (nco_activation)k;
      return NCO_OK;
    }
  }
  return nco_error(NCO_ERR_INVALID,
                   "activation: unknown name '%s' (expected identity, sigmoid, tanh, softplus, relu, "
                   "leaky_relu or elu)",
                   name);
}

int nco_act_validate(const nco_act *a) {
  if (!a) return nco_error(NCO_ERR_INVALID, "activation: NULL");
  if (!kind_valid(a->kind)) return nco_error(NCO_ERR_INVALID, "activation: unknown kind %d", (int)a->kind);
  const char *nm = act_info[a->kind].name;
  if (!(a->slope >= 0) || !isfinite(a->slope))
    return nco_error(NCO_ERR_RANGE, "activation %s: slope %g must be finite and >= 0", nm, a->slope);
  if (!(a->mix >= 0 && a->mix <= 1))
    return nco_error(NCO_ERR_RANGE, "activation %s: mix %g must lie in [0, 1]", nm, a->mix);
  return NCO_OK;
}

/* ---- the base activations φ (mix = 0) ---------------------------------- */

/* σ(z) = 1/(1 + e^{−z}), from t = e^{−|z|}: no overflow for any z. */
static double sigmoid(double z) {
  double t = exp(-fabs(z));
  return z >= 0 ? 1 / (1 + t) : t / (1 + t);
}

/* σ'(z) = σ(z)σ(−z) = t/(1 + t)², t = e^{−|z|} (accurate in the tails). */
static double dsigmoid(double z) {
  double t = exp(-fabs(z));
  return t / ((1 + t) * (1 + t));
}

/* σ''(z) = σ'(z)(1 − 2σ(z)), and 1 − 2σ(z) = −sgn(z)(1 − t)/(1 + t). */
static double d2sigmoid(double z) {
  double t = exp(-fabs(z));
  double s1 = t / ((1 + t) * (1 + t));
  double c = (1 - t) / (1 + t);
  return z >= 0 ? -s1 * c : s1 * c;
}

/* sech²(z) = 4t/(1 + t)², t = e^{−2|z|}: tanh' without 1 − tanh² cancelling. */
static double sech2(double z) {
  double t = exp(-2 * fabs(z));
  return 4 * t / ((1 + t) * (1 + t));
}

/* softplus(z) = log(1 + e^z) = max(z, 0) + log1p(e^{−|z|}). */
static double softplus(double z) { return (z > 0 ? z : 0) + log1p(exp(-fabs(z))); }

static double base_f(const nco_act *a, double z) {
  switch (a->kind) {
    case NCO_ACT_IDENTITY: return z;
    case NCO_ACT_SIGMOID: return sigmoid(z);
    case NCO_ACT_TANH: return tanh(z);
    case NCO_ACT_SOFTPLUS: return softplus(z);
    case NCO_ACT_RELU: return z > 0 ? z : 0;
    case NCO_ACT_LEAKY_RELU: return z > 0 ? z : a->slope * z;
    case NCO_ACT_ELU: return z > 0 ? z : a->slope * expm1(z);
  }
  return NAN;
}

static double base_df(const nco_act *a, double z) {
  switch (a->kind) {
    case NCO_ACT_IDENTITY: return 1;
    case NCO_ACT_SIGMOID: return dsigmoid(z);
    case NCO_ACT_TANH: return sech2(z);
    case NCO_ACT_SOFTPLUS: return sigmoid(z);
    case NCO_ACT_RELU: return z > 0 ? 1 : 0;
    case NCO_ACT_LEAKY_RELU: return z > 0 ? 1 : a->slope;
    case NCO_ACT_ELU: return z > 0 ? 1 : a->slope * exp(z);
  }
  return NAN;
}

static double base_d2f(const nco_act *a, double z) {
  switch (a->kind) {
    case NCO_ACT_IDENTITY: return 0;
    case NCO_ACT_SIGMOID: return d2sigmoid(z);
    case NCO_ACT_TANH: return -2 * tanh(z) * sech2(z);
    case NCO_ACT_SOFTPLUS: return dsigmoid(z);
    case NCO_ACT_RELU: return 0;
    case NCO_ACT_LEAKY_RELU: return 0;
    case NCO_ACT_ELU: return z > 0 ? 0 : a->slope * exp(z);
  }
  return NAN;
}

/* ---- the mixed activation φ̃ -------------------------------------------- */

/* Oymak & Soltanolkotabi §4.3: φ̃(z) = (1 − γ)φ(z) + γz with γ = mix. */
double nco_act_f(const nco_act *a, double z) {
  if (!a || !kind_valid(a->kind)) return NAN;
  if (a->mix == 0) return base_f(a, z);
  return (1 - a->mix) * base_f(a, z) + a->mix * z;
}

double nco_act_df(const nco_act *a, double z) {
  if (!a || !kind_valid(a->kind)) return NAN;
  if (a->mix == 0) return base_df(a, z);
  return (1 - a->mix) * base_df(a, z) + a->mix;
}

double nco_act_d2f(const nco_act *a, double z) {
  if (!a || !kind_valid(a->kind)) return NAN;
  return (1 - a->mix) * base_d2f(a, z);
}

/* ---- inverse ----------------------------------------------------------- */

/* Solves φ̃(z) = y for a continuous, strictly increasing φ̃ on [lo, hi]
 * (given φ̃(lo) ≤ y ≤ φ̃(hi)) by Newton's method safeguarded with bisection
 * (Numerical Recipes §9.4, rtsafe): a Newton step that leaves the bracket
 * is replaced by a bisection step, and so is every third step if the
 * bracket has not halved meanwhile. Runs until the bracket is two adjacent
 * doubles (full double precision), then returns the end whose φ̃ is closest
 * to y. */
static double solve_bracketed(const nco_act *a, double y, double lo, double hi) {
  double z = 0.5 * lo + 0.5 * hi, w_ref = 0.5 * hi - 0.5 * lo;
  int since = 0;
  for (int it = 0; it < 5000; it++) {
    double fz = nco_act_f(a, z) - y;
    if (fz == 0) return z;
    if (fz < 0)
      lo = z;
    else
      hi = z;
    if (!(nextafter(lo, INFINITY) < hi)) break; /* adjacent doubles */
    double dz = nco_act_df(a, z), zn = dz > 0 ? z - fz / dz : NAN;
    int bisect = !(zn > lo && zn < hi);
    if (++since >= 3) {
      double w = 0.5 * hi - 0.5 * lo;
      if (w > 0.5 * w_ref) bisect = 1;
      w_ref = w;
      since = 0;
    }
    if (!bisect && zn == z) /* the Newton step is below one ulp: probe the neighbour */
      zn = fz < 0 ? nextafter(z, INFINITY) : nextafter(z, -INFINITY);
    if (bisect || !(zn > lo && zn < hi)) zn = 0.5 * lo + 0.5 * hi;
    if (!(zn > lo && zn < hi)) break;
    z = zn;
  }
  double el = fabs(nco_act_f(a, lo) - y), eh = fabs(nco_act_f(a, hi) - y);
  return el <= eh ? lo : hi;
}

/* Brackets the root of φ̃(z) = y by doubling outwards from [−1, 1]; φ̃ is
 * strictly increasing and unbounded in both directions when mix > 0. */
static int solve(const nco_act *a, double y, double *z) {
  double lo = -1, hi = 1;
  while (nco_act_f(a, lo) > y) {
    lo *= 2;
    if (!isfinite(lo)) goto range;
  }
  while (nco_act_f(a, hi) < y) {
    hi *= 2;
    if (!isfinite(hi)) goto range;
  }
  *z = solve_bracketed(a, y, lo, hi);
  return NCO_OK;
range:
  return nco_error(NCO_ERR_RANGE, "activation %s (mix %g): no finite z with value %.17g",
                   act_info[a->kind].name, a->mix, y);
}

static int out_of_range(const nco_act *a, double y, const char *range) {
  return nco_error(NCO_ERR_RANGE, "activation %s (mix %g): %.17g is outside its range %s",
                   act_info[a->kind].name, a->mix, y, range);
}

int nco_act_inverse(const nco_act *a, double y, double *z) {
  int st;
  if (!z) return nco_error(NCO_ERR_INVALID, "activation inverse: NULL output");
  if ((st = nco_act_validate(a))) return st;
  const char *nm = act_info[a->kind].name;
  double m = a->mix;
  if (!isfinite(y)) return nco_error(NCO_ERR_RANGE, "activation %s: cannot invert non-finite value %g", nm, y);
  if (a->kind == NCO_ACT_IDENTITY || m == 1) {
    *z = y;
    return NCO_OK;
  }
  switch (a->kind) {
    case NCO_ACT_RELU:
    case NCO_ACT_LEAKY_RELU: {
      /* φ̃(z) = z for z > 0 and c·z for z ≤ 0, c = (1 − m)·slope + m. */
      double c = (1 - m) * (a->kind == NCO_ACT_RELU ? 0 : a->slope) + m;
      if (!(c > 0))
        return nco_error(NCO_ERR_RANGE,
                         "activation %s (slope %g, mix %g) is not strictly increasing (flat for z <= 0): "
                         "no inverse",
                         nm, a->kind == NCO_ACT_RELU ? 0.0 : a->slope, m);
      *z = y > 0 ? y : y / c;
      return NCO_OK;
    }
    case NCO_ACT_ELU:
      if (m == 0 && !(a->slope > 0)) /* α = 0: ReLU */
        return nco_error(NCO_ERR_RANGE,
                         "activation elu (alpha 0, mix 0) is not strictly increasing (flat for z <= 0): no inverse");
      if (y > 0) { /* φ̃(z) = z for z > 0 */
        *z = y;
        return NCO_OK;
      }
      if (m == 0) {
        /* α·expm1(z) = y  ⇔  z = log1p(y/α), y > −α */
        if (!(y > -a->slope)) {
          char r[64];
          snprintf(r, sizeof r, "(-%g, inf)", a->slope);
          return out_of_range(a, y, r);
        }
        *z = log1p(y / a->slope);
        return NCO_OK;
      }
      return solve(a, y, z);
    case NCO_ACT_SIGMOID:
      if (m > 0) return solve(a, y, z);
      if (!(y > 0 && y < 1)) return out_of_range(a, y, "(0, 1)");
      *z = log(y) - log1p(-y); /* logit */
      return NCO_OK;
    case NCO_ACT_TANH:
      if (m > 0) return solve(a, y, z);
      if (!(y > -1 && y < 1)) return out_of_range(a, y, "(-1, 1)");
      *z = atanh(y);
      return NCO_OK;
    case NCO_ACT_SOFTPLUS:
      if (m > 0) return solve(a, y, z);
      if (!(y > 0)) return out_of_range(a, y, "(0, inf)");
      /* log(e^y − 1) = y + log(1 − e^{−y}), accurate for small and large y */
      *z = y + log(-expm1(-y));
      return NCO_OK;
    case NCO_ACT_IDENTITY:
      break;
  }
  *z = y;
  return NCO_OK;
}
