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
 * for the later passes of the same evaluation.
 *
 * Speed without changing a bit. Each channel is computed by one thread
 * (OpenMP over groups of BN_GW consecutive channels when the chunk has at
 * least BN_PAR_MIN values; a static partition of whole channels), and each
 * of its sums runs over the channel's values in memory order (samples,
 * then pixels) in one double accumulator, as a plain loop would: the
 * order is fixed by the code, not by the thread count, so every output,
 * gradient, HVP and running statistic is the same bits for any number of
 * threads (tests/test_batchnorm.c checks 1, 2, 3). Such a sum is a chain
 * of dependent adds (4 cycles each); the hot sums therefore run BN_GW
 * channels side by side (BN_GW independent chains in flight, each in its
 * own order), and a group's passes follow one another while its values
 * are still in cache. Per-channel factors (γ·s, k·∇β, ...) are computed
 * once per channel where the expression evaluates them first anyway
 * (γ·s·u is (γ·s)·u in C), so the elementwise loops do the same IEEE
 * operations as before and vectorise (omp simd). */
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

/* Channels per unit of parallel work (and side by side in the sums). */
#define BN_GW 4
/* values of a chunk below which one thread does it all: the fork/join of
 * an OpenMP team costs more than it saves, and on a busy machine a team
 * member that is not scheduled stalls the call (conv.c) */
#define BN_PAR_MIN 32768
#define BN_REP(S) S(0) S(1) S(2) S(3)

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

/* The sums of a group of w ≤ BN_GW channels [c0, c0 + w) of the chunk x
 * (nb × C × HW): acc[k] = Σ over channel c0 + k's values, in memory order,
 * starting from 0 (w = BN_GW: the chains side by side). */
static void FN(bn_sum)(size_t nb, size_t C, size_t HW, const REAL *x, size_t c0, size_t w, double *acc) {
  if (w == BN_GW) {
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (size_t s = 0; s < nb; s++) {
      const REAL *p0 = x + (s * C + c0) * HW, *p1 = p0 + HW, *p2 = p1 + HW, *p3 = p2 + HW;
      for (size_t i = 0; i < HW; i++) a0 += p0[i], a1 += p1[i], a2 += p2[i], a3 += p3[i];
    }
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
    return;
  }
  for (size_t k = 0; k < w; k++) {
    double a = 0;
    for (size_t s = 0; s < nb; s++) {
      const REAL *p = x + (s * C + c0 + k) * HW;
      for (size_t i = 0; i < HW; i++) a += p[i];
    }
    acc[k] = a;
  }
}

/* acc[k] = Σ (x − mu[k])² over channel c0 + k's values, in memory order */
static void FN(bn_ssq)(size_t nb, size_t C, size_t HW, const REAL *x, size_t c0, size_t w, const double *mu,
                       double *acc) {
  if (w == BN_GW) {
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    const double u0 = mu[0], u1 = mu[1], u2 = mu[2], u3 = mu[3];
    for (size_t s = 0; s < nb; s++) {
      const REAL *p0 = x + (s * C + c0) * HW, *p1 = p0 + HW, *p2 = p1 + HW, *p3 = p2 + HW;
      for (size_t i = 0; i < HW; i++) {
        const double d0 = p0[i] - u0, d1 = p1[i] - u1, d2 = p2[i] - u2, d3 = p3[i] - u3;
        a0 += d0 * d0, a1 += d1 * d1, a2 += d2 * d2, a3 += d3 * d3;
      }
    }
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
    return;
  }
  for (size_t k = 0; k < w; k++) {
    double a = 0;
    const double u = mu[k];
    for (size_t s = 0; s < nb; s++) {
      const REAL *p = x + (s * C + c0 + k) * HW;
      for (size_t i = 0; i < HW; i++) {
        const double d = p[i] - u;
        a += d * d;
      }
    }
    acc[k] = a;
  }
}

