/* upsample (nn.Upsample(scale_factor = s), integer s ≥ 1): (C, H, W) →
 * (C, s·H, s·W), as torch computes it:
 *   nearest   y[c, h, w] = x[c, ⌊h/s⌋, ⌊w/s⌋];
 *   bilinear  (align_corners = False) the source coordinate of output h is
 *             max(0, (h + ½)/s − ½) (torch's area_pixel_compute_source_index),
 *             h₀ = ⌊·⌋, h₁ = min(h₀ + 1, H − 1), λ = coordinate − h₀, and y
 *             the λ-weighted mean of the four neighbours, in torch's order.
 * Both are linear in x: R{y} = up(Rx), δ_x = upᵀ δ (scattered in output
 * order: deterministic). */
#ifndef REAL
#include <stdio.h>

#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "nn/internal.h"

static int up_infer(nn_layer *l) {
  if (l->in_flat)
    return nco_error(NCO_ERR_SHAPE, "needs a (channels, height, width) input, got %zu flat features", l->in_size);
  if (l->stride < 1) return nco_error(NCO_ERR_RANGE, "scale_factor must be a whole number >= 1");
  if (nco_mul_size(l->ih, l->stride, &l->oh) || nco_mul_size(l->iw, l->stride, &l->ow))
    return nco_error(NCO_ERR_OVERFLOW, "output size overflows");
  l->oc = l->ic, l->out_flat = 0;
  return NCO_OK;
}

static int up_repr(const nn_layer *l, char *buf, size_t len, int *mixed) {
  (void)mixed;
  snprintf(buf, len, "Upsample(scale_factor=%zu.0, mode='%s')", l->stride, l->umode ? "bilinear" : "nearest");
  return NCO_OK;
}

static void up_describe(const nn_layer *l, char *buf, size_t len) {
  snprintf(buf, len, " upsample(%zu,%s)", l->stride, l->umode ? "bilinear" : "nearest");
}

#define NN_TEMPLATE "nn/op_upsample.c"
#include "nn/twice.h"

const nn_op_vt nn_op_upsample = {
    .name = "upsample",
    .kind = NCO_NN_UPSAMPLE,
    .min_in = 1,
    .max_in = 1,
    .infer = up_infer,
    .fwd = NN_BOTH(up_fwd),
    .rop = NN_BOTH(up_rop),
    .vjp = NN_BOTH(up_vjp),
    .repr = up_repr,
    .describe = up_describe,
};

#else /* the template */
#include "nn/real.inc"

/* Output index o of an axis of n inputs, scale s: the two source indices
 * and weights (nearest: i0 = i1, w0 = 1, w1 = 0). */
static void FN(src)(int bilinear, size_t o, size_t n, size_t s, size_t *i0, size_t *i1, REAL *w0, REAL *w1) {
  if (!bilinear) {
    *i0 = *i1 = o / s, *w0 = 1, *w1 = 0;
    return;
  }
  const REAL scale = (REAL)1 / (REAL)s;
  REAL r = scale * ((REAL)o + (REAL)0.5) - (REAL)0.5;
  if (r < 0) r = 0;
  size_t a = (size_t)r;
  *i0 = a, *i1 = a + (a < n - 1 ? 1 : 0);
  *w1 = r - (REAL)a, *w0 = (REAL)1 - *w1;
}

static void FN(up)(const nn_layer *l, size_t nb, const REAL *x, REAL *y) {
  const size_t H = l->ih, W = l->iw, OH = l->oh, OW = l->ow, s = l->stride;
  const int bl = l->umode;
  for (size_t n = 0; n < nb * l->ic; n++) {
    const REAL *xc = x + n * H * W;
    REAL *yc = y + n * OH * OW;
    for (size_t h = 0; h < OH; h++) {
      size_t h0, h1, w0i, w1i;
      REAL a0, a1, b0, b1;
      FN(src)(bl, h, H, s, &h0, &h1, &a0, &a1);
      for (size_t w = 0; w < OW; w++) {
        FN(src)(bl, w, W, s, &w0i, &w1i, &b0, &b1);
        yc[h * OW + w] = bl ? a0 * (b0 * xc[h0 * W + w0i] + b1 * xc[h0 * W + w1i]) +
                                  a1 * (b0 * xc[h1 * W + w0i] + b1 * xc[h1 * W + w1i])
                            : xc[h0 * W + w0i];
      }
    }
  }
}

/* dx = upᵀ dy: zeroed, then each output's weights scattered back */
static void FN(up_t)(const nn_layer *l, size_t nb, const REAL *dy, REAL *dx) {
  const size_t H = l->ih, W = l->iw, OH = l->oh, OW = l->ow, s = l->stride;
  const int bl = l->umode;
  memset(dx, 0, nb * l->in_size * sizeof(REAL));
  for (size_t n = 0; n < nb * l->ic; n++) {
    REAL *dc = dx + n * H * W;
    const REAL *gc = dy + n * OH * OW;
    for (size_t h = 0; h < OH; h++) {
      size_t h0, h1, w0i, w1i;
      REAL a0, a1, b0, b1;
      FN(src)(bl, h, H, s, &h0, &h1, &a0, &a1);
      for (size_t w = 0; w < OW; w++) {
        const REAL g = gc[h * OW + w];
        FN(src)(bl, w, W, s, &w0i, &w1i, &b0, &b1);
        if (!bl) {
          dc[h0 * W + w0i] += g;
          continue;
        }
        dc[h0 * W + w0i] += a0 * b0 * g, dc[h0 * W + w1i] += a0 * b1 * g;
        dc[h1 * W + w0i] += a1 * b0 * g, dc[h1 * W + w1i] += a1 * b1 * g;
      }
    }
  }
}

static void FN(up_fwd)(nn_call *c) { FN(up)(c->l, c->nb, CX(c, 0), CY(c)); }
static void FN(up_rop)(nn_call *c) { FN(up)(c->l, c->nb, CRX(c, 0), CRY(c)); }
static void FN(up_vjp)(nn_call *c) {
  if (c->dx[0]) FN(up_t)(c->l, c->nb, CDY(c), CDX(c, 0));
  if (c->rdx[0] && c->rdy) FN(up_t)(c->l, c->nb, CRDY(c), CRDX(c, 0));
}
#endif
