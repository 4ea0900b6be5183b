/* The ℓ2 wrapper: f(x) + λ‖x‖² (Crane & Roosta §1–2: "f(x) + λ‖x‖²"),
 * and what both wrappers share: nco_reg_lambda and the argument checks and
 * final step of a wrap (reg/common.h).
 *
 * Parameters are the base's x[d] unchanged. The penalty λ‖x‖² is added once
 * per evaluation and never multiplied by the reduction factor c (reg.h):
 *     loss_S(x) = c·loss-terms of the base on S + λ‖x‖²,
 *     ∇ = ∇base_S + 2λx,   ∇²·v = ∇²base_S·v + 2λv.
 * For a least-squares base the wrapper stays least-squares: its residual is
 * [g_S(x); √(2λ)·x] (m_extra = base m_extra + d), so that under SUM
 * ½‖·‖² = ½‖g_S‖² + λ‖x‖² equals the loss above. The loss and gradient are
 * nevertheless computed by the wrapper's own eval (not the generic c·½‖r‖²),
 * which keeps the penalty unscaled under MEAN as reg.h promises.
 *
 * Reduction. The wrapper copies the base's reduction at wrap time; after
 * that the reduction is the wrapper's own property (nco_problem_set_reduction
 * on the wrapper). Base evaluations are made under the wrapper's reduction:
 * it is swapped into the base for the duration of the call and restored.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ncopt/problem.h"
#include "ncopt/reg.h"
#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "reg/common.h"

typedef struct l2_impl {
  double lambda; /* λ ≥ 0 */
  double s;      /* √(2λ): the coefficient of the extra residuals */
} l2_impl;

static void l2_destroy(void *impl) { free(impl); }

/* Runs a base call under the wrapper's reduction (restored afterwards). */
#define WITH_REDUCTION(pb, call)                        \
  do {                                                  \
    nco_reduction r0_ = (pb)->base->reduction;          \
    (pb)->base->reduction = (pb)->reduction;            \
    st = (call);                                        \
    (pb)->base->reduction = r0_;                        \
  } while (0)

/* loss = base loss + λ‖x‖², grad = base grad + 2λx (Crane & Roosta §1,
 * f(x) + λ‖x‖²; the penalty is not scaled by the reduction). */
static int l2_eval(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *loss,
                   float *grad) {
  const l2_impl *L = pb->impl;
  size_t d = pb->dim;
  int st;
  WITH_REDUCTION(pb, nco_problem_eval(pb->base, x, idx, nb, loss, grad));
  if (st) return st;
  double xx = 0;
  for (size_t j = 0; j < d; j++) xx += (double)x[j] * x[j];
  *loss += L->lambda * xx;
  if (grad)
    for (size_t j = 0; j < d; j++) grad[j] = (float)((double)grad[j] + 2.0 * L->lambda * x[j]);
  return NCO_OK;
}

/* ∇²(f + λ‖x‖²)·v = ∇²f·v + 2λv; set only when the base HVP is exact. */
static int l2_hvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v,
                  float *hv) {
  const l2_impl *L = pb->impl;
  int st;
  WITH_REDUCTION(pb, nco_problem_hvp(pb->base, x, idx, nb, v, hv));
  if (st) return st;
  for (size_t j = 0; j < pb->dim; j++) hv[j] = (float)((double)hv[j] + 2.0 * L->lambda * v[j]);
  return NCO_OK;
}

/* r = [g_S(x); √(2λ)·x]: ½‖r‖² = ½‖g_S‖² + λ‖x‖² (under SUM). */
static int l2_residual64(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                         double *r) {
  const l2_impl *L = pb->impl;
  size_t nrb = nco_problem_nres(pb->base, nb);
  int st = nco_problem_residual64(pb->base, x, idx, nb, r);
  if (st) return st;
  for (size_t j = 0; j < pb->dim; j++) r[nrb + j] = L->s * x[j];
  return NCO_OK;
}

/* J = [J_g; √(2λ)·I]: ju = [J_g u; √(2λ)·u]. */
static int l2_jvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *u,
                  float *ju) {
  const l2_impl *L = pb->impl;
  size_t nrb = nco_problem_nres(pb->base, nb);
  int st = nco_problem_jvp(pb->base, x, idx, nb, u, ju);
  if (st) return st;
  for (size_t j = 0; j < pb->dim; j++) ju[nrb + j] = (float)(L->s * u[j]);
  return NCO_OK;
}