/* s1[k] = Σ δ, s2[k] = Σ δ·x̂ (x̂ = (x − mu[k])·is[k]) over channel c0 + k's values */
static void FN(bn_dsum)(size_t nb, size_t C, size_t HW, const REAL *x, const REAL *dy, size_t c0, size_t w,
                        const double *mu, const double *is, double *s1, double *s2) {
  if (w == BN_GW) {
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    const double u0 = mu[0], u1 = mu[1], u2 = mu[2], u3 = mu[3];
    const double i0 = is[0], i1 = is[1], i2 = is[2], i3 = is[3];
    for (size_t s = 0; s < nb; s++) {
      const size_t o = (s * C + c0) * HW;
      const REAL *p0 = x + o, *p1 = p0 + HW, *p2 = p1 + HW, *p3 = p2 + HW;
      const REAL *q0 = dy + o, *q1 = q0 + HW, *q2 = q1 + HW, *q3 = q2 + HW;
      for (size_t i = 0; i < HW; i++) {
        const double h0 = (p0[i] - u0) * i0, h1 = (p1[i] - u1) * i1, h2 = (p2[i] - u2) * i2,
                     h3 = (p3[i] - u3) * i3;
        a0 += q0[i], a1 += q1[i], a2 += q2[i], a3 += q3[i];
        b0 += q0[i] * h0, b1 += q1[i] * h1, b2 += q2[i] * h2, b3 += q3[i] * h3;
      }
    }
    s1[0] = a0, s1[1] = a1, s1[2] = a2, s1[3] = a3;
    s2[0] = b0, s2[1] = b1, s2[2] = b2, s2[3] = b3;
    return;
  }
  for (size_t k = 0; k < w; k++) {
    double a = 0, b = 0;
    const double u = mu[k], v = is[k];
    for (size_t s = 0; s < nb; s++) {
      const size_t o = (s * C + c0 + k) * HW;
      for (size_t i = 0; i < HW; i++) {
        const double h = (x[o + i] - u) * v;
        a += dy[o + i], b += dy[o + i] * h;
      }
    }
    s1[k] = a, s2[k] = b;
  }
}

/* the groups of the chunk: ng groups of BN_GW channels (the last one
 * narrower), in parallel when the chunk is large enough */
#define BN_NG(C) (((C) + BN_GW - 1) / BN_GW)
#define BN_PAR(c) ((c)->nb * (c)->l->ic * (c)->l->ih * (c)->l->iw >= BN_PAR_MIN && BN_NG((c)->l->ic) > 1)
#define BN_GROUP(g, C, c0, w) const size_t c0 = (size_t)(g) * BN_GW, w = (C) - c0 < BN_GW ? (C) - c0 : BN_GW

static void FN(bn_fwd)(nn_call *c) {
  const nn_layer *l = c->l;
  BN_GEO(c);
  const REAL *x = CX(c, 0), *W = BN_THETA(c, W);
  REAL *y = CY(c);
  double *mu = BN_AUX(c, BN_MU), *is = BN_AUX(c, BN_IS);
  float *st = c->state;
  const int on = c->batch_on, commit = c->commit && st;
  const double mom = l->momentum, eps = l->eps;
  const ptrdiff_t ng = (ptrdiff_t)BN_NG(C);
  const int par = BN_PAR(c);
  (void)par; /* without OpenMP */
#pragma omp parallel for schedule(dynamic, 1) if (par)
  for (ptrdiff_t g = 0; g < ng; g++) {
    BN_GROUP(g, C, c0, w);
    if (on) {
      FN(bn_sum)(nb, C, HW, x, c0, w, mu + c0);
      for (size_t ch = c0; ch < c0 + w; ch++) mu[ch] /= M;
      FN(bn_ssq)(nb, C, HW, x, c0, w, mu + c0, is + c0);
      for (size_t ch = c0; ch < c0 + w; ch++) {
        const double ss = is[ch], m = mom;
        if (commit) { /* torch's order; M ≥ 2 (nn_whole_batch) */
          st[ch] = (float)(m * mu[ch] + (1 - m) * st[ch]);
          st[C + ch] = (float)(m * (ss / (M - 1)) + (1 - m) * st[C + ch]);
        }
        is[ch] = 1 / sqrt(ss / M + eps);
      }
    } else {
      for (size_t ch = c0; ch < c0 + w; ch++) {
        mu[ch] = st ? st[ch] : 0;
        is[ch] = 1 / sqrt((st ? (double)st[C + ch] : 1.0) + eps);
      }
    }
    for (size_t ch = c0; ch < c0 + w; ch++) {
      const double u = mu[ch], v = is[ch], ga = BN_G(ch), be = BN_B(ch);
      for (size_t s = 0; s < nb; s++) {
        const REAL *xp = x + (s * C + ch) * HW;
        REAL *yp = y + (s * C + ch) * HW;
#pragma omp simd
        for (size_t i = 0; i < HW; i++) yp[i] = (REAL)((xp[i] - u) * v * ga + be);
      }
    }
  }
}

