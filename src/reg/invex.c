/* The invex lifting (Crane & Roosta, eq. 2):
 *     f̂(x, p) = ½‖g(x) + λp‖²,   (x, p) ∈ R^{d+N}, λ > 0,
 * one auxiliary p_i per residual of the least-squares base g (N = n·m +
 * m_extra). Its Jacobian [J_g(x)  λI] has full row rank for every λ > 0,
 * which makes f̂ invex and PL with constant λ² (Theorem 2).
 *
 * Layout. Parameters z = [x (d); p (N)]; residual i of sample s owns
 * p[s·m + i] (z[d + s·m + i]); the base's extras (not tied to a sample) own
 * the last m_extra entries and are in every batch. On a minibatch S only
 * p_S enters the residual and receives gradient; an index repeated in S
 * receives the sum of its contributions.
 *
 * The wrapper is least-squares with eval NULL: the dispatcher derives
 * loss = c·½‖r‖² and gradient c·Jᵀr from residual64 and vjp (reduction c
 * is the wrapper's own, copied from the base at wrap time). Residual, JVP,
 * VJP and rhvp are never scaled, so the base's reduction plays no role.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/problem.h"
#include "ncopt/reg.h"
#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "reg/common.h"

typedef struct invex_impl {
  double lambda; /* λ > 0 */
  size_t d;      /* parameters of the base (the x block) */
  size_t N;      /* auxiliary variables: n·m + m_extra of the base */
  double *acc;   /* [N] VJP accumulator for repeated batch indices */
} invex_impl;

static void invex_destroy(void *impl) {
  invex_impl *I = impl;
  if (!I) return;
  free(I->acc);
  free(I);
}

/* Offset in p of batch residual k (0 ≤ k < nb·m + m_extra). */
static size_t p_pos(const nco_problem *pb, const size_t *idx, size_t nb, size_t k) {
  size_t m = pb->m;
  if (k < nb * m) return idx[k / m] * m + k % m;
  return pb->n * m + (k - nb * m);
}

/* Crane & Roosta eq. (2): r̂_S = g_S(x) + λ p_S, in double. */
static int invex_residual64(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                            double *r) {
  const invex_impl *I = pb->impl;
  const float *p = x + I->d;
  size_t nr = nco_problem_nres(pb, nb);
  int st = nco_problem_residual64(pb->base, x, idx, nb, r);
  if (st) return st;
  for (size_t k = 0; k < nr; k++) r[k] += I->lambda * p[p_pos(pb, idx, nb, k)];
  return NCO_OK;
}

/* Jacobian [J_g(x)  λI_S] (eq. 2 and below): ju = J_g u_x + λ u_{p,S}. */
static int invex_jvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *u,
                     float *ju) {
  const invex_impl *I = pb->impl;
  const float *up = u + I->d;
  size_t nr = nco_problem_nres(pb, nb);
  int st = nco_problem_jvp(pb->base, x, idx, nb, u, ju);
  if (st) return st;
  for (size_t k = 0; k < nr; k++)
    ju[k] = (float)((double)ju[k] + I->lambda * up[p_pos(pb, idx, nb, k)]);
  return NCO_OK;
}

/* [J_g  λI_S]ᵀ v = [J_gᵀ v; λ v scattered onto p_S] (repeated indices
 * accumulate, in double), zero on the p entries outside the batch. */
static int invex_vjp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v,
                     float *jtv) {
  invex_impl *I = pb->impl;
  float *gp = jtv + I->d;
  size_t nr = nco_problem_nres(pb, nb);
  int st = nco_problem_vjp(pb->base, x, idx, nb, v, jtv);
  if (st) return st;
  memset(gp, 0, I->N * sizeof *gp);
  for (size_t k = 0; k < nr; k++) I->acc[p_pos(pb, idx, nb, k)] = 0;
  for (size_t k = 0; k < nr; k++) I->acc[p_pos(pb, idx, nb, k)] += I->lambda * v[k];
  for (size_t k = 0; k < nr; k++) {
    size_t q = p_pos(pb, idx, nb, k);
    gp[q] = (float)I->acc[q];
  }
  return NCO_OK;
}

