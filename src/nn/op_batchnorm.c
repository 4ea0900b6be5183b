/* batchnorm (nn.BatchNorm1d over the features of a flat input,
 * nn.BatchNorm2d over the channels of a (C, H, W) input; Ioffe & Szegedy
 * 2015, PyTorch 1.13's semantics). Per channel c, over the M = N·H·W
 * values x_i of the chunk (the whole batch: run.inc), in training mode
 *     μ = (1/M) Σ x_i,  σ² = (1/M) Σ (x_i − μ)² (biased),  s = 1/√(σ² + eps),
 *     x̂_i = (x_i − μ)·s,  y_i = γ·x̂_i + β     (affine; else γ = 1, β = 0),
 * and the running statistics (state: running_mean[C], running_var[C])
 * become m·μ + (1 − m)·running_mean, m·σ²·M/(M − 1) + (1 − m)·running_var
 * when the evaluation commits (nn.h, "Batch norm"). In evaluation mode μ,
 * σ² are the running statistics (constants): y is affine in x.
 *
 * Derivatives (training mode; ⟨·⟩ = the mean over the channel's M values):
 *   R-op   Rμ = ⟨Rx⟩, s²Rσ²/2 = s⟨x̂·Rx⟩, so with m1 = ⟨Rx⟩, m2 = ⟨x̂·Rx⟩
 *          Rx̂ = s·(Rx − m1 − x̂·m2),  Rs = −s²·m2,  Ry = γ·Rx̂ + Vγ·x̂ + Vβ;
 *   VJP    ∇β = Σ δ, ∇γ = Σ δ·x̂, δx = γ·s·u with u = δ − A − x̂·B,
 *          A = ∇β/M, B = ∇γ/M (the standard batch-norm backward: the
 *          Jacobian of x̂ is s(I − 11ᵀ/M − x̂x̂ᵀ/M), symmetric);
 *   R{VJP} R{∇β} = Σ Rδ, R{∇γ} = Σ (Rδ·x̂ + δ·Rx̂), RA = R{∇β}/M, RB = R{∇γ}/M,
 *          R{δx} = Vγ·s·u + γ·Rs·u + γ·s·(Rδ − RA − Rx̂·B − x̂·RB),
 * which carry the coupling of the samples through μ and σ² into the exact
 * Hessian-vector product. Evaluation mode is the same with m1 = m2 = A =
 * B = RA = RB = Rs = 0. Every sum over the batch is in double, and so is
 * the elementwise arithmetic (rounded once to REAL); the statistics of the
 * forward (μ, s) and of the tangent (m1, m2) stay in the node's aux buffer
 * for the later passes of the same evaluation. */
#ifndef REAL
#include <math.h>
#include <stdio.h>

#include "ncopt/status.h"
#include "nn/internal.h"

/* per-channel doubles in the node's aux buffer: forward, tangent, backward sums */
enum { BN_MU, BN_IS, BN_M1, BN_M2, BN_S1, BN_S2, BN_S3, BN_S4, BN_NAUX };

static int bn_infer(nn_layer *l) {
  if (!(l->eps > 0) || !isfinite(l->eps))
    return nco_error(NCO_ERR_RANGE, "batchnorm eps = %g must be > 0 (torch's default: 1e-05)", l->eps);
  if (!(l->momentum >= 0 && l->momentum <= 1))
    return nco_error(NCO_ERR_RANGE, "batchnorm momentum = %g is not in [0, 1] (torch's default: 0.1)", l->momentum);
  l->oc = l->ic, l->oh = l->ih, l->ow = l->iw, l->out_flat = l->in_flat;
  l->nw = l->nb = l->nb ? l->ic : 0; /* affine: γ, β per channel (nb was the flag) */
  return NCO_OK;
}

static size_t bn_aux(const nn_layer *l, size_t cap, size_t esz) {
  (void)cap, (void)esz;
  return BN_NAUX * l->ic * sizeof(double);
}

static size_t bn_state_size(const nn_layer *l) { return 2 * l->ic; }

/* torch's reset_running_stats: running_mean 0, running_var 1 */
static void bn_state_init(const nn_layer *l, float *state) {
  for (size_t c = 0; c < l->ic; c++) state[c] = 0, state[l->ic + c] = 1;
}