/* Jᵀv = J_gᵀ v_g + √(2λ)·v_x, v = [v_g (nres of the base); v_x (d)]. */
static int l2_vjp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v,
                  float *jtv) {
  const l2_impl *L = pb->impl;
  size_t nrb = nco_problem_nres(pb->base, nb);
  int st = nco_problem_vjp(pb->base, x, idx, nb, v, jtv);
  if (st) return st;
  for (size_t j = 0; j < pb->dim; j++) jtv[j] = (float)((double)jtv[j] + L->s * v[nrb + j]);
  return NCO_OK;
}

/* Σ_i w_i ∇²r_i u: the extra residuals √(2λ)x_j are linear, so only the
 * base's residuals (the first nres_base weights) contribute. The base's
 * rhvp has no dispatcher; its arguments are already validated here. */
static int l2_rhvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *w,
                   const float *u, float *out) {
  return pb->base->type->rhvp(pb->base, x, idx, nb, w, u, out);
}

static int l2_init(nco_problem *pb, nco_rng *rng, float *x) { return nco_problem_init(pb->base, rng, x); }

static double l2_lambda(const nco_problem *pb) { return ((const l2_impl *)pb->impl)->lambda; }

/* One type per combination of base capabilities, so that a NULL slot keeps
 * meaning "not provided": LS slots only for a least-squares base, hvp only
 * when the base HVP is exact, rhvp only when the base has one. */
static const nco_problem_type l2_plain = {
    .name = "l2", .eval = l2_eval, .init = l2_init, .destroy = l2_destroy, .reg_lambda = l2_lambda};
static const nco_problem_type l2_plain_hvp = {
    .name = "l2", .eval = l2_eval, .hvp = l2_hvp, .init = l2_init, .destroy = l2_destroy, .reg_lambda = l2_lambda};
static const nco_problem_type l2_ls = {.name = "l2",
                                       .eval = l2_eval,
                                       .residual64 = l2_residual64,
                                       .jvp = l2_jvp,
                                       .vjp = l2_vjp,
                                       .init = l2_init,
                                       .destroy = l2_destroy, .reg_lambda = l2_lambda};
static const nco_problem_type l2_ls_hvp = {.name = "l2",
                                           .eval = l2_eval,
                                           .residual64 = l2_residual64,
                                           .jvp = l2_jvp,
                                           .vjp = l2_vjp,
                                           .hvp = l2_hvp,
                                           .init = l2_init,
                                           .destroy = l2_destroy, .reg_lambda = l2_lambda};
static const nco_problem_type l2_ls_rhvp = {.name = "l2",
                                            .eval = l2_eval,
                                            .residual64 = l2_residual64,
                                            .jvp = l2_jvp,
                                            .vjp = l2_vjp,
                                            .rhvp = l2_rhvp,
                                            .hvp = l2_hvp,
                                            .init = l2_init,
                                            .destroy = l2_destroy, .reg_lambda = l2_lambda};


int nco_l2_wrap(nco_problem *base, double lambda, int owns, nco_problem **out) {
  int st = NCO_OK;
  nco_problem *pb = NULL;
  l2_impl *L = NULL;
  if (out) *out = NULL;
  if (!base) return nco_error(NCO_ERR_INVALID, "l2: base problem is NULL");
  if ((st = nco_reg_check_wrap_("l2", base, lambda, 0, out))) goto fail;
  int ls = nco_problem_is_least_squares(base);
  int exact = nco_problem_has_exact_hvp(base);
  const nco_problem_type *t;
  if (!ls)
    t = exact ? &l2_plain_hvp : &l2_plain;
  else if (base->type->rhvp)
    t = &l2_ls_rhvp;
  else
    t = exact ? &l2_ls_hvp : &l2_ls;
  size_t m_extra = 0;
  if (ls && nco_add_size(base->m_extra, base->dim, &m_extra)) {
    st = nco_error(NCO_ERR_OVERFLOW, "l2: residual count overflows (base %s, m_extra %zu + d %zu)",
                   base->label, base->m_extra, base->dim);
    goto fail;
  }
  L = calloc(1, sizeof *L);
  if (!L) {
    st = nco_error(NCO_ERR_NOMEM, "l2: out of memory (base %s)", base->label);
    goto fail;
  }
  L->lambda = lambda;
  L->s = sqrt(2.0 * lambda);
  /* alloc takes L over (destroyed on failure) */
  st = nco_problem_alloc(t, L, base->dim, base->n, ls ? base->m : 0, m_extra, &pb);
  L = NULL;
  if (st) goto fail;
  nco_reg_attach_(pb, base, owns, "l2", lambda);
  pb->manifold = base->manifold; /* same parameters, same geometry */
  *out = pb;
  return NCO_OK;
fail:
  free(L);
  if (owns) nco_problem_free(base);
  return st;
}
