/* The problem interface: validation, dispatch, counters and the generic
 * pieces (least-squares loss, HVP fallbacks, sphere geometry). */
#include "ncopt/problem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/status.h"
#include "ncopt/vec.h"

int nco_problem_alloc(const nco_problem_type *type, void *impl, size_t dim, size_t n, size_t m,
                      size_t m_extra, nco_problem **out) {
  nco_problem *pb = NULL;
  int st = NCO_OK;
  size_t nres = 0, w4 = 0;
  *out = NULL;
  if (!type || !type->name) {
    st = nco_error(NCO_ERR_INVALID, "problem: no type");
    goto fail;
  }
  if (dim == 0 || n == 0) {
    st = nco_error(NCO_ERR_SHAPE, "%s: needs at least one parameter and one sample (dim=%zu, n=%zu)",
                   type->name, dim, n);
    goto fail;
  }
  int is_ls = type->jvp && type->vjp && (type->residual || type->residual64);
  if (!is_ls && !type->eval) {
    st = nco_error(NCO_ERR_INVALID, "%s: type has neither eval nor a residual interface", type->name);
    goto fail;
  }
  if (nco_mul_size(n, m, &nres) || nco_add_size(nres, m_extra, &nres) || nco_mul_size(dim, 4, &w4)) {
    st = nco_error(NCO_ERR_OVERFLOW, "%s: sizes overflow (n=%zu, m=%zu, dim=%zu)", type->name, n, m, dim);
    goto fail;
  }
  pb = calloc(1, sizeof *pb);
  if (!pb) goto nomem;
  pb->type = type;
  pb->impl = impl;
  pb->dim = dim;
  pb->n = n;
  pb->m = is_ls ? m : 0;
  pb->m_extra = is_ls ? m_extra : 0;
  pb->reduction = NCO_REDUCE_SUM;
  pb->manifold = NCO_MANIFOLD_EUCLIDEAN;
  snprintf(pb->label, sizeof pb->label, "%s", type->name);
  pb->all_idx = nco_calloc(n, sizeof *pb->all_idx);
  pb->work = nco_calloc(w4, sizeof *pb->work);
  if (!pb->all_idx || !pb->work) goto nomem;
  for (size_t i = 0; i < n; i++) pb->all_idx[i] = i;
  if (is_ls) {
    pb->res64 = nco_calloc(nres ? nres : 1, sizeof *pb->res64);
    pb->res32 = nco_calloc(nres ? nres : 1, sizeof *pb->res32);
    if (!pb->res64 || !pb->res32) goto nomem;
  }
  *out = pb;
  return NCO_OK;
nomem:
  st = nco_error(NCO_ERR_NOMEM, "%s: out of memory allocating a problem (dim=%zu, n=%zu)",
                 type ? type->name : "problem", dim, n);
fail:
  if (pb) {
    free(pb->all_idx);
    free(pb->work);
    free(pb->res64);
    free(pb->res32);
    free(pb);
  }
  if (type && type->destroy && impl) type->destroy(impl);
  return st;
}

void nco_problem_free(nco_problem *pb) {
  if (!pb) return;
  if (pb->type && pb->type->destroy && pb->impl) pb->type->destroy(pb->impl);
  if (pb->owns_base) nco_problem_free(pb->base);
  free(pb->all_idx);
  free(pb->work);
  free(pb->res64);
  free(pb->res32);
  free(pb);
}

int nco_problem_is_least_squares(const nco_problem *pb) {
  const nco_problem_type *t = pb->type;
  return t->jvp && t->vjp && (t->residual || t->residual64);
}

size_t nco_problem_nres(const nco_problem *pb, size_t nb) { return nb * pb->m + pb->m_extra; }

/* The reduction applies down the wrapper chain, so that loss_unreg reports
 * the base under the same reduction as the wrapper. */
void nco_problem_set_reduction(nco_problem *pb, nco_reduction r) {
  for (; pb; pb = pb->base) pb->reduction = r;
}

