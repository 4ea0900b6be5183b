/* RMSProp (plain, centered, with momentum) as torch.optim.RMSprop
 * (https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html;
 * torch 1.13 _single_tensor_rmsprop): float32 element operations in
 * PyTorch's order, one fused pass over x, g and the state per step. */
#include <math.h>
#include <stdint.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "ncopt/status.h"
#include "optim/internal.h"

typedef struct {
  float *x, *sq, *ga, *buf; /* ga: centered only; buf: momentum only */
  const float *g;
  float sgn, wd, alpha, oma, eps, mu, nlr;
  int has_wd;
} rmsprop_ctx;

static void rmsprop_kernel(void *vctx, size_t lo, size_t hi) {
  const rmsprop_ctx *c = vctx;
  float *x = c->x, *sq = c->sq, *ga = c->ga, *buf = c->buf;
  const float *g = c->g;
  size_t i = lo;
#if defined(__SSE2__)
  const __m128 vsgn = _mm_set1_ps(c->sgn), vwd = _mm_set1_ps(c->wd), va = _mm_set1_ps(c->alpha),
               voma = _mm_set1_ps(c->oma), veps = _mm_set1_ps(c->eps), vmu = _mm_set1_ps(c->mu),
               vnlr = _mm_set1_ps(c->nlr);
  for (; i + 4 <= hi; i += 4) {
    __m128 xv = _mm_loadu_ps(x + i);
    __m128 d = _mm_mul_ps(_mm_loadu_ps(g + i), vsgn);
    if (c->has_wd) d = _mm_add_ps(d, _mm_mul_ps(vwd, xv));
    __m128 s = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(sq + i), va), _mm_mul_ps(_mm_mul_ps(voma, d), d));
    _mm_storeu_ps(sq + i, s);
    __m128 avg;
    if (ga) {
      __m128 a = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(ga + i), va), _mm_mul_ps(voma, d));
      _mm_storeu_ps(ga + i, a);
      avg = _mm_sqrt_ps(_mm_sub_ps(s, _mm_mul_ps(a, a)));
    } else {
      avg = _mm_sqrt_ps(s);
    }
    avg = _mm_add_ps(avg, veps);
    if (buf) {
      __m128 b = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(buf + i), vmu), _mm_div_ps(d, avg));
      _mm_storeu_ps(buf + i, b);
      _mm_storeu_ps(x + i, _mm_add_ps(xv, _mm_mul_ps(vnlr, b)));
    } else {
      _mm_storeu_ps(x + i, _mm_add_ps(xv, _mm_div_ps(_mm_mul_ps(vnlr, d), avg)));
    }
  }
#endif
  for (; i < hi; i++) {
    float xv = x[i];
    float d = g[i] * c->sgn;
    if (c->has_wd) d = d + c->wd * xv;
    float s = sq[i] * c->alpha + (c->oma * d) * d;
    sq[i] = s;
    float avg;
    if (ga) {
      float a = ga[i] * c->alpha + c->oma * d;
      ga[i] = a;
      avg = sqrtf(s - a * a);
    } else {
      avg = sqrtf(s);
    }
    avg = avg + c->eps;
    if (buf) {
      float b = buf[i] * c->mu + d / avg;
      buf[i] = b;
      x[i] = xv + c->nlr * b;
    } else {
      x[i] = xv + (c->nlr * d) / avg;
    }
  }
}

static void rmsprop_defaults(nco_optim_params *hp) {
  hp->lr = 1e-2;
  hp->alpha = 0.99;
  hp->eps = 1e-8;
}


static void rmsprop_state_size(const nco_optim_params *hp, size_t dim, size_t *nf, size_t *nd,
                               size_t *sb) {
  /* sq [dim] | ga [dim] (centered) | buf [dim] (momentum); ≤ 3·dim, and
   * dim ≤ SIZE_MAX/16 or create fails on dim alone, so no overflow here. */
  size_t n = 1 + (hp->centered ? 1 : 0) + (hp->momentum > 0 ? 1 : 0);
  *nf = dim > SIZE_MAX / 4 ? SIZE_MAX : n * dim;
  *nd = 0;
  *sb = 0;
}

/* Tieleman & Hinton 2012 (Cevher L9 "RMSProp": Q_k = βQ_{k−1} +
 * (1 − β)diag(g_k)², H_k = √Q_k); centered as Graves 2013 (eq. 38–45), in
 * torch.optim.RMSprop's form:
 *   g ← ±g + λx;        v ← αv + (1 − α)g²
 *   centered: ḡ ← αḡ + (1 − α)g,  ṽ = v − ḡ²;   else ṽ = v
 *   momentum: b ← μb + g/(√ṽ + ε),  x ← x − γb;   else x ← x − γ g/(√ṽ + ε) */
static int rmsprop_step(nco_optim *o, const float *grad, double loss) {
  (void)loss;
  const nco_optim_params *hp = &o->hp;
  size_t n = o->dim;
  float *next = o->f + n;
  rmsprop_ctx c = {
      .x = o->x,
      .sq = o->f,
      .ga = NULL,
      .buf = NULL,
      .g = grad,
      .sgn = hp->maximize ? -1.0f : 1.0f,
      .wd = (float)hp->weight_decay,
      .alpha = (float)hp->alpha,
      .oma = (float)(1 - hp->alpha),
      .eps = (float)hp->eps,
      .mu = (float)hp->momentum,
      .nlr = (float)(-o->lr),
      .has_wd = hp->weight_decay != 0,
  };
  if (hp->centered) {
    c.ga = next;
    next += n;
  }
  if (hp->momentum > 0) c.buf = next;
  nco_optim_foreach(n, rmsprop_kernel, &c);
  return NCO_OK;
}

const nco_optim_type nco_optim_rmsprop_type = {
    .name = "rmsprop",
    .help = "RMSProp as torch.optim.RMSprop: lr, alpha, eps, centered, momentum, weight_decay, maximize",
    .ask_tell = 1,
    .requires = 0,
    .defaults = rmsprop_defaults,
    .state_size = rmsprop_state_size,
    .step = rmsprop_step,
};
const nco_optim_type *const nco_optim_rmsprop = &nco_optim_rmsprop_type;