/* torch's reset_parameters: γ = 1, β = 0 whatever the init kind (no draw) */
static void bn_init(const nn_layer *l, nco_nn_init_kind kind, double sigma, nco_rng *rng, float *theta) {
  (void)kind, (void)sigma, (void)rng;
  for (size_t c = 0; c < l->ic; c++) theta[l->poff + c] = 1, theta[l->poff + l->ic + c] = 0;
}

static int bn_repr(const nn_layer *l, char *buf, size_t len, int *mixed) {
  char e[40], m[40];
  (void)mixed;
  nn_py_float(l->eps, e, sizeof e);
  nn_py_float(l->momentum, m, sizeof m);
  snprintf(buf, len, "BatchNorm%dd(%zu, eps=%s, momentum=%s, affine=%s, track_running_stats=True)",
           l->in_flat ? 1 : 2, l->ic, e, m, l->nw ? "True" : "False");
  return NCO_OK;
}

static void bn_describe(const nn_layer *l, char *buf, size_t len) {
  snprintf(buf, len, " batchnorm(%zu%s)", l->ic, l->nw ? "" : " noaffine");
}

/* The chunk's geometry: nb samples of C channels of HW values; M per channel. */
#define BN_GEO(c)                                                                 \
  const size_t C = (c)->l->ic, HW = (c)->l->ih * (c)->l->iw, nb = (c)->nb; \
  const double M = (double)(nb * HW)
/* the body for every value i of channel ch, in memory order */
#define BN_EACH(...)                                                              \
  for (size_t s_ = 0; s_ < nb; s_++)                                              \
    for (size_t ch = 0; ch < C; ch++)                                             \
      for (size_t i = (s_ * C + ch) * HW, e_ = i + HW; i < e_; i++) { __VA_ARGS__ }
/* the node's θ slice or direction (NULL without affine: the pointer is the next node's) */
#define BN_THETA(c, f) ((c)->l->nw ? (const REAL *)(c)->f : NULL)
#define BN_AUX(c, k) ((double *)(c)->aux + (size_t)(k) * (c)->l->ic)
/* γ_ch, β_ch, Vγ_ch, Vβ_ch (W, V: the node's θ slice and direction, or NULL) */
#define BN_G(ch) (W ? (double)W[ch] : 1.0)
#define BN_B(ch) (W ? (double)W[C + (ch)] : 0.0)

static void bn_zero(size_t n, double *a, double *b) {
  for (size_t k = 0; k < n; k++) a[k] = 0, b[k] = 0;
}

#define NN_TEMPLATE "nn/op_batchnorm.c"
#include "nn/twice.h"

const nn_op_vt nn_op_batchnorm = {
    .name = "batchnorm",
    .kind = NCO_NN_BATCHNORM,
    .flags = NN_OPF_TRAIN | NN_OPF_BATCH,
    .min_in = 1,
    .max_in = 1,
    .infer = bn_infer,
    .init = bn_init,
    .aux_bytes = bn_aux,
    .state_size = bn_state_size,
    .state_init = bn_state_init,
    .fwd = NN_BOTH(bn_fwd),
    .rop = NN_BOTH(bn_rop),
    .vjp = NN_BOTH(bn_vjp),
    .repr = bn_repr,
    .describe = bn_describe,
};

#else /* the template */
#include "nn/real.inc"

static void FN(bn_fwd)(nn_call *c) {
  const nn_layer *l = c->l;
  BN_GEO(c);
  const REAL *x = CX(c, 0), *W = BN_THETA(c, W);
  REAL *y = CY(c);
  double *mu = BN_AUX(c, BN_MU), *is = BN_AUX(c, BN_IS);
  float *st = c->state;
  if (c->batch_on) {
    bn_zero(C, mu, is);
    BN_EACH(mu[ch] += x[i];)
    for (size_t ch = 0; ch < C; ch++) mu[ch] /= M;
    BN_EACH(const double d = x[i] - mu[ch]; is[ch] += d * d;)
    for (size_t ch = 0; ch < C; ch++) {
      const double ss = is[ch], m = l->momentum;
      if (c->commit && st) { /* torch's order; M ≥ 2 (nn_whole_batch) */
        st[ch] = (float)(m * mu[ch] + (1 - m) * st[ch]);
        st[C + ch] = (float)(m * (ss / (M - 1)) + (1 - m) * st[C + ch]);
      }
      is[ch] = 1 / sqrt(ss / M + l->eps);
    }
  } else {
    for (size_t ch = 0; ch < C; ch++) {
      mu[ch] = st ? st[ch] : 0;
      is[ch] = 1 / sqrt((st ? (double)st[C + ch] : 1.0) + l->eps);
    }
  }
  BN_EACH(y[i] = (REAL)((x[i] - mu[ch]) * is[ch] * BN_G(ch) + BN_B(ch));)
}

