/* Adam, AdamW and AMSGrad as torch.optim.Adam / AdamW
 * (https://pytorch.org/docs/stable/generated/torch.optim.Adam.html,
 * .../torch.optim.AdamW.html; torch 1.13 _single_tensor_adam/_adamw):
 * float32 element operations in PyTorch's order, bias corrections and the
 * step size in double and converted to float once per step as PyTorch
 * does, one fused pass over x, g, m, v (and v̂) per step. With reddi = 1,
 * Reddi, Kale & Kumar's original updates (no bias correction). */
#include <math.h>
#include <stdint.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "ncopt/status.h"
#include "optim/internal.h"

typedef struct {
  float *x, *m, *v, *vmax; /* vmax: amsgrad only */
  const float *g;
  float sgn, wd, decay, b1, omb1, b2, omb2, bc2s, eps, nss;
  int has_wd, has_decay;
} adam_ctx;

static void adam_kernel(void *vctx, size_t lo, size_t hi) {
  const adam_ctx *c = vctx;
  float *x = c->x, *m = c->m, *v = c->v, *vmax = c->vmax;
  const float *g = c->g;
  size_t i = lo;
#if defined(__SSE2__)
  const __m128 vsgn = _mm_set1_ps(c->sgn), vwd = _mm_set1_ps(c->wd), vdecay = _mm_set1_ps(c->decay),
               vb1 = _mm_set1_ps(c->b1), vomb1 = _mm_set1_ps(c->omb1), vb2 = _mm_set1_ps(c->b2),
               vomb2 = _mm_set1_ps(c->omb2), vbc2s = _mm_set1_ps(c->bc2s), veps = _mm_set1_ps(c->eps),
               vnss = _mm_set1_ps(c->nss);
  for (; i + 4 <= hi; i += 4) {
    __m128 xv = _mm_loadu_ps(x + i);
    if (c->has_decay) xv = _mm_mul_ps(xv, vdecay);
    __m128 d = _mm_mul_ps(_mm_loadu_ps(g + i), vsgn);
    if (c->has_wd) d = _mm_add_ps(d, _mm_mul_ps(vwd, xv));
    __m128 mv = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(m + i), vb1), _mm_mul_ps(vomb1, d));
    __m128 vv = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(v + i), vb2), _mm_mul_ps(_mm_mul_ps(vomb2, d), d));
    _mm_storeu_ps(m + i, mv);
    _mm_storeu_ps(v + i, vv);
    if (vmax) {
      vv = _mm_max_ps(_mm_loadu_ps(vmax + i), vv);
      _mm_storeu_ps(vmax + i, vv);
    }
    __m128 den = _mm_add_ps(_mm_div_ps(_mm_sqrt_ps(vv), vbc2s), veps);
    _mm_storeu_ps(x + i, _mm_add_ps(xv, _mm_div_ps(_mm_mul_ps(vnss, mv), den)));
  }
#endif
  for (; i < hi; i++) {
    float xv = x[i];
    if (c->has_decay) xv = xv * c->decay;
    float d = g[i] * c->sgn;
    if (c->has_wd) d = d + c->wd * xv;
    float mv = m[i] * c->b1 + c->omb1 * d;
    float vv = v[i] * c->b2 + (c->omb2 * d) * d;
    m[i] = mv;
    v[i] = vv;
    if (vmax) {
      vv = vmax[i] > vv ? vmax[i] : vv;
      vmax[i] = vv;
    }
    float den = sqrtf(vv) / c->bc2s + c->eps;
    x[i] = xv + (c->nss * mv) / den;
  }
}

static void adam_defaults(nco_optim_params *hp) {
  hp->lr = 1e-3;
  hp->beta1 = 0.9;
  hp->beta2 = 0.999;
  hp->eps = 1e-8;
}

static void adamw_defaults(nco_optim_params *hp) {
  adam_defaults(hp);
  hp->weight_decay = 1e-2; /* torch.optim.AdamW's default */
}

static void amsgrad_defaults(nco_optim_params *hp) {
  adam_defaults(hp);
  hp->amsgrad = 1;
}

static int amsgrad_validate(const nco_optim_params *hp) {
  if (hp->amsgrad != 1)
    return nco_error(NCO_ERR_INVALID,
                     "optimizer.amsgrad = %d: the amsgrad method always takes the max (use adam for 0)",
                     hp->amsgrad);
  return NCO_OK;
}

static void adam_state_size(const nco_optim_params *hp, size_t dim, size_t *nf, size_t *nd,
                            size_t *sb) {
  /* m [dim] | v [dim] | v̂ [dim] (amsgrad) */
  size_t n = hp->amsgrad ? 3 : 2;
  *nf = dim > SIZE_MAX / 4 ? SIZE_MAX : n * dim;
  *nd = 0;
  *sb = 0;
}

