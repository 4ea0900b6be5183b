/* Finite-difference derivative checks in float64 (see check.h for the
 * acceptance rule). */
#include "ncopt/check.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/rng.h"
#include "ncopt/status.h"
#include "ncopt/vec.h"

nco_check_opts nco_check_defaults(void) {
  return (nco_check_opts){
      .h = 1e-4,
      .rtol = 1e-5,
      .atol = 1e-6,
      .f_eps = 1e-13,
      .max_coords = 64,
      .n_dirs = 4,
      .seed = 1,
      .verbose = 0,
  };
}

typedef struct {
  nco_check_report *rep;
  const nco_check_opts *o;
  const char *what;
} acc;

/* Records one comparison: analytic a, numeric n, allowed tolerance tol. */
static void compare(acc *A, double a, double n, double tol, const char *fmt, size_t k) {
  nco_check_report *r = A->rep;
  double err = fabs(a - n);
  int ok = err <= tol; /* NaN fails */
  r->n_checked++;
  if (!ok) r->n_failed++;
  if (!(err <= r->max_abs_err)) r->max_abs_err = err;
  if (fabs(n) > A->o->atol) {
    double rel = err / fabs(n);
    if (!(rel <= r->max_rel_err)) r->max_rel_err = rel;
  }
  double ratio = tol > 0 ? err / tol : (err > 0 ? INFINITY : 0);
  if (!(ratio <= r->worst_ratio)) {
    r->worst_ratio = ratio != ratio ? INFINITY : ratio;
    char where[96];
    snprintf(where, sizeof where, fmt, k);
    snprintf(r->worst, sizeof r->worst, "%s %s: analytic %.9g, numeric %.9g, |diff| %.3g > tol %.3g",
             A->what, where, a, n, err, tol);
    if (ok) {
      /* keep the text but mark it as within tolerance */
      char *gt = strstr(r->worst, " > tol");
      if (gt) gt[1] = '<', gt[2] = '=';
    }
  }
  if (!ok && A->o->verbose) {
    char where[96];
    snprintf(where, sizeof where, fmt, k);
    fprintf(stderr, "check %s %s: analytic %.9g numeric %.9g diff %.3g tol %.3g\n", A->what, where, a,
            n, err, tol);
  }
}

static int finish(nco_problem *pb, acc *A, nco_check_report *out) {
  if (out) *out = *A->rep;
  if (A->rep->n_failed)
    return nco_error(NCO_ERR_CHECK, "%s: %s check: %zu of %zu comparisons failed; worst: %s", pb->label,
                     A->what, A->rep->n_failed, A->rep->n_checked, A->rep->worst);
  return NCO_OK;
}

/* x± = fl(x ± h·u); returns δ = x₊ − x₋ exactly in double (into delta). */
static void perturb(size_t d, const float *x, const float *u, double h, float *xp, float *xm,
                    double *delta) {
  for (size_t j = 0; j < d; j++) {
    xp[j] = (float)(x[j] + h * u[j]);
    xm[j] = (float)(x[j] - h * u[j]);
    delta[j] = (double)xp[j] - (double)xm[j];
  }
}

static void random_unit(nco_rng *rng, float *u, size_t d) { nco_rng_sphere(rng, u, d); }

/* Coordinates to check: all if d ≤ max, else a seeded random subset. */
static size_t pick_coords(nco_rng *rng, size_t d, size_t max, size_t *coords) {
  if (d <= max) {
    for (size_t j = 0; j < d; j++) coords[j] = j;
    return d;
  }
  /* partial Fisher–Yates over 0..d-1 held implicitly is not needed: draw
   * without replacement by rejection (max ≪ d). */
  size_t k = 0;
  while (k < max) {
    size_t c = (size_t)nco_rng_below(rng, d), dup = 0;
    for (size_t i = 0; i < k; i++) dup |= coords[i] == c;
    if (!dup) coords[k++] = c;
  }
  return k;
}