/* Rx̂ of value i (m1, m2 = 0 in evaluation mode; rx NULL: 0) */
#define BN_RXH(i, xh) (rx ? is[ch] * (rx[i] - m1[ch] - (xh) * m2[ch]) : 0.0)

static void FN(bn_rop)(nn_call *c) {
  BN_GEO(c);
  const REAL *x = CX(c, 0), *rx = CRX(c, 0), *W = BN_THETA(c, W), *V = BN_THETA(c, V);
  REAL *ry = CRY(c);
  const double *mu = BN_AUX(c, BN_MU), *is = BN_AUX(c, BN_IS);
  double *m1 = BN_AUX(c, BN_M1), *m2 = BN_AUX(c, BN_M2);
  bn_zero(C, m1, m2);
  if (rx && c->batch_on) {
    BN_EACH(m1[ch] += rx[i]; m2[ch] += (x[i] - mu[ch]) * is[ch] * rx[i];)
    for (size_t ch = 0; ch < C; ch++) m1[ch] /= M, m2[ch] /= M;
  }
  BN_EACH(const double xh = (x[i] - mu[ch]) * is[ch];
          ry[i] = (REAL)(BN_G(ch) * BN_RXH(i, xh) + (V ? V[ch] * xh + V[C + ch] : 0.0));)
}

static void FN(bn_vjp)(nn_call *c) {
  BN_GEO(c);
  const REAL *x = CX(c, 0), *rx = CRX(c, 0), *dy = CDY(c), *rdy = CRDY(c);
  const REAL *W = BN_THETA(c, W), *V = BN_THETA(c, V);
  REAL *dx = CDX(c, 0), *rdx = CRDX(c, 0), *gW = c->gW, *hW = rdy ? (REAL *)c->hW : NULL;
  const double *mu = BN_AUX(c, BN_MU), *is = BN_AUX(c, BN_IS), *m1 = BN_AUX(c, BN_M1), *m2 = BN_AUX(c, BN_M2);
  double *s1 = BN_AUX(c, BN_S1), *s2 = BN_AUX(c, BN_S2), *s3 = BN_AUX(c, BN_S3), *s4 = BN_AUX(c, BN_S4);
  bn_zero(C, s1, s2);
  bn_zero(C, s3, s4);
  BN_EACH(const double xh = (x[i] - mu[ch]) * is[ch]; s1[ch] += dy[i]; s2[ch] += dy[i] * xh;
          if (rdy) s3[ch] += rdy[i], s4[ch] += rdy[i] * xh + dy[i] * BN_RXH(i, xh);)
  if (gW)
    for (size_t ch = 0; ch < C; ch++) gW[ch] = (REAL)s2[ch], gW[C + ch] = (REAL)s1[ch];
  if (hW)
    for (size_t ch = 0; ch < C; ch++) hW[ch] = (REAL)s4[ch], hW[C + ch] = (REAL)s3[ch];
  if (!dx) return;
  const double k = c->batch_on ? 1 / M : 0; /* A = k·s1, B = k·s2, RA = k·s3, RB = k·s4 */
  BN_EACH(const double xh = (x[i] - mu[ch]) * is[ch], g = BN_G(ch);
          const double u = dy[i] - k * s1[ch] - xh * (k * s2[ch]);
          dx[i] = (REAL)(g * is[ch] * u);
          if (rdy) {
            const double rs = -is[ch] * is[ch] * m2[ch], vg = V ? (double)V[ch] : 0.0;
            const double ru = rdy[i] - k * s3[ch] - BN_RXH(i, xh) * (k * s2[ch]) - xh * (k * s4[ch]);
            rdx[i] = (REAL)(vg * is[ch] * u + g * rs * u + g * is[ch] * ru);
          })
}

#undef BN_RXH
#endif