nco_problem *nco_problem_root(nco_problem *pb) {
  while (pb->base) pb = pb->base;
  return pb;
}

int nco_problem_set_step(nco_problem *pb, uint64_t step) {
  nco_problem *root = nco_problem_root(pb);
  return root->type->set_step ? root->type->set_step(root, step) : NCO_OK;
}

int nco_problem_param_groups(const nco_problem *pb, nco_param_group *g, size_t cap, size_t *count) {
  while (pb->base) pb = pb->base;
  *count = 0;
  return pb->type->param_groups ? pb->type->param_groups(pb, g, cap, count) : NCO_OK;
}

static const nco_problem *innermost(const nco_problem *pb) {
  while (pb->base) pb = pb->base;
  return pb;
}

size_t nco_problem_state_size(const nco_problem *pb) {
  const nco_problem *r = innermost(pb);
  return r->type->state_size ? r->type->state_size(r) : 0;
}

int nco_problem_get_state(const nco_problem *pb, float *out, size_t n, uint64_t *stamp) {
  const nco_problem *r = innermost(pb);
  size_t want = nco_problem_state_size(pb);
  if (stamp) *stamp = 0;
  if (n != want) return nco_error(NCO_ERR_SHAPE, "%s: its state has %zu entries, not %zu", r->label, want, n);
  return want ? r->type->get_state(r, out, n, stamp) : NCO_OK;
}

int nco_problem_set_state(nco_problem *pb, const float *in, size_t n, uint64_t stamp) {
  nco_problem *r = nco_problem_root(pb);
  size_t want = nco_problem_state_size(pb);
  if (n != want) return nco_error(NCO_ERR_SHAPE, "%s: its state has %zu entries, not %zu", r->label, want, n);
  return want ? r->type->set_state(r, in, n, stamp) : NCO_OK;
}

int nco_problem_set_training(nco_problem *pb, int on) {
  nco_problem *r = nco_problem_root(pb);
  return r->type->set_training ? r->type->set_training(r, on) : NCO_OK;
}

double nco_problem_scale(const nco_problem *pb, size_t nb) {
  return pb->reduction == NCO_REDUCE_MEAN ? 1.0 / (double)nb : 1.0;
}

/* Validates (x, idx, nb) and expands idx == NULL into the full batch. */
static int batch(nco_problem *pb, const char *what, const float *x, const size_t **idx, size_t *nb) {
  if (!x) return nco_error(NCO_ERR_INVALID, "%s: %s: parameters are NULL", pb->label, what);
  if (!*idx) {
    if (*nb != pb->n && *nb != 0)
      return nco_error(NCO_ERR_INVALID, "%s: %s: full batch (idx = NULL) needs nb = n = %zu, got %zu",
                       pb->label, what, pb->n, *nb);
    *idx = pb->all_idx;
    *nb = pb->n;
    return NCO_OK;
  }
  if (*nb == 0 || *nb > pb->n)
    return nco_error(NCO_ERR_INVALID, "%s: %s: batch size %zu not in [1, n = %zu]", pb->label, what,
                     *nb, pb->n);
  for (size_t i = 0; i < *nb; i++)
    if ((*idx)[i] >= pb->n)
      return nco_error(NCO_ERR_RANGE, "%s: %s: sample index %zu at batch position %zu is out of range (n = %zu)",
                       pb->label, what, (*idx)[i], i, pb->n);
  return NCO_OK;
}

static int need_ls(const nco_problem *pb, const char *what) {
  if (nco_problem_is_least_squares(pb)) return NCO_OK;
  return nco_error(NCO_ERR_UNSUPPORTED, "%s: %s needs a least-squares problem (residual, JVP, VJP)",
                   pb->label, what);
}

int nco_problem_residual64(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *r) {
  int st;
  if ((st = need_ls(pb, "residual")) || (st = batch(pb, "residual", x, &idx, &nb))) return st;
  if (!r) return nco_error(NCO_ERR_INVALID, "%s: residual: output is NULL", pb->label);
  pb->counters.residual++;
  pb->counters.samples += nb;
  if (pb->type->residual64) return pb->type->residual64(pb, x, idx, nb, r);
  size_t nr = nco_problem_nres(pb, nb);
  if ((st = pb->type->residual(pb, x, idx, nb, pb->res32))) return st;
  for (size_t i = 0; i < nr; i++) r[i] = pb->res32[i];
  return NCO_OK;
}