/* Kingma & Ba 2015, Alg. 1 (Cevher L9 "ADAM"), in torch.optim.Adam's form
 * with step t = k + 1:
 *   g ← ±g + λx                         (adam, amsgrad: L2 in the gradient)
 *   x ← x(1 − γλ)                       (adamw: decoupled, Loshchilov &
 *                                        Hutter 2019, before the moments)
 *   m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²
 *   amsgrad: v̂ ← max(v̂, v)  (torch ≥ 1.13: max of the raw v, before the
 *            bias correction; Reddi et al. 2018 Alg. 2, Cevher L9 "AmsGrad")
 *   x ← x − (γ/(1 − β₁ᵗ))·m/(√v̂/√(1 − β₂ᵗ) + ε)      (v̂ = v without amsgrad)
 * reddi = 1: Reddi, Kale & Kumar (ICLR 2018) Alg. 1/2 as published, without
 * bias correction: x ← x − γ m/(√v̂ + ε), i.e. both corrections are 1 and
 * ε is added to √v̂ where PyTorch adds it (the paper has no ε; it only
 * guards a zero first gradient). The paper's α_t = α/√t is the caller's
 * schedule (nco_optim_set_lr). */
static int adam_step_common(nco_optim *o, const float *grad, int decoupled) {
  const nco_optim_params *hp = &o->hp;
  size_t n = o->dim;
  double t = (double)o->k + 1;
  double bc1 = 1, bc2 = 1;
  if (!hp->reddi) {
    bc1 = 1 - pow(hp->beta1, t);
    bc2 = 1 - pow(hp->beta2, t);
  }
  double step_size = o->lr / bc1;
  adam_ctx c = {
      .x = o->x,
      .m = o->f,
      .v = o->f + n,
      .vmax = hp->amsgrad ? o->f + 2 * n : NULL,
      .g = grad,
      .sgn = hp->maximize ? -1.0f : 1.0f,
      .wd = (float)hp->weight_decay,
      .decay = (float)(1 - o->lr * hp->weight_decay),
      .b1 = (float)hp->beta1,
      .omb1 = (float)(1 - hp->beta1),
      .b2 = (float)hp->beta2,
      .omb2 = (float)(1 - hp->beta2),
      .bc2s = (float)sqrt(bc2),
      .eps = (float)hp->eps,
      .nss = (float)(-step_size),
      .has_wd = !decoupled && hp->weight_decay != 0,
      .has_decay = decoupled && hp->weight_decay != 0,
  };
  nco_optim_foreach(n, adam_kernel, &c);
  return NCO_OK;
}

static int adam_step(nco_optim *o, const float *grad, double loss) {
  (void)loss;
  return adam_step_common(o, grad, 0);
}

static int adamw_step(nco_optim *o, const float *grad, double loss) {
  (void)loss;
  return adam_step_common(o, grad, 1);
}

const nco_optim_type nco_optim_adam_type = {
    .name = "adam",
    .help = "Adam as torch.optim.Adam: lr, beta1, beta2, eps, weight_decay (L2), amsgrad, maximize, "
            "reddi (no bias correction)",
    .ask_tell = 1,
    .requires = 0,
    .defaults = adam_defaults,
    .state_size = adam_state_size,
    .step = adam_step,
};
const nco_optim_type *const nco_optim_adam = &nco_optim_adam_type;

const nco_optim_type nco_optim_adamw_type = {
    .name = "adamw",
    .help = "AdamW as torch.optim.AdamW (decoupled weight_decay, default 1e-2): lr, beta1, beta2, "
            "eps, weight_decay, amsgrad, maximize, reddi",
    .ask_tell = 1,
    .requires = 0,
    .defaults = adamw_defaults,
    .state_size = adam_state_size,
    .step = adamw_step,
};
const nco_optim_type *const nco_optim_adamw = &nco_optim_adamw_type;

const nco_optim_type nco_optim_amsgrad_type = {
    .name = "amsgrad",
    .help = "AMSGrad = torch.optim.Adam(amsgrad=True): lr, beta1, beta2, eps, weight_decay, maximize, "
            "reddi (Reddi et al.'s form without bias correction)",
    .ask_tell = 1,
    .requires = 0,
    .defaults = amsgrad_defaults,
    .validate = amsgrad_validate,
    .state_size = adam_state_size,
    .step = adam_step,
};
const nco_optim_type *const nco_optim_amsgrad = &nco_optim_amsgrad_type;
