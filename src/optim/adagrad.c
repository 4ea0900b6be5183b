/* AdaGrad: diagonal (PyTorch's) and the scalar "norm" version.
 *
 * adagrad follows torch.optim.Adagrad exactly (https://pytorch.org/docs/
 * stable/generated/torch.optim.Adagrad.html; torch 1.13
 * _single_tensor_adagrad): float32 element operations in PyTorch's order,
 * the decayed step clr computed in double. adagrad_norm is Cevher L9's
 * "AdaGrad with H_k = λ_k I". */
#include <math.h>
#include <stdint.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "optim/internal.h"

/* ---- adagrad (diagonal) ------------------------------------------------------ */

typedef struct {
  float *x, *sum;
  const float *g;
  float sgn, wd, eps, nclr;
  int has_wd;
} adagrad_ctx;

static void adagrad_kernel(void *vctx, size_t lo, size_t hi) {
  const adagrad_ctx *c = vctx;
  float *x = c->x, *sum = c->sum;
  const float *g = c->g;
  size_t i = lo;
#if defined(__SSE2__)
  const __m128 vsgn = _mm_set1_ps(c->sgn), vwd = _mm_set1_ps(c->wd), veps = _mm_set1_ps(c->eps),
               vnclr = _mm_set1_ps(c->nclr);
  for (; i + 4 <= hi; i += 4) {
    __m128 xv = _mm_loadu_ps(x + i);
    __m128 d = _mm_mul_ps(_mm_loadu_ps(g + i), vsgn);
    if (c->has_wd) d = _mm_add_ps(d, _mm_mul_ps(vwd, xv));
    __m128 s = _mm_add_ps(_mm_loadu_ps(sum + i), _mm_mul_ps(d, d));
    _mm_storeu_ps(sum + i, s);
    __m128 std = _mm_add_ps(_mm_sqrt_ps(s), veps);
    _mm_storeu_ps(x + i, _mm_add_ps(xv, _mm_div_ps(_mm_mul_ps(vnclr, d), std)));
  }
#endif
  for (; i < hi; i++) {
    float xv = x[i];
    float d = g[i] * c->sgn;
    if (c->has_wd) d = d + c->wd * xv;
    float s = sum[i] + d * d;
    sum[i] = s;
    float std = sqrtf(s) + c->eps;
    x[i] = xv + (c->nclr * d) / std;
  }
}

static void adagrad_defaults(nco_optim_params *hp) {
  hp->lr = 1e-2;
  hp->eps = 1e-10;
}


static void adagrad_state_size(const nco_optim_params *hp, size_t dim, size_t *nf, size_t *nd,
                               size_t *sb) {
  (void)hp;
  *nf = dim; /* Σ g² per coordinate */
  *nd = 0;
  *sb = 0;
}

static int adagrad_init(nco_optim *o) {
  /* torch: state_sum = full_like(p, initial_accumulator_value) */
  float v = (float)o->hp.initial_accumulator_value;
  nco_fill(o->dim, v, o->f);
  return NCO_OK;
}

/* Duchi, Hazan & Singer 2011; Cevher L9 "AdaGrad with H_k = D_k", in
 * torch.optim.Adagrad's form (t = k + 1):
 *   g ← ±g + λx;  clr = γ/(1 + (t − 1)·lr_decay)
 *   s ← s + g²;   x ← x − clr·g/(√s + ε)          (ε outside the root) */
static int adagrad_step(nco_optim *o, const float *grad, double loss) {
  (void)loss;
  const nco_optim_params *hp = &o->hp;
  double t = (double)o->k + 1;
  double clr = o->lr / (1 + (t - 1) * hp->lr_decay);
  adagrad_ctx c = {
      .x = o->x,
      .sum = o->f,
      .g = grad,
      .sgn = hp->maximize ? -1.0f : 1.0f,
      .wd = (float)hp->weight_decay,
      .eps = (float)hp->eps,
      .nclr = (float)(-clr),
      .has_wd = hp->weight_decay != 0,
  };
  nco_optim_foreach(o->dim, adagrad_kernel, &c);
  return NCO_OK;
}

const nco_optim_type nco_optim_adagrad_type = {
    .name = "adagrad",
    .help = "diagonal AdaGrad as torch.optim.Adagrad: lr, lr_decay, initial_accumulator_value, eps, "
            "weight_decay, maximize",
    .ask_tell = 1,
    .requires = 0,
    .defaults = adagrad_defaults,
    .state_size = adagrad_state_size,
    .init = adagrad_init,
    .step = adagrad_step,
};
const nco_optim_type *const nco_optim_adagrad = &nco_optim_adagrad_type;

/* ---- adagrad_norm (scalar) ------------------------------------------------- */

typedef struct {
  float *x;
  const float *g;
  float sgn, wd, nc;
  int has_wd;
  double *part; /* one partial Σ g² per chunk (norm pass) */
} norm_ctx;