static void FN(bn_rop)(nn_call *c) {
  BN_GEO(c);
  const REAL *x = CX(c, 0), *rx = CRX(c, 0), *W = BN_THETA(c, W), *V = BN_THETA(c, V);
  REAL *ry = CRY(c);
  const double *mu = BN_AUX(c, BN_MU), *is = BN_AUX(c, BN_IS);
  double *m1 = BN_AUX(c, BN_M1), *m2 = BN_AUX(c, BN_M2);
  const int on = c->batch_on;
  const ptrdiff_t ng = (ptrdiff_t)BN_NG(C);
  const int par = BN_PAR(c);
  (void)par;
#pragma omp parallel for schedule(dynamic, 1) if (par)
  for (ptrdiff_t g = 0; g < ng; g++) {
    BN_GROUP(g, C, c0, w);
    for (size_t ch = c0; ch < c0 + w; ch++) {
      const double u = mu[ch], v = is[ch];
      double a = 0, b = 0;
      if (rx && on) {
        for (size_t s = 0; s < nb; s++)
          for (size_t i = (s * C + ch) * HW, e = i + HW; i < e; i++) a += rx[i], b += (x[i] - u) * v * rx[i];
        a /= M, b /= M;
      }
      m1[ch] = a, m2[ch] = b;
      const double ga = BN_G(ch), va = V ? (double)V[ch] : 0.0, vb = V ? (double)V[C + ch] : 0.0;
      for (size_t s = 0; s < nb; s++) {
        const size_t o = (s * C + ch) * HW;
        const REAL *xp = x + o;
        REAL *rp = ry + o;
        if (rx) {
          const REAL *rxp = rx + o;
          if (V) {
#pragma omp simd
            for (size_t i = 0; i < HW; i++) {
              const double xh = (xp[i] - u) * v;
              rp[i] = (REAL)(ga * (v * (rxp[i] - a - xh * b)) + (va * xh + vb));
            }
          } else {
#pragma omp simd
            for (size_t i = 0; i < HW; i++) {
              const double xh = (xp[i] - u) * v;
              rp[i] = (REAL)(ga * (v * (rxp[i] - a - xh * b)) + 0.0);
            }
          }
        } else {
#pragma omp simd
          for (size_t i = 0; i < HW; i++) {
            const double xh = (xp[i] - u) * v;
            rp[i] = (REAL)(ga * 0.0 + (V ? va * xh + vb : 0.0));
          }
        }
      }
    }
  }
}

