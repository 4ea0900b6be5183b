/* SGD (plain, heavy-ball momentum, Nesterov), perturbed SGD and SGLD.
 *
 * sgd follows torch.optim.SGD exactly (https://pytorch.org/docs/stable/
 * generated/torch.optim.SGD.html; torch 1.13 _single_tensor_sgd): the same
 * float32 operations in the same order, the scalars converted to float
 * once per step as PyTorch does. One fused pass over x, g and the momentum
 * buffer per step, SSE2 four lanes at a time where available (the same
 * IEEE operations as the scalar tail, so results do not depend on it). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "optim/internal.h"

/* ---- the fused kernel ---------------------------------------------------- */

typedef struct {
  float *x, *buf;        /* iterate, momentum buffer (NULL without momentum) */
  const float *g, *xi;   /* gradient; psgd's noise direction (NULL: none) */
  float sgn, wd, mu, omd, nlr, cxi;
  int has_wd, first, nesterov;
} sgd_ctx;

static void sgd_kernel(void *vctx, size_t lo, size_t hi) {
  const sgd_ctx *c = vctx;
  float *x = c->x, *buf = c->buf;
  const float *g = c->g, *xi = c->xi;
  size_t i = lo;
#if defined(__SSE2__)
  const __m128 vsgn = _mm_set1_ps(c->sgn), vwd = _mm_set1_ps(c->wd), vmu = _mm_set1_ps(c->mu),
               vomd = _mm_set1_ps(c->omd), vnlr = _mm_set1_ps(c->nlr), vcxi = _mm_set1_ps(c->cxi);
  for (; i + 4 <= hi; i += 4) {
    __m128 xv = _mm_loadu_ps(x + i);
    __m128 d = _mm_mul_ps(_mm_loadu_ps(g + i), vsgn);
    if (c->has_wd) d = _mm_add_ps(d, _mm_mul_ps(vwd, xv));
    if (buf) {
      __m128 b = c->first ? d : _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(buf + i), vmu), _mm_mul_ps(vomd, d));
      _mm_storeu_ps(buf + i, b);
      d = c->nesterov ? _mm_add_ps(d, _mm_mul_ps(vmu, b)) : b;
    }
    if (xi) d = _mm_add_ps(d, _mm_mul_ps(vcxi, _mm_loadu_ps(xi + i)));
    _mm_storeu_ps(x + i, _mm_add_ps(xv, _mm_mul_ps(vnlr, d)));
  }
#endif
  for (; i < hi; i++) {
    float xv = x[i];
    float d = g[i] * c->sgn;
    if (c->has_wd) d = d + c->wd * xv;
    if (buf) {
      float b = c->first ? d : buf[i] * c->mu + c->omd * d;
      buf[i] = b;
      d = c->nesterov ? d + c->mu * b : b;
    }
    if (xi) d = d + c->cxi * xi[i];
    x[i] = xv + c->nlr * d;
  }
}

static sgd_ctx sgd_setup(nco_optim *o, const float *grad) {
  const nco_optim_params *hp = &o->hp;
  sgd_ctx c = {
      .x = o->x,
      .buf = NULL,
      .g = grad,
      .xi = NULL,
      .sgn = hp->maximize ? -1.0f : 1.0f,
      .wd = (float)hp->weight_decay,
      .mu = (float)hp->momentum,
      .omd = (float)(1 - hp->dampening),
      .nlr = (float)(-o->lr),
      .cxi = 0,
      .has_wd = hp->weight_decay != 0,
      .first = o->k == 0,
      .nesterov = hp->nesterov,
  };
  return c;
}

/* ---- sgd ------------------------------------------------------------------ */

static void sgd_defaults(nco_optim_params *hp) { hp->lr = 1e-3; }

static int sgd_validate(const nco_optim_params *hp) {
  if (hp->nesterov && !(hp->momentum > 0 && hp->dampening == 0))
    return nco_error(NCO_ERR_INVALID,
                     "optimizer.nesterov = 1: needs momentum > 0 and dampening = 0 (momentum = %g, "
                     "dampening = %g)",
                     hp->momentum, hp->dampening);
  return NCO_OK;
}

static void sgd_state_size(const nco_optim_params *hp, size_t dim, size_t *nf, size_t *nd,
                           size_t *sb) {
  *nf = hp->momentum > 0 ? dim : 0; /* momentum buffer */
  *nd = 0;
  *sb = 0;
}

/* torch.optim.SGD (Sutskever et al. 2013 form of heavy ball / Nesterov;
 * Cevher L9 "Vanilla (minibatch) SGD" for momentum = 0):
 *   d = ±g + λx
 *   b_1 = d,  b_t = μ b_{t−1} + (1 − τ) d     (no dampening on the first step)
 *   d = d + μ b_t (nesterov)  or  d = b_t
 *   x ← x − γ d */