int nco_problem_residual(nco_problem *pb, const float *x, const size_t *idx, size_t nb, float *r) {
  int st;
  if ((st = need_ls(pb, "residual")) || (st = batch(pb, "residual", x, &idx, &nb))) return st;
  if (!r) return nco_error(NCO_ERR_INVALID, "%s: residual: output is NULL", pb->label);
  pb->counters.residual++;
  pb->counters.samples += nb;
  if (pb->type->residual) return pb->type->residual(pb, x, idx, nb, r);
  size_t nr = nco_problem_nres(pb, nb);
  if ((st = pb->type->residual64(pb, x, idx, nb, pb->res64))) return st;
  for (size_t i = 0; i < nr; i++) r[i] = (float)pb->res64[i];
  return NCO_OK;
}

int nco_problem_jvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *u,
                    float *ju) {
  int st;
  if ((st = need_ls(pb, "JVP")) || (st = batch(pb, "JVP", x, &idx, &nb))) return st;
  if (!u || !ju) return nco_error(NCO_ERR_INVALID, "%s: JVP: vector is NULL", pb->label);
  pb->counters.jvp++;
  return pb->type->jvp(pb, x, idx, nb, u, ju);
}

int nco_problem_vjp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v,
                    float *jtv) {
  int st;
  if ((st = need_ls(pb, "VJP")) || (st = batch(pb, "VJP", x, &idx, &nb))) return st;
  if (!v || !jtv) return nco_error(NCO_ERR_INVALID, "%s: VJP: vector is NULL", pb->label);
  pb->counters.vjp++;
  return pb->type->vjp(pb, x, idx, nb, v, jtv);
}

/* loss = c·½‖r‖² with r in double; grad = c·Jᵀr (Crane & Roosta eq. 1). */
static int ls_eval(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *loss,
                   float *grad) {
  const nco_problem_type *t = pb->type;
  size_t nr = nco_problem_nres(pb, nb);
  double c = nco_problem_scale(pb, nb), s = 0;
  int st;
  if (t->residual64) {
    if ((st = t->residual64(pb, x, idx, nb, pb->res64))) return st;
    for (size_t i = 0; i < nr; i++) {
      s += pb->res64[i] * pb->res64[i];
      pb->res32[i] = (float)pb->res64[i];
    }
  } else {
    if ((st = t->residual(pb, x, idx, nb, pb->res32))) return st;
    for (size_t i = 0; i < nr; i++) s += (double)pb->res32[i] * pb->res32[i];
  }
  *loss = 0.5 * c * s;
  if (!grad) return NCO_OK;
  if ((st = t->vjp(pb, x, idx, nb, pb->res32, grad))) return st;
  if (c != 1.0) nco_scal(pb->dim, (float)c, grad);
  return NCO_OK;
}

/* The type's own eval, or the generic least-squares one (no dispatcher
 * checks or counters). */
static int eval_raw(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *loss,
                    float *grad) {
  return pb->type->eval ? pb->type->eval(pb, x, idx, nb, loss, grad) : ls_eval(pb, x, idx, nb, loss, grad);
}

int nco_problem_eval(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *loss,
                     float *grad) {
  int st;
  if ((st = batch(pb, "loss", x, &idx, &nb))) return st;
  if (!loss) return nco_error(NCO_ERR_INVALID, "%s: loss: output is NULL", pb->label);
  if (grad)
    pb->counters.grad++;
  else
    pb->counters.loss++;
  pb->counters.samples += nb;
  if ((st = eval_raw(pb, x, idx, nb, loss, grad))) return st;
  if (!isfinite(*loss))
    return nco_error(NCO_ERR_NONFINITE, "%s: loss is %g", pb->label, *loss);
  if (grad) {
    size_t k = nco_first_nonfinite(pb->dim, grad);
    if (k < pb->dim)
      return nco_error(NCO_ERR_NONFINITE, "%s: gradient entry %zu is %g", pb->label, k, grad[k]);
  }
  return NCO_OK;
}