int nco_check_gradient(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                       const nco_check_opts *opts, nco_check_report *rep_out) {
  nco_check_opts o = opts ? *opts : nco_check_defaults();
  nco_check_report rep = {0};
  acc A = {&rep, &o, "gradient"};
  size_t d = pb->dim;
  int st = NCO_OK;
  float *g = calloc(d, sizeof *g), *xp = calloc(d, sizeof *xp), *xm = calloc(d, sizeof *xm),
        *u = calloc(d, sizeof *u);
  double *delta = calloc(d, sizeof *delta);
  size_t *coords = calloc(o.max_coords ? o.max_coords : 1, sizeof *coords);
  if (!g || !xp || !xm || !u || !delta || !coords) {
    st = nco_error(NCO_ERR_NOMEM, "gradient check: out of memory");
    goto done;
  }
  nco_rng rng;
  nco_rng_seed(&rng, o.seed);
  double f0;
  if ((st = nco_problem_eval(pb, x, idx, nb, &f0, g))) goto done;
  double scale = nco_amax(d, g);
  if (scale < 1) scale = 1;
  double xinf = nco_amax(d, x);

  size_t nc = pick_coords(&rng, d, o.max_coords, coords);
  for (size_t c = 0; c < nc; c++) {
    size_t j = coords[c];
    double h = o.h * (fabs(x[j]) > 1 ? fabs(x[j]) : 1);
    memset(u, 0, d * sizeof *u);
    u[j] = 1;
    perturb(d, x, u, h, xp, xm, delta);
    double fp, fm;
    if ((st = nco_problem_eval(pb, xp, idx, nb, &fp, NULL))) goto done;
    if ((st = nco_problem_eval(pb, xm, idx, nb, &fm, NULL))) goto done;
    double num = (fp - fm) / delta[j];
    double noise = o.f_eps * (fabs(fp) + fabs(fm)) / fabs(delta[j]);
    compare(&A, g[j], num, o.atol * scale + o.rtol * fabs(num) + noise, "coordinate %zu", j);
  }
  for (size_t k = 0; k < o.n_dirs; k++) {
    random_unit(&rng, u, d);
    double h = o.h * (xinf > 1 ? xinf : 1);
    perturb(d, x, u, h, xp, xm, delta);
    double fp, fm, dn = 0, a = 0;
    if ((st = nco_problem_eval(pb, xp, idx, nb, &fp, NULL))) goto done;
    if ((st = nco_problem_eval(pb, xm, idx, nb, &fm, NULL))) goto done;
    for (size_t j = 0; j < d; j++) {
      dn += delta[j] * delta[j];
      a += (double)g[j] * delta[j];
    }
    dn = sqrt(dn);
    /* compare directional derivatives per unit length */
    double num = (fp - fm) / dn, an = a / dn;
    double noise = o.f_eps * (fabs(fp) + fabs(fm)) / dn;
    compare(&A, an, num, o.atol * scale + o.rtol * fabs(num) + noise, "direction %zu", k);
  }
  st = finish(pb, &A, rep_out);
done:
  free(g), free(xp), free(xm), free(u), free(delta), free(coords);
  return st;
}

int nco_check_jvp_vjp(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                      const nco_check_opts *opts, nco_check_report *rep_out) {
  nco_check_opts o = opts ? *opts : nco_check_defaults();
  nco_check_report rep = {0};
  acc A = {&rep, &o, "JVP"};
  size_t d = pb->dim;
  int st = NCO_OK;
  if (!nco_problem_is_least_squares(pb))
    return nco_error(NCO_ERR_UNSUPPORTED, "%s: JVP/VJP check needs a least-squares problem", pb->label);
  size_t nbe = idx ? nb : pb->n;
  size_t nr = nco_problem_nres(pb, nbe);
  float *xp = calloc(d, sizeof *xp), *xm = calloc(d, sizeof *xm), *u = calloc(d, sizeof *u),
        *us = calloc(d, sizeof *us), *ju = calloc(nr, sizeof *ju), *v = calloc(nr, sizeof *v),
        *jtv = calloc(d, sizeof *jtv);
  double *delta = calloc(d, sizeof *delta), *rp = calloc(nr, sizeof *rp), *rm = calloc(nr, sizeof *rm);
  if (!xp || !xm || !u || !us || !ju || !v || !jtv || !delta || !rp || !rm) {
    st = nco_error(NCO_ERR_NOMEM, "JVP check: out of memory");
    goto done;
  }
  nco_rng rng;
  nco_rng_seed(&rng, o.seed);
  double xinf = nco_amax(d, x);
  size_t ncomp = nr < o.max_coords ? nr : o.max_coords;
  for (size_t k = 0; k < o.n_dirs; k++) {
    random_unit(&rng, u, d);
    double h = o.h * (xinf > 1 ? xinf : 1);
    perturb(d, x, u, h, xp, xm, delta);
    /* J·(δ/2h): the direction actually taken, rounded once to float */
    for (size_t j = 0; j < d; j++) us[j] = (float)(delta[j] / (2 * h));
    if ((st = nco_problem_jvp(pb, x, idx, nb, us, ju))) goto done;
    if ((st = nco_problem_residual64(pb, xp, idx, nb, rp))) goto done;
    if ((st = nco_problem_residual64(pb, xm, idx, nb, rm))) goto done;
    double scale = nco_amax(nr, ju), rs = 0;
    for (size_t i = 0; i < nr; i++) rs = fmax(rs, fmax(fabs(rp[i]), fabs(rm[i])));
    if (scale < 1) scale = 1;
    /* compare a subset of components spread over the residual vector */
    for (size_t c = 0; c < ncomp; c++) {
      size_t i = ncomp == nr ? c : (size_t)nco_rng_below(&rng, nr);
      double num = (rp[i] - rm[i]) / (2 * h);
      double noise = o.f_eps * 2 * rs / (2 * h) + 4 * FLT_EPSILON * fabs((double)ju[i]);
      compare(&A, ju[i], num, o.atol * scale + o.rtol * fabs(num) + noise, "residual %zu", i);
    }
  }
  /* adjoint identity ⟨v, Ju⟩ = ⟨Jᵀv, u⟩ */
  A.what = "VJP (adjoint identity)";
  for (size_t k = 0; k < o.n_dirs; k++) {
    random_unit(&rng, u, d);
    nco_rng_normal_fill(&rng, v, nr, 0, 1);
    if ((st = nco_problem_jvp(pb, x, idx, nb, u, ju))) goto done;
    if ((st = nco_problem_vjp(pb, x, idx, nb, v, jtv))) goto done;
    double lhs = nco_dot(nr, v, ju), rhs = nco_dot(d, jtv, u);
    double mag = nco_nrm2(nr, v) * nco_nrm2(nr, ju) + nco_nrm2(d, jtv) * nco_nrm2(d, u);
    /* float32 outputs: each entry carries ≤ ~4 ulp of rounding */
    double tol = (o.rtol + 8 * FLT_EPSILON) * mag + o.atol;
    compare(&A, rhs, lhs, tol, "pair %zu", k);
  }
  A.what = "JVP/VJP";
  st = finish(pb, &A, rep_out);
done:
  free(xp), free(xm), free(u), free(us), free(ju), free(v), free(jtv), free(delta), free(rp), free(rm);
  return st;
}

