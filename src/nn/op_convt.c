/* conv_transpose2d (nn.ConvTranspose2d): the adjoint of conv2d with respect
 * to its input, as torch defines it (Dumoulin & Visin 2016, "A guide to
 * convolution arithmetic", §4): for x (N, C_in, H, W) and weights W
 * (C_in, C_out, kh, kw),
 *     y = Tᵀ(W)·x + b,   H_out = (H − 1)·stride − 2·padding + kh + output_padding,
 * where T(W) is the conv2d of stride and padding from (C_out, H_out, W_out)
 * to (C_in, H, W) with filters W (conv's (K, C, kh, kw) = (C_in, C_out, ..)
 * is torch's transposed-conv layout). So every pass is a conv.c kernel:
 *     forward  y = conv2d_backward_data(x)               (col2im of Wᵀx)
 *     δ_x      = conv2d_forward(δ)                        (T(W)·δ)
 *     ∇W       = conv2d_backward_weight(input δ, grad x)  (corr(δ, x))
 *     ∇b       = Σ_{n,p} δ
 * and, bilinear in (x, W) (Pearlmutter 1994, §4):
 *     R{y} = Tᵀ(V)·x + V_b + Tᵀ(W)·Rx,
 *     R{δ_x} = T(W)·Rδ + T(V)·δ,  R{∇W} = corr(Rδ, x) + corr(δ, Rx). */
#ifndef REAL
#include <stdio.h>

#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "nn/internal.h"

static int convt_infer(nn_layer *l) {
  nco_conv_shape s;
  int st;
  if (l->in_flat)
    return nco_error(NCO_ERR_SHAPE, "needs a (channels, height, width) input, got %zu flat features", l->in_size);
  if (l->opad >= l->stride)
    return nco_error(NCO_ERR_SHAPE, "output_padding %zu must be smaller than the stride %zu (as in torch)", l->opad,
                     l->stride);
  /* (H − 1)·s + kh + output_padding − 2·padding, each without overflow */
  size_t hs, ws, hi, wi;
  if (nco_mul_size(l->ih - 1, l->stride, &hs) || nco_mul_size(l->iw - 1, l->stride, &ws) ||
      nco_add_size(hs, l->kh + l->opad, &hi) || nco_add_size(ws, l->kw + l->opad, &wi))
    return nco_error(NCO_ERR_OVERFLOW, "output size overflows");
  if (hi <= 2 * l->pad || wi <= 2 * l->pad)
    return nco_error(NCO_ERR_SHAPE, "padding %zu leaves no output for the input (%zu, %zu, %zu) and kernel %zux%zu",
                     l->pad, l->ic, l->ih, l->iw, l->kh, l->kw);
  l->oh = hi - 2 * l->pad, l->ow = wi - 2 * l->pad, l->out_flat = 0;
  if ((st = nco_conv_shape_init(&s, 1, l->oc, l->oh, l->ow, l->ic, l->kh, l->kw, l->stride, l->pad)))
    return nco_error_context(st, "input (%zu, %zu, %zu)", l->ic, l->ih, l->iw);
  if (s.OH != l->ih || s.OW != l->iw) /* cannot happen for output_padding < stride: a guard */
    return nco_error(NCO_ERR_SHAPE, "output (%zu, %zu, %zu) does not map back to the input", l->oc, l->oh, l->ow);
  size_t taps;
  if (nco_mul_size(l->oc, l->kh * l->kw, &taps) || nco_mul_size(taps, l->ic, &l->nw))
    return nco_error(NCO_ERR_OVERFLOW, "weights overflow");
  l->nb = l->nb ? l->oc : 0;
  /* torch's fan-in of a (C_in, C_out, kh, kw) weight: size(1)·kh·kw */
  l->fan_in = taps, l->fan_out = l->ic * l->kh * l->kw;
  return NCO_OK;
}

/* T(W)'s shape: the conv2d from the output (C_out, H_out, W_out) to the input */
static void convt_shape(const nn_layer *l, size_t nb, nco_conv_shape *s) {
  (void)nco_conv_shape_init(s, nb, l->oc, l->oh, l->ow, l->ic, l->kh, l->kw, l->stride, l->pad);
}

static size_t convt_ws(const nn_layer *l, size_t cap) {
  nco_conv_shape s;
  convt_shape(l, cap, &s);
  return nco_conv_workspace(&s);
}

static int convt_repr(const nn_layer *l, char *buf, size_t len, int *mixed) {
  char pad[64] = "", op[64] = "";
  (void)mixed;
  if (l->pad) snprintf(pad, sizeof pad, ", padding=(%zu, %zu)", l->pad, l->pad);
  if (l->opad) snprintf(op, sizeof op, ", output_padding=(%zu, %zu)", l->opad, l->opad);
  snprintf(buf, len, "ConvTranspose2d(%zu, %zu, kernel_size=(%zu, %zu), stride=(%zu, %zu)%s%s%s)", l->ic, l->oc, l->kh,
           l->kw, l->stride, l->stride, pad, op, l->nb ? "" : ", bias=False");
  return NCO_OK;
}

