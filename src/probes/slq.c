/* Spectral density by stochastic Lanczos quadrature (diag.h §3):
 * Ubaru, Chen & Saad (2017), as in PyHessian's density (Yao et al. 2020). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/diag.h"
#include "ncopt/rng.h"
#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "probes/internal.h"

nco_slq_opts nco_slq_defaults(void) {
  return (nco_slq_opts){.n_probes = 10, .n_iter = 80, .n_grid = 1000, .sigma = 0, .grid_lo = 0, .grid_hi = 0, .seed = 1};
}

void nco_slq_free(nco_slq_result *r) {
  if (!r) return;
  free(r->n_nodes), free(r->nodes), free(r->weights), free(r->grid), free(r->density);
  memset(r, 0, sizeof *r);
}

static int slq_run(size_t n, size_t cap, nco_linop A, void *ctx, nco_lz_proj proj, void *pctx, const nco_slq_opts *in,
                   nco_slq_result *out) {
  const char *who = "spectral density (SLQ)";
  if (!out) return nco_error(NCO_ERR_INVALID, "%s: NULL result", who);
  memset(out, 0, sizeof *out);
  nco_slq_opts o = in ? *in : nco_slq_defaults();
  if (!A || n == 0 || cap == 0) return nco_error(NCO_ERR_INVALID, "%s: needs an operator and n ≥ 1", who);
  if (o.n_probes == 0 || o.n_iter == 0 || o.n_grid < 2)
    return nco_error(NCO_ERR_RANGE, "%s: n_probes = %zu, n_iter = %zu must be ≥ 1 and n_grid = %zu ≥ 2", who, o.n_probes,
                     o.n_iter, o.n_grid);
  if (isnan(o.sigma) || !isfinite(o.grid_lo) || !isfinite(o.grid_hi) || o.grid_lo > o.grid_hi)
    return nco_error(NCO_ERR_RANGE, "%s: sigma = %g, grid [%g, %g] invalid", who, o.sigma, o.grid_lo, o.grid_hi);
  size_t M = o.n_iter < cap ? o.n_iter : cap, pm;
  if (nco_mul_size(o.n_probes, M, &pm)) return nco_error(NCO_ERR_OVERFLOW, "%s: n_probes·n_iter overflows", who);
  out->n_probes = o.n_probes, out->n_iter = M, out->n_grid = o.n_grid;
  out->n_nodes = nco_calloc(o.n_probes, sizeof *out->n_nodes);
  out->nodes = nco_calloc(pm, sizeof *out->nodes);
  out->weights = nco_calloc(pm, sizeof *out->weights);
  out->grid = nco_calloc(o.n_grid, sizeof *out->grid);
  out->density = nco_calloc(o.n_grid, sizeof *out->density);
  double *start = nco_calloc(n, sizeof *start), *th = nco_calloc(M, sizeof *th), *res = nco_calloc(M, sizeof *res),
         *fst = nco_calloc(M, sizeof *fst);
  int st = NCO_OK;
  if (!out->n_nodes || !out->nodes || !out->weights || !out->grid || !out->density || !start || !th || !res || !fst) {
    st = nco_error(NCO_ERR_NOMEM, "%s: out of memory (n = %zu, n_iter = %zu)", who, n, M);
    goto done;
  }
  nco_rng rng;
  nco_rng_seed(&rng, o.seed);
  double lmin = INFINITY, lmax = -INFINITY;
  for (size_t p = 0; p < o.n_probes; p++) {
    /* Rademacher probe (Hutchinson); nco_lz_run normalises it */
    for (size_t i = 0; i < n; i++) start[i] = (nco_rng_u64(&rng) >> 63) ? 1.0 : -1.0;
    nco_lz_args a = {.n = n, .op = A, .ctx = ctx, .proj = proj, .pctx = pctx, .start = start, .rng = &rng,
                     .max_iter = M, .reorth = 1, .breakdown = 16 * FLT_EPSILON, .extremes = 0};
    nco_lz_out lo = {.theta = th, .res = res, .first = fst};
    if ((st = nco_lz_run(&a, &lo))) {
      nco_error_context(st, "%s: probe %zu", who, p);
      goto done;
    }
    out->matvecs += lo.info.matvecs;
    out->n_nodes[p] = lo.m;
    /* Gauss quadrature (Golub & Meurant): nodes θ_j, weights S_1j² */
    for (size_t j = 0; j < lo.m; j++) {
      out->nodes[p * M + j] = th[j];
      out->weights[p * M + j] = fst[j] * fst[j];
      lmin = fmin(lmin, th[j]), lmax = fmax(lmax, th[j]);
    }
  }
  out->lam_min = lmin, out->lam_max = lmax;
  double range = lmax - lmin;
  double sigma = o.sigma;
  if (!(sigma > 0)) {
    sigma = 0.01 * range;
    if (!(sigma > 0)) sigma = 0.01 * fmax(fabs(lmin), fabs(lmax));
    if (!(sigma > 0)) sigma = 1;
  }
  out->sigma = sigma;
  double glo = o.grid_lo, ghi = o.grid_hi;
  if (glo == ghi) {
    double pad = fmax(3 * sigma, 0.01 * range);
    glo = lmin - pad, ghi = lmax + pad;
  }
  const double c = 1 / (sigma * sqrt(2 * 3.14159265358979323846)) / (double)o.n_probes;
  for (size_t g = 0; g < o.n_grid; g++) {
    double t = glo + (ghi - glo) * (double)g / (double)(o.n_grid - 1), s = 0;
    for (size_t p = 0; p < o.n_probes; p++)
      for (size_t j = 0; j < out->n_nodes[p]; j++) {
        double z = (t - out->nodes[p * M + j]) / sigma;
        if (z * z < 1400) s += out->weights[p * M + j] * exp(-0.5 * z * z);
      }
    out->grid[g] = t;
    out->density[g] = c * s;
  }