int nco_check_hvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                  const nco_check_opts *opts, nco_check_report *rep_out) {
  nco_check_opts o = opts ? *opts : nco_check_defaults();
  nco_check_report rep = {0};
  acc A = {&rep, &o, "HVP"};
  size_t d = pb->dim;
  int st = NCO_OK;
  float *xp = calloc(d, sizeof *xp), *xm = calloc(d, sizeof *xm), *u = calloc(d, sizeof *u),
        *us = calloc(d, sizeof *us), *gp = calloc(d, sizeof *gp), *gm = calloc(d, sizeof *gm),
        *hv = calloc(d, sizeof *hv), *hu = calloc(d, sizeof *hu), *w = calloc(d, sizeof *w);
  double *delta = calloc(d, sizeof *delta);
  size_t *coords = calloc(o.max_coords ? o.max_coords : 1, sizeof *coords);
  if (!xp || !xm || !u || !us || !gp || !gm || !hv || !hu || !w || !delta || !coords) {
    st = nco_error(NCO_ERR_NOMEM, "HVP check: out of memory");
    goto done;
  }
  nco_rng rng;
  nco_rng_seed(&rng, o.seed);
  double xinf = nco_amax(d, x);
  for (size_t k = 0; k < o.n_dirs; k++) {
    random_unit(&rng, u, d);
    /* a larger step than for gradients: the numerator is a difference of
     * float32 gradients, whose rounding (4ε‖g‖/h) dominates otherwise */
    double h = sqrt(o.h) * 0.1 * (xinf > 1 ? xinf : 1);
    perturb(d, x, u, h, xp, xm, delta);
    for (size_t j = 0; j < d; j++) us[j] = (float)(delta[j] / (2 * h));
    double fp, fm;
    if ((st = nco_problem_hvp(pb, x, idx, nb, us, hv))) goto done;
    if ((st = nco_problem_eval(pb, xp, idx, nb, &fp, gp))) goto done;
    if ((st = nco_problem_eval(pb, xm, idx, nb, &fm, gm))) goto done;
    double scale = nco_amax(d, hv), gs = fmax(nco_amax(d, gp), nco_amax(d, gm));
    if (scale < 1) scale = 1;
    size_t nc = pick_coords(&rng, d, o.max_coords, coords);
    for (size_t c = 0; c < nc; c++) {
      size_t j = coords[c];
      double num = ((double)gp[j] - gm[j]) / (2 * h);
      double noise = 4 * FLT_EPSILON * gs / (2 * h) + 4 * FLT_EPSILON * fabs((double)hv[j]);
      /* truncation of the central difference is O(h²·‖∇³f‖): allowed via
       * rtol scaled by the step, documented in check.h */
      compare(&A, hv[j], num, o.atol * scale + (o.rtol + h * h) * fabs(num) + noise, "coordinate %zu", j);
    }
  }
  A.what = "HVP (symmetry)";
  for (size_t k = 0; k < o.n_dirs; k++) {
    random_unit(&rng, u, d);
    random_unit(&rng, w, d);
    if ((st = nco_problem_hvp(pb, x, idx, nb, u, hu))) goto done;
    if ((st = nco_problem_hvp(pb, x, idx, nb, w, hv))) goto done;
    double lhs = nco_dot(d, w, hu), rhs = nco_dot(d, u, hv);
    double mag = nco_nrm2(d, hu) + nco_nrm2(d, hv);
    compare(&A, lhs, rhs, (o.rtol + 8 * FLT_EPSILON) * mag + o.atol, "pair %zu", k);
  }
  A.what = "HVP";
  st = finish(pb, &A, rep_out);
done:
  free(xp), free(xm), free(u), free(us), free(gp), free(gm), free(hv), free(hu), free(w), free(delta),
      free(coords);
  return st;
}