int nco_problem_has_exact_hvp(const nco_problem *pb) {
  return pb->type->hvp || (nco_problem_is_least_squares(pb) && pb->type->rhvp);
}

int nco_problem_hvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v,
                    float *hv) {
  int st;
  const nco_problem_type *t = pb->type;
  size_t d = pb->dim;
  if ((st = batch(pb, "Hessian-vector product", x, &idx, &nb))) return st;
  if (!v || !hv) return nco_error(NCO_ERR_INVALID, "%s: HVP: vector is NULL", pb->label);
  pb->counters.hvp++;
  if (t->hvp) return t->hvp(pb, x, idx, nb, v, hv);
  if (nco_problem_is_least_squares(pb) && t->rhvp) {
    /* Exact least-squares Hessian: ∇²(½‖g‖²) = JᵀJ + Σ_i r_i ∇²g_i. */
    size_t nr = nco_problem_nres(pb, nb);
    float *ju = pb->res32; /* reused: residuals are recomputed below */
    double c = nco_problem_scale(pb, nb);
    float *tmp = pb->work;
    if ((st = t->jvp(pb, x, idx, nb, v, ju))) return st;
    if ((st = t->vjp(pb, x, idx, nb, ju, hv))) return st;
    if (t->residual64) {
      if ((st = t->residual64(pb, x, idx, nb, pb->res64))) return st;
      for (size_t i = 0; i < nr; i++) pb->res32[i] = (float)pb->res64[i];
    } else if ((st = t->residual(pb, x, idx, nb, pb->res32))) {
      return st;
    }
    if ((st = t->rhvp(pb, x, idx, nb, pb->res32, v, tmp))) return st;
    for (size_t j = 0; j < d; j++) hv[j] = (float)(c * ((double)hv[j] + tmp[j]));
    return NCO_OK;
  }
  /* Central differences of gradients (accurate to ~1e-3 relative in
   * float32): hv ≈ (∇f(x+εv) − ∇f(x−εv)) / (2ε) with the actual rounded
   * step; ε chosen so that ε‖v‖ ≈ 2⁻¹⁰·max(1, ‖x‖_∞). */
  double vn = nco_amax(d, v);
  if (vn == 0) {
    nco_fill(d, 0, hv);
    return NCO_OK;
  }
  double xs = nco_amax(d, x);
  double eps = ldexp(1.0, -10) * (xs > 1 ? xs : 1) / vn;
  float *xp = pb->work, *gp = pb->work + d, *gm = pb->work + 2 * d;
  double lp, lm;
  for (size_t j = 0; j < d; j++) xp[j] = (float)(x[j] + eps * v[j]);
  if ((st = eval_raw(pb, xp, idx, nb, &lp, gp))) return st;
  for (size_t j = 0; j < d; j++) xp[j] = (float)(x[j] - eps * v[j]);
  if ((st = eval_raw(pb, xp, idx, nb, &lm, gm))) return st;
  for (size_t j = 0; j < d; j++) hv[j] = (float)(((double)gp[j] - gm[j]) / (2 * eps));
  return NCO_OK;
}

int nco_problem_loss_unreg(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                           double *loss) {
  nco_problem *root = nco_problem_root(pb);
  if (root != pb && !idx && nb == pb->n) nb = root->n;
  return nco_problem_eval(root, x, idx, nb, loss, NULL);
}