static int sgd_step(nco_optim *o, const float *grad, double loss) {
  (void)loss;
  sgd_ctx c = sgd_setup(o, grad);
  if (o->hp.momentum > 0) c.buf = o->f;
  nco_optim_foreach(o->dim, sgd_kernel, &c);
  return NCO_OK;
}

const nco_optim_type nco_optim_sgd_type = {
    .name = "sgd",
    .help = "SGD as torch.optim.SGD: lr, momentum, dampening, nesterov, weight_decay, maximize",
    .ask_tell = 1,
    .requires = 0,
    .defaults = sgd_defaults,
    .validate = sgd_validate,
    .state_size = sgd_state_size,
    .step = sgd_step,
};
const nco_optim_type *const nco_optim_sgd = &nco_optim_sgd_type;

/* ---- psgd ----------------------------------------------------------------- */


static void psgd_state_size(const nco_optim_params *hp, size_t dim, size_t *nf, size_t *nd,
                            size_t *sb) {
  (void)hp;
  *nf = 0;
  *nd = 0;
  /* ξ [dim]; SIZE_MAX on overflow makes create fail cleanly */
  *sb = dim > SIZE_MAX / sizeof(float) ? SIZE_MAX : dim * sizeof(float);
}

/* Perturbed SGD, Cevher L9 ("Perturbed Stochastic Gradient Descent", after
 * Ge, Huang, Jin & Yuan, COLT 2015): x ← x − γ(g + r·ξ), ξ uniform on the
 * unit sphere, here with radius r (the slide's r = 1). ξ = z/‖z‖ for
 * z ~ N(0, I) from the optimiser's rng: the normals go to scratch, their
 * norm (double) is one read, then one fused pass updates x with (r/‖z‖)·z. */
static int psgd_step(nco_optim *o, const float *grad, double loss) {
  (void)loss;
  float *z = o->scratch;
  sgd_ctx c = sgd_setup(o, grad);
  if (o->hp.radius > 0) {
    nco_rng_normal_fill(&o->rng, z, o->dim, 0.0, 1.0);
    double nz = nco_nrm2(o->dim, z);
    if (nz > 0) {
      c.xi = z;
      c.cxi = (float)(o->hp.radius / nz);
    }
  }
  nco_optim_foreach(o->dim, sgd_kernel, &c);
  return NCO_OK;
}

static void psgd_defaults(nco_optim_params *hp) {
  hp->lr = 1e-3;
  hp->radius = 1e-2;
}

const nco_optim_type nco_optim_psgd_type = {
    .name = "psgd",
    .help = "perturbed SGD x <- x - lr*(g + radius*xi), xi uniform on the unit sphere: lr, radius, "
            "weight_decay, maximize, seed",
    .ask_tell = 1,
    .requires = 0,
    .defaults = psgd_defaults,
    .state_size = psgd_state_size,
    .step = psgd_step,
};
const nco_optim_type *const nco_optim_psgd = &nco_optim_psgd_type;

/* ---- sgld ----------------------------------------------------------------- */


static void sgld_defaults(nco_optim_params *hp) {
  hp->lr = 1e-3;
  hp->inv_temp = 1;
}

/* Stochastic gradient Langevin dynamics, Cevher L9 (after Welling & Teh,
 * ICML 2011) at inverse temperature β (the slide's β = 1):
 *     x ← x − γ g + √(2γ/β) ξ,   ξ ~ N(0, I)
 * the Euler–Maruyama step of dX = −∇f dt + √(2/β) dW, whose invariant law
 * is ∝ exp(−β f). The normals come from the optimiser's rng in index order
 * (sequential, hence one single-threaded fused pass). */
static int sgld_step(nco_optim *o, const float *grad, double loss) {
  (void)loss;
  const nco_optim_params *hp = &o->hp;
  const float sgn = hp->maximize ? -1.0f : 1.0f, wd = (float)hp->weight_decay;
  const float nlr = (float)(-o->lr);
  const double s = sqrt(2 * o->lr / hp->inv_temp);
  const int has_wd = hp->weight_decay != 0;
  float *x = o->x;
  for (size_t i = 0; i < o->dim; i++) {
    float xv = x[i];
    float d = grad[i] * sgn;
    if (has_wd) d = d + wd * xv;
    x[i] = (xv + nlr * d) + (float)(s * nco_rng_normal(&o->rng));
  }
  return NCO_OK;
}

const nco_optim_type nco_optim_sgld_type = {
    .name = "sgld",
    .help = "Langevin dynamics x <- x - lr*g + sqrt(2*lr/inv_temp)*N(0,I): lr, inv_temp, "
            "weight_decay, maximize, seed",
    .ask_tell = 1,
    .requires = 0,
    .defaults = sgld_defaults,
    .state_size = NULL,
    .step = sgld_step,
};
const nco_optim_type *const nco_optim_sgld = &nco_optim_sgld_type;