/* Σ_i w_i ∇²r̂_i u with r̂_i = g_i(x) + λp_i: p enters linearly, so
 * ∇²r̂_i = [∇²g_i 0; 0 0] (Crane & Roosta, proof of Theorem 3): the base's
 * rhvp on the x block, zero on p. Set only when the base has rhvp (which has
 * no dispatcher; arguments are already validated). */
static int invex_rhvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *w,
                      const float *u, float *out) {
  const invex_impl *I = pb->impl;
  int st = pb->base->type->rhvp(pb->base, x, idx, nb, w, u, out);
  if (st) return st;
  memset(out + I->d, 0, I->N * sizeof *out);
  return NCO_OK;
}

/* (x₀, 0): the base's starting point and p = 0 (Corollary 1). */
static int invex_init(nco_problem *pb, nco_rng *rng, float *x) {
  const invex_impl *I = pb->impl;
  int st = nco_problem_init(pb->base, rng, x);
  if (st) return st;
  memset(x + I->d, 0, I->N * sizeof *x);
  return NCO_OK;
}

static double invex_lambda(const nco_problem *pb) { return ((const invex_impl *)pb->impl)->lambda; }

static const nco_problem_type invex_type = {.name = "invex",
                                            .residual64 = invex_residual64,
                                            .jvp = invex_jvp,
                                            .vjp = invex_vjp,
                                            .init = invex_init,
                                            .destroy = invex_destroy,
    .reg_lambda = invex_lambda,
    .invex_lifting = 1};
static const nco_problem_type invex_type_rhvp = {.name = "invex",
                                                 .residual64 = invex_residual64,
                                                 .jvp = invex_jvp,
                                                 .vjp = invex_vjp,
                                                 .rhvp = invex_rhvp,
                                                 .init = invex_init,
                                                 .destroy = invex_destroy,
    .reg_lambda = invex_lambda,
    .invex_lifting = 1};



int nco_invex_wrap(nco_problem *base, double lambda, int owns, nco_problem **out) {
  int st = NCO_OK;
  nco_problem *pb = NULL;
  invex_impl *I = NULL;
  size_t N = 0, dim = 0;
  if (out) *out = NULL;
  if (!base) return nco_error(NCO_ERR_INVALID, "invex: base problem is NULL");
  if ((st = nco_reg_check_wrap_("invex", base, lambda, 1, out))) goto fail;
  if (!nco_problem_is_least_squares(base)) {
    st = nco_error(NCO_ERR_UNSUPPORTED,
                   "invex: base problem %s is not least-squares (needs residual, JVP and VJP); "
                   "the lifting g(x) + λp needs residuals",
                   base->label);
    goto fail;
  }
  if (base->manifold != NCO_MANIFOLD_EUCLIDEAN) {
    st = nco_error(NCO_ERR_UNSUPPORTED,
                   "invex: base problem %s lives on a manifold; the lifted (x, p) space would not",
                   base->label);
    goto fail;
  }
  if (nco_mul_size(base->n, base->m, &N) || nco_add_size(N, base->m_extra, &N) ||
      nco_add_size(base->dim, N, &dim)) {
    st = nco_error(NCO_ERR_OVERFLOW, "invex: parameter count d + n·m + m_extra overflows (base %s)",
                   base->label);
    goto fail;
  }
  if (N == 0) {
    st = nco_error(NCO_ERR_SHAPE, "invex: base problem %s has no residuals", base->label);
    goto fail;
  }
  I = calloc(1, sizeof *I);
  if (!I) goto nomem;
  I->acc = nco_calloc(N, sizeof *I->acc);
  if (!I->acc) goto nomem;
  I->lambda = lambda;
  I->d = base->dim;
  I->N = N;
  /* alloc takes I over (destroyed on failure) */
  st = nco_problem_alloc(base->type->rhvp ? &invex_type_rhvp : &invex_type, I, dim, base->n,
                         base->m, base->m_extra, &pb);
  I = NULL;
  if (st) goto fail;
  nco_reg_attach_(pb, base, owns, "invex", lambda);
  *out = pb;
  return NCO_OK;
nomem:
  st = nco_error(NCO_ERR_NOMEM, "invex: out of memory (base %s, N = %zu)", base->label, N);
fail:
  invex_destroy(I);
  if (owns) nco_problem_free(base);
  return st;
}
