/* conv2d (nn.Conv2d): y = W ⋆ x + b, im2col + GEMM kernels of conv.c,
 * stride, zero padding, dilation, PyTorch's NCHW layout. Bilinear in (x, W)
 * (Pearlmutter 1994, §4):
 *   R{y} = V ⋆ x + V_b + W ⋆ Rx;
 *   ∇W = corr(x, δ), ∇b = Σ δ, δ_x = Wᵀ ⋆ δ;
 *   R{∇W} = corr(x, Rδ) + corr(Rx, δ), R{δ_x} = Wᵀ ⋆ Rδ + Vᵀ ⋆ δ. */
#ifndef REAL
#include <stdio.h>

#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "nn/internal.h"

/* The dilation (0 in a node spec means 1). */
static size_t conv_dil(const nn_layer *l) { return l->dil ? l->dil : 1; }

static int conv_infer(nn_layer *l) {
  nco_conv_shape s;
  int st;
  const size_t K = l->oc;
  if (l->in_flat)
    return nco_error(NCO_ERR_SHAPE, "needs a (channels, height, width) input, got %zu flat features",
                     l->in_size);
  if ((st = nco_conv_shape_init_dil(&s, 1, l->ic, l->ih, l->iw, K, l->kh, l->kw, l->stride, l->pad, conv_dil(l))))
    return nco_error_context(st, "input (%zu, %zu, %zu)", l->ic, l->ih, l->iw);
  l->oh = s.OH, l->ow = s.OW, l->out_flat = 0;
  size_t taps;
  if (nco_mul_size(l->ic, l->kh * l->kw, &taps) || nco_mul_size(taps, K, &l->nw))
    return nco_error(NCO_ERR_OVERFLOW, "weights overflow");
  l->nb = l->nb ? K : 0;
  l->fan_in = taps, l->fan_out = K * l->kh * l->kw;
  return NCO_OK;
}

static void conv_shape(const nn_layer *l, size_t nb, nco_conv_shape *s) {
  /* validated at node creation and at workspace allocation (N = cap ≥ nb) */
  (void)nco_conv_shape_init_dil(s, nb, l->ic, l->ih, l->iw, l->oc, l->kh, l->kw, l->stride, l->pad, conv_dil(l));
}

static size_t conv_ws(const nn_layer *l, size_t cap) {
  nco_conv_shape s;
  conv_shape(l, cap, &s);
  return nco_conv_workspace(&s);
}

/* torch's extra_repr: padding only when ≠ 0, dilation only when ≠ 1 */
static int conv_repr(const nn_layer *l, char *buf, size_t len, int *mixed) {
  char pad[64] = "", dil[64] = "";
  (void)mixed;
  if (l->pad) snprintf(pad, sizeof pad, ", padding=(%zu, %zu)", l->pad, l->pad);
  if (conv_dil(l) != 1) snprintf(dil, sizeof dil, ", dilation=(%zu, %zu)", l->dil, l->dil);
  snprintf(buf, len, "Conv2d(%zu, %zu, kernel_size=(%zu, %zu), stride=(%zu, %zu)%s%s%s)", l->ic, l->oc, l->kh, l->kw,
           l->stride, l->stride, pad, dil, l->nb ? "" : ", bias=False");
  return NCO_OK;
}

static void conv_describe(const nn_layer *l, char *buf, size_t len) {
  char dil[32] = "";
  if (conv_dil(l) != 1) snprintf(dil, sizeof dil, " d%zu", l->dil);
  snprintf(buf, len, " %s(%zu->%zu %zux%zu s%zu p%zu%s%s)", l->name, l->ic, l->oc, l->kh, l->kw, l->stride, l->pad,
           dil, l->nb ? "" : " nobias");
}

#define NN_TEMPLATE "nn/op_conv.c"
#include "nn/twice.h"

const nn_op_vt nn_op_conv2d = {
    .name = "conv2d",
    .kind = NCO_NN_CONV2D,
    .min_in = 1,
    .max_in = 1,
    .infer = conv_infer,
    .init = nn_init_affine,
    .ws_elems = conv_ws,
    .fwd = NN_BOTH(conv_fwd),
    .rop = NN_BOTH(conv_rop),
    .vjp = NN_BOTH(conv_vjp),
    .repr = conv_repr,
    .describe = conv_describe,
};

#else /* the template */
#include "nn/real.inc"

#define CONV_FWD NN_CAT(nco_conv2d_forward, SFX)
#define CONV_BWD NN_CAT(nco_conv2d_backward, SFX)

static void FN(conv_fwd)(nn_call *c) {
  const nn_layer *l = c->l;
  const REAL *W = c->W, *b = l->nb ? W + l->nw : NULL;
  nco_conv_shape s;
  conv_shape(l, c->nb, &s);
  CONV_FWD(&s, CX(c, 0), W, b, CY(c), (REAL *)c->sc->ws);
}

/* R{W ⋆ x + b} = V ⋆ x + V_b + W ⋆ Rx */
static void FN(conv_rop)(nn_call *c) {
  const nn_layer *l = c->l;
  const REAL *W = c->W, *V = c->V, *Vb = l->nb ? V + l->nw : NULL;
  REAL *ws = (REAL *)c->sc->ws, *tx = (REAL *)c->sc->tx;
  nco_conv_shape s;
  conv_shape(l, c->nb, &s);
  CONV_FWD(&s, CX(c, 0), V, Vb, CRY(c), ws);
  if (c->rx[0]) {
    CONV_FWD(&s, CRX(c, 0), W, NULL, tx, ws);
    FN(vadd)(c->nb * l->out_size, tx, CRY(c));
  }
}

static void FN(conv_vjp)(nn_call *c) {
  const nn_layer *l = c->l;
  const REAL *x = CX(c, 0), *W = c->W;
  const REAL *dy = CDY(c), *rdy = CRDY(c);
  REAL *gW = c->gW, *gb = gW && l->nb ? gW + l->nw : NULL;
  REAL *hW = rdy ? (REAL *)c->hW : NULL, *hb = hW && l->nb ? hW + l->nw : NULL;
  REAL *dx = CDX(c, 0), *rdx = CRDX(c, 0), *ws = (REAL *)c->sc->ws;
  nco_conv_shape s;
  conv_shape(l, c->nb, &s);
  if (gW || gb || dx) CONV_BWD(&s, x, W, dy, dx, gW, gb, ws);
  if (!rdy) return;
  /* R{∇W} = corr(x, Rδ) + corr(Rx, δ);  R{δ_x} = Wᵀ⋆Rδ + Vᵀ⋆δ */
  CONV_BWD(&s, x, W, rdy, dx ? rdx : NULL, hW, hb, ws);
  if (dx) {
    REAL *tw = (REAL *)c->sc->tw, *tx = (REAL *)c->sc->tx;
    CONV_BWD(&s, CRX(c, 0), (const REAL *)c->V, dy, tx, tw, NULL, ws);
    FN(vadd)(l->nw, tw, hW);
    FN(vadd)(c->nb * l->in_size, tx, rdx);
  }
}

#undef CONV_FWD
#undef CONV_BWD
#endif