done:
  free(start), free(th), free(res), free(fst);
  if (st) nco_slq_free(out);
  return st;
}

int nco_slq(size_t n, nco_linop A, void *ctx, const nco_slq_opts *opts, nco_slq_result *out) {
  return slq_run(n, n, A, ctx, NULL, NULL, opts, out);
}

int nco_hessian_density(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const nco_slq_opts *opts,
                        nco_slq_result *out) {
  if (!pb || !x || !out) return nco_error(NCO_ERR_INVALID, "Hessian density: NULL argument");
  memset(out, 0, sizeof *out);
  if (!idx && nb != pb->n)
    return nco_error(NCO_ERR_INVALID, "%s: Hessian density: full batch (idx NULL) needs nb = n = %zu, got %zu", pb->label,
                     pb->n, nb);
  size_t d = pb->dim;
  nco_lz_hess h = {pb, x, idx, nb, NULL, pb->manifold == NCO_MANIFOLD_SPHERE, 0, 0};
  int st;
  if (!h.riemannian) {
    st = slq_run(d, d, nco_lz_hess_op, &h, NULL, NULL, opts, out);
  } else {
    if (d < 2) return nco_error(NCO_ERR_RANGE, "%s: Hessian density: the sphere S^0 has no tangent space", pb->label);
    h.xx = nco_dot(d, x, x);
    if (!(h.xx > 0)) return nco_error(NCO_ERR_INVALID, "%s: Hessian density: x = 0 is not on the sphere", pb->label);
    h.tmp = nco_calloc(d, sizeof *h.tmp);
    if (!h.tmp) return nco_error(NCO_ERR_NOMEM, "%s: Hessian density: out of memory", pb->label);
    double loss;
    st = nco_problem_eval(pb, x, idx, nb, &loss, h.tmp);
    if (!st) {
      h.xg = nco_dot(d, x, h.tmp);
      st = slq_run(d, d - 1, nco_lz_hess_op, &h, nco_lz_hess_proj, &h, opts, out);
    }
    free(h.tmp);
  }
  if (st) return nco_error_context(st, "%s", pb->label);
  return NCO_OK;
}