static void convt_describe(const nn_layer *l, char *buf, size_t len) {
  snprintf(buf, len, " %s(%zu->%zu %zux%zu s%zu p%zu op%zu%s)", l->name, l->ic, l->oc, l->kh, l->kw, l->stride, l->pad,
           l->opad, l->nb ? "" : " nobias");
}

#define NN_TEMPLATE "nn/op_convt.c"
#include "nn/twice.h"

const nn_op_vt nn_op_conv_transpose2d = {
    .name = "conv_transpose2d",
    .kind = NCO_NN_CONV_TRANSPOSE2D,
    .min_in = 1,
    .max_in = 1,
    .infer = convt_infer,
    .init = nn_init_affine,
    .ws_elems = convt_ws,
    .fwd = NN_BOTH(convt_fwd),
    .rop = NN_BOTH(convt_rop),
    .vjp = NN_BOTH(convt_vjp),
    .repr = convt_repr,
    .describe = convt_describe,
};

#else /* the template */
#include "nn/real.inc"

#define CONV_FWD NN_CAT(nco_conv2d_forward, SFX)
#define CONV_BWD NN_CAT(nco_conv2d_backward, SFX)

/* y[n, c, :] += b[c] */
static void FN(add_bias)(const nn_layer *l, size_t nb, const REAL *b, REAL *y) {
  const size_t P = l->oh * l->ow;
  for (size_t n = 0; n < nb; n++)
    for (size_t c = 0; c < l->oc; c++) {
      REAL *yc = y + (n * l->oc + c) * P;
      const REAL bc = b[c];
      for (size_t p = 0; p < P; p++) yc[p] += bc;
    }
}

/* db[c] = Σ_n Σ_p dy[n, c, p], in double, n ascending */
static void FN(bias_grad)(const nn_layer *l, size_t nb, const REAL *dy, REAL *db) {
  const size_t P = l->oh * l->ow;
  for (size_t c = 0; c < l->oc; c++) {
    double acc = 0;
    for (size_t n = 0; n < nb; n++) {
      const REAL *d = dy + (n * l->oc + c) * P;
      for (size_t p = 0; p < P; p++) acc += (double)d[p];
    }
    db[c] = (REAL)acc;
  }
}

/* y = Tᵀ(W)·x (+ b) */
static void FN(convt_apply)(const nn_layer *l, const nco_conv_shape *s, const REAL *x, const REAL *W, const REAL *b,
                            REAL *y, REAL *ws) {
  CONV_BWD(s, NULL, W, x, y, NULL, NULL, ws);
  if (b) FN(add_bias)(l, s->N, b, y);
}

static void FN(convt_fwd)(nn_call *c) {
  const nn_layer *l = c->l;
  const REAL *W = c->W;
  nco_conv_shape s;
  convt_shape(l, c->nb, &s);
  FN(convt_apply)(l, &s, CX(c, 0), W, l->nb ? W + l->nw : NULL, CY(c), (REAL *)c->sc->ws);
}

static void FN(convt_rop)(nn_call *c) {
  const nn_layer *l = c->l;
  const REAL *W = c->W, *V = c->V;
  REAL *ws = (REAL *)c->sc->ws, *tx = (REAL *)c->sc->tx;
  nco_conv_shape s;
  convt_shape(l, c->nb, &s);
  FN(convt_apply)(l, &s, CX(c, 0), V, l->nb ? V + l->nw : NULL, CRY(c), ws);
  if (c->rx[0]) {
    FN(convt_apply)(l, &s, CRX(c, 0), W, NULL, tx, ws);
    FN(vadd)(c->nb * l->out_size, tx, CRY(c));
  }
}

static void FN(convt_vjp)(nn_call *c) {
  const nn_layer *l = c->l;
  const REAL *x = CX(c, 0), *W = c->W, *dy = CDY(c), *rdy = CRDY(c);
  REAL *gW = c->gW, *hW = rdy ? (REAL *)c->hW : NULL;
  REAL *dx = CDX(c, 0), *rdx = CRDX(c, 0), *ws = (REAL *)c->sc->ws;
  nco_conv_shape s;
  convt_shape(l, c->nb, &s);
  if (dx) CONV_FWD(&s, dy, W, NULL, dx, ws); /* δ_x = T(W)·δ */
  if (gW) {
    CONV_BWD(&s, dy, NULL, x, NULL, gW, NULL, ws); /* ∇W = corr(δ, x) */
    if (l->nb) FN(bias_grad)(l, c->nb, dy, gW + l->nw);
  }
  if (!rdy) return;
  if (hW) {
    CONV_BWD(&s, rdy, NULL, x, NULL, hW, NULL, ws);
    if (c->rx[0]) {
      REAL *tw = (REAL *)c->sc->tw;
      CONV_BWD(&s, dy, NULL, CRX(c, 0), NULL, tw, NULL, ws);
      FN(vadd)(l->nw, tw, hW);
    }
    if (l->nb) FN(bias_grad)(l, c->nb, rdy, hW + l->nw);
  }
  if (dx) {
    REAL *tx = (REAL *)c->sc->tx;
    CONV_FWD(&s, rdy, W, NULL, rdx, ws);
    CONV_FWD(&s, dy, (const REAL *)c->V, NULL, tx, ws);
    FN(vadd)(c->nb * l->in_size, tx, rdx);
  }
}

#undef CONV_FWD
#undef CONV_BWD
#endif