/* Pass 1: Σ (±g + λx)² over the chunk, in double (each square is exact). */
static void norm_kernel(void *vctx, size_t lo, size_t hi) {
  const norm_ctx *c = vctx;
  double s = 0;
  for (size_t i = lo; i < hi; i++) {
    float d = c->g[i] * c->sgn;
    if (c->has_wd) d = d + c->wd * c->x[i];
    s += (double)d * d;
  }
  c->part[lo / NCO_OPTIM_CHUNK] = s;
}

/* Pass 2: x ← x + nc·(±g + λx). */
static void norm_update(void *vctx, size_t lo, size_t hi) {
  const norm_ctx *c = vctx;
  float *x = c->x;
  const float *g = c->g;
  size_t i = lo;
#if defined(__SSE2__)
  const __m128 vsgn = _mm_set1_ps(c->sgn), vwd = _mm_set1_ps(c->wd), vnc = _mm_set1_ps(c->nc);
  for (; i + 4 <= hi; i += 4) {
    __m128 xv = _mm_loadu_ps(x + i);
    __m128 d = _mm_mul_ps(_mm_loadu_ps(g + i), vsgn);
    if (c->has_wd) d = _mm_add_ps(d, _mm_mul_ps(vwd, xv));
    _mm_storeu_ps(x + i, _mm_add_ps(xv, _mm_mul_ps(vnc, d)));
  }
#endif
  for (; i < hi; i++) {
    float xv = x[i];
    float d = g[i] * c->sgn;
    if (c->has_wd) d = d + c->wd * xv;
    x[i] = xv + c->nc * d;
  }
}

static void adagrad_norm_defaults(nco_optim_params *hp) {
  hp->lr = 1;
  hp->eps = 1e-10;
}


static void adagrad_norm_state_size(const nco_optim_params *hp, size_t dim, size_t *nf, size_t *nd,
                                    size_t *sb) {
  (void)hp;
  (void)dim;
  *nf = 0;
  *nd = 1; /* d[0] = b² = b0² + Σ_τ ‖g_τ‖² */
  *sb = 0;
}

static int adagrad_norm_init(nco_optim *o) {
  o->d[0] = o->hp.eps; /* b0² */
  return NCO_OK;
}

/* Cevher L9 "Adaptive gradient descent (AdaGrad with H_k = λ_k I)" (after
 * Levy 2017; AdaGrad-Norm of Ward, Wu & Bottou, ICML 2019):
 *   Q_k = Q_{k−1} + ‖g_k‖²,  H_k = √Q_k·I,  x_{k+1} = x_k − α_k H_k⁻¹ g_k
 * with Q_0 = b0² = eps > 0 instead of the slide's 0, so that a zero first
 * gradient does not divide by zero (Ward et al.'s b_0). No PyTorch class. */
static int adagrad_norm_step(nco_optim *o, const float *grad, double loss) {
  (void)loss;
  const nco_optim_params *hp = &o->hp;
  enum { BATCH = 256 };
  double part[BATCH];
  norm_ctx c = {
      .x = o->x,
      .g = grad,
      .sgn = hp->maximize ? -1.0f : 1.0f,
      .wd = (float)hp->weight_decay,
      .has_wd = hp->weight_decay != 0,
      .part = part,
  };
  /* Σ‖g‖² from per-chunk partials summed in chunk order: the same bits for
   * any thread count. */
  double q = 0;
  size_t span = (size_t)BATCH * NCO_OPTIM_CHUNK;
  for (size_t off = 0; off < o->dim; off += span) {
    size_t len = o->dim - off < span ? o->dim - off : span;
    norm_ctx cc = c;
    cc.x = o->x + off;
    cc.g = grad + off;
    nco_optim_foreach(len, norm_kernel, &cc);
    size_t nch = len / NCO_OPTIM_CHUNK + (len % NCO_OPTIM_CHUNK != 0);
    for (size_t j = 0; j < nch; j++) q += part[j];
  }
  double b2 = o->d[0] + q;
  if (!isfinite(b2))
    return nco_error(NCO_ERR_NUMERIC, "optimizer adagrad_norm: step %llu: Σ‖g‖² overflows (%g)",
                     (unsigned long long)o->k, b2);
  c.nc = (float)(-o->lr / sqrt(b2));
  nco_optim_foreach(o->dim, norm_update, &c);
  o->d[0] = b2;
  return NCO_OK;
}

const nco_optim_type nco_optim_adagrad_norm_type = {
    .name = "adagrad_norm",
    .help = "scalar AdaGrad x <- x - lr*g/sqrt(eps + sum ||g||^2): lr, eps, weight_decay, maximize",
    .ask_tell = 1,
    .requires = 0,
    .defaults = adagrad_norm_defaults,
    .state_size = adagrad_norm_state_size,
    .init = adagrad_norm_init,
    .step = adagrad_norm_step,
};
const nco_optim_type *const nco_optim_adagrad_norm = &nco_optim_adagrad_norm_type;