int nco_problem_init(nco_problem *pb, nco_rng *rng, float *x) {
  int st = NCO_OK;
  if (!rng || !x) return nco_error(NCO_ERR_INVALID, "%s: init: NULL argument", pb->label);
  if (pb->type->init) {
    st = pb->type->init(pb, rng, x);
  } else {
    nco_rng_normal_fill(rng, x, pb->dim, 0.0, 1.0 / sqrt((double)pb->dim));
  }
  if (st) return st;
  if (pb->manifold == NCO_MANIFOLD_SPHERE) {
    double nx = nco_nrm2(pb->dim, x);
    if (!(nx > 0)) {
      nco_rng_sphere(rng, x, pb->dim);
    } else {
      nco_scal(pb->dim, (float)(1.0 / nx), x);
    }
  }
  return NCO_OK;
}

void nco_problem_project_tangent(const nco_problem *pb, const float *x, float *v) {
  if (pb->manifold != NCO_MANIFOLD_SPHERE) return;
  /* P_x v = (I − xxᵀ/‖x‖²) v (Ma §5, eq. 5.4, for unit x). */
  double xx = nco_dot(pb->dim, x, x);
  if (!(xx > 0)) return;
  double a = nco_dot(pb->dim, x, v) / xx;
  for (size_t j = 0; j < pb->dim; j++) v[j] = (float)(v[j] - a * x[j]);
}

int nco_problem_retract(const nco_problem *pb, float *x, float t, const float *v) {
  size_t d = pb->dim;
  if (pb->manifold != NCO_MANIFOLD_SPHERE) {
    for (size_t j = 0; j < d; j++)
      if (!isfinite((float)((double)x[j] + (double)t * v[j])))
        return nco_error(NCO_ERR_NONFINITE, "%s: retraction: x + t·v is not finite at entry %zu", pb->label, j);
    nco_axpy(d, t, v, x);
    return NCO_OK;
  }
  /* Retraction by normalisation: R_x(tv) = (x + tv)/‖x + tv‖. */
  double s = 0;
  for (size_t j = 0; j < d; j++) {
    double y = (double)x[j] + (double)t * v[j];
    s += y * y;
  }
  if (!isfinite(s)) return nco_error(NCO_ERR_NONFINITE, "%s: retraction: x + t·v is not finite", pb->label);
  if (!(s > 0)) return nco_error(NCO_ERR_NUMERIC, "%s: retraction: x + t·v = 0 has no direction", pb->label);
  double inv = 1 / sqrt(s);
  for (size_t j = 0; j < d; j++) x[j] = (float)(((double)x[j] + (double)t * v[j]) * inv);
  return NCO_OK;
}

int nco_problem_riemannian_grad(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                                double *loss, float *rgrad) {
  if (!rgrad) return nco_error(NCO_ERR_INVALID, "%s: Riemannian gradient: output is NULL", pb->label);
  int st = nco_problem_eval(pb, x, idx, nb, loss, rgrad);
  if (st) return st;
  nco_problem_project_tangent(pb, x, rgrad);
  return NCO_OK;
}

int nco_problem_riemannian_hvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                               const float *v, float *hv) {
  size_t d = pb->dim;
  if (pb->manifold != NCO_MANIFOLD_SPHERE) return nco_problem_hvp(pb, x, idx, nb, v, hv);
  /* Ma eq. (5.5): Hess f(x)[v] = P_x ∇²f(x) P_x v − ⟨x, ∇f(x)⟩ P_x v.
   * work[3d..4d) holds P_x v; the Euclidean gradient goes to hv first. */
  float *pv = pb->work + 3 * d;
  double loss;
  int st;
  if (!x || !v || !hv) return nco_error(NCO_ERR_INVALID, "%s: Riemannian HVP: NULL argument", pb->label);
  nco_copy(d, v, pv);
  nco_problem_project_tangent(pb, x, pv);
  if ((st = nco_problem_eval(pb, x, idx, nb, &loss, hv))) return st;
  double xg = nco_dot(d, x, hv);
  /* hvp may use work[0..3d) for its fallback; pv stays intact. */
  if ((st = nco_problem_hvp(pb, x, idx, nb, pv, hv))) return st;
  for (size_t j = 0; j < d; j++) hv[j] = (float)(hv[j] - xg * pv[j]);
  nco_problem_project_tangent(pb, x, hv);
  return NCO_OK;
}