static void FN(bn_vjp)(nn_call *c) {
  BN_GEO(c);
  const REAL *x = CX(c, 0), *rx = CRX(c, 0), *dy = CDY(c), *rdy = CRDY(c);
  const REAL *W = BN_THETA(c, W), *V = BN_THETA(c, V);
  REAL *dx = CDX(c, 0), *rdx = CRDX(c, 0), *gW = c->gW, *hW = rdy ? (REAL *)c->hW : NULL;
  const double *mu = BN_AUX(c, BN_MU), *is = BN_AUX(c, BN_IS), *m1 = BN_AUX(c, BN_M1), *m2 = BN_AUX(c, BN_M2);
  double *s1 = BN_AUX(c, BN_S1), *s2 = BN_AUX(c, BN_S2), *s3 = BN_AUX(c, BN_S3), *s4 = BN_AUX(c, BN_S4);
  const double k = c->batch_on ? 1 / M : 0; /* A = k·s1, B = k·s2, RA = k·s3, RB = k·s4 */
  const ptrdiff_t ng = (ptrdiff_t)BN_NG(C);
  const int par = BN_PAR(c);
  (void)par;
#pragma omp parallel for schedule(dynamic, 1) if (par)
  for (ptrdiff_t g = 0; g < ng; g++) {
    BN_GROUP(g, C, c0, w);
    if (!rdy) {
      FN(bn_dsum)(nb, C, HW, x, dy, c0, w, mu + c0, is + c0, s1 + c0, s2 + c0);
    } else { /* with the R-pass: one channel at a time, the four sums of one value together */
      for (size_t ch = c0; ch < c0 + w; ch++) {
        const double u = mu[ch], v = is[ch], a1 = m1[ch], a2 = m2[ch];
        double t1 = 0, t2 = 0, t3 = 0, t4 = 0;
        for (size_t s = 0; s < nb; s++)
          for (size_t i = (s * C + ch) * HW, e = i + HW; i < e; i++) {
            const double xh = (x[i] - u) * v;
            t1 += dy[i], t2 += dy[i] * xh;
            t3 += rdy[i], t4 += rdy[i] * xh + dy[i] * (rx ? v * (rx[i] - a1 - xh * a2) : 0.0);
          }
        s1[ch] = t1, s2[ch] = t2, s3[ch] = t3, s4[ch] = t4;
      }
    }
    for (size_t ch = c0; ch < c0 + w; ch++) {
      if (gW) gW[ch] = (REAL)s2[ch], gW[C + ch] = (REAL)s1[ch];
      if (hW) hW[ch] = (REAL)s4[ch], hW[C + ch] = (REAL)s3[ch];
    }
    if (!dx) continue;
    for (size_t ch = c0; ch < c0 + w; ch++) {
      const double u = mu[ch], v = is[ch], ga = BN_G(ch);
      const double ka = k * s1[ch], kb = k * s2[ch], gv = ga * v;
      for (size_t s = 0; s < nb; s++) {
        const size_t o = (s * C + ch) * HW;
        const REAL *xp = x + o, *dp = dy + o;
        REAL *dxp = dx + o;
        if (!rdy) {
#pragma omp simd
          for (size_t i = 0; i < HW; i++) {
            const double xh = (xp[i] - u) * v;
            dxp[i] = (REAL)(gv * (dp[i] - ka - xh * kb));
          }
          continue;
        }
        /* γ·s·u = (γ·s)·u; vg·s·u + γ·Rs·u + γ·s·ru, Rs = −s²·m2 = ((−s)·s)·m2 */
        const double a1 = m1[ch], a2 = m2[ch], rs = -v * v * a2, vg = V ? (double)V[ch] : 0.0;
        const double kc = k * s3[ch], kd = k * s4[ch], vgv = vg * v, grs = ga * rs;
        const REAL *rdp = rdy + o, *rxp = rx ? rx + o : NULL;
        REAL *rdxp = rdx + o;
        for (size_t i = 0; i < HW; i++) {
          const double xh = (xp[i] - u) * v;
          const double uu = dp[i] - ka - xh * kb;
          dxp[i] = (REAL)(gv * uu);
          const double rxh = rxp ? v * (rxp[i] - a1 - xh * a2) : 0.0;
          const double ru = rdp[i] - kc - rxh * kb - xh * kd;
          rdxp[i] = (REAL)(vgv * uu + grs * uu + gv * ru);
        }
      }
    }
  }
}
#endif
