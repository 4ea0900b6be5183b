/* linear (nn.Linear): y = x Wᵀ + b for x (nb × in), W (out × in), b (out);
 * a (C, H, W) input is flattened implicitly (flatten + nn.Linear).
 * Bilinear in (x, W), so its R-op and R{VJP} are the same maps with V in
 * place of W or Rx in place of x (Pearlmutter 1994, §4):
 *   R{y} = x Vᵀ + V_b + Rx Wᵀ;
 *   ∇W = δᵀx, ∇b = Σ_s δ_s, δ_x = δ W;
 *   R{∇W} = Rδᵀx + δᵀRx, R{∇b} = Σ_s Rδ_s, R{δ_x} = Rδ W + δ V. */
#ifndef REAL
#include <stdio.h>

#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "nn/internal.h"

static int dense_infer(nn_layer *l) {
  if (l->oc == 0) return nco_error(NCO_ERR_SHAPE, "0 outputs");
  const size_t out = l->oc;
  l->oh = l->ow = 1, l->out_flat = 1;
  if (nco_mul_size(out, l->in_size, &l->nw))
    return nco_error(NCO_ERR_OVERFLOW, "%zu -> %zu overflows", l->in_size, out);
  l->nb = l->nb ? out : 0;
  l->fan_in = l->in_size, l->fan_out = out;
  return NCO_OK;
}

static int dense_repr(const nn_layer *l, char *buf, size_t len, int *mixed) {
  (void)mixed;
  snprintf(buf, len, "Linear(in_features=%zu, out_features=%zu, bias=%s)", l->in_size, l->oc, l->nb ? "True" : "False");
  return NCO_OK;
}

static void dense_describe(const nn_layer *l, char *buf, size_t len) {
  snprintf(buf, len, " %s(%zu->%zu%s)", l->name, l->in_size, l->oc, l->nb ? "" : " nobias");
}

#define NN_TEMPLATE "nn/op_dense.c"
#include "nn/twice.h"

const nn_op_vt nn_op_linear = {
    .name = "linear",
    .kind = NCO_NN_DENSE,
    .min_in = 1,
    .max_in = 1,
    .infer = dense_infer,
    .init = nn_init_affine,
    .fwd = NN_BOTH(dense_fwd),
    .rop = NN_BOTH(dense_rop),
    .vjp = NN_BOTH(dense_vjp),
    .repr = dense_repr,
    .describe = dense_describe,
};

#else /* the template */
#include "nn/real.inc"

/* y = x Wᵀ (+ b) for x (nb × in), W (out × in), y (nb × out); beta = 1
 * adds to y. */
static void FN(dense_apply)(size_t nb, size_t in, size_t out, const REAL *x, const REAL *W,
                            const REAL *b, REAL beta, REAL *y) {
  if (b) {
    if (beta == 0)
      for (size_t s = 0; s < nb; s++) memcpy(y + s * out, b, out * sizeof(REAL));
    else
      for (size_t s = 0; s < nb; s++) FN(vadd)(out, b, y + s * out);
    beta = 1;
  }
  GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)out, (int)in, 1, x, (int)in, W,
       (int)in, beta, y, (int)out);
}

static void FN(dense_fwd)(nn_call *c) {
  const nn_layer *l = c->l;
  const REAL *W = c->W, *b = l->nb ? W + l->nw : NULL;
  FN(dense_apply)(c->nb, l->in_size, l->oc, CX(c, 0), W, b, 0, CY(c));
}

/* R{x Wᵀ + b} = x Vᵀ + V_b + Rx Wᵀ */
static void FN(dense_rop)(nn_call *c) {
  const nn_layer *l = c->l;
  const REAL *W = c->W, *V = c->V, *Vb = l->nb ? V + l->nw : NULL;
  FN(dense_apply)(c->nb, l->in_size, l->oc, CX(c, 0), V, Vb, 0, CRY(c));
  if (c->rx[0]) FN(dense_apply)(c->nb, l->in_size, l->oc, CRX(c, 0), W, NULL, 1, CRY(c));
}

static void FN(dense_vjp)(nn_call *c) {
  const nn_layer *l = c->l;
  const int in = (int)l->in_size, out = (int)l->oc, n = (int)c->nb;
  const REAL *x = CX(c, 0), *rx = CRX(c, 0), *W = c->W, *V = c->V;
  const REAL *dy = CDY(c), *rdy = CRDY(c);
  REAL *gW = c->gW, *gb = gW && l->nb ? gW + l->nw : NULL;
  REAL *hW = rdy ? (REAL *)c->hW : NULL, *hb = hW && l->nb ? hW + l->nw : NULL;
  REAL *dx = CDX(c, 0), *rdx = CRDX(c, 0);
  /* ∇W = δᵀx, ∇b = Σ_s δ_s, δ_x = δ W */
  if (gW) GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, n, 1, dy, out, x, in, 0, gW, in);
  if (gb) FN(colsum)(c->nb, l->oc, dy, c->sc->dacc, gb);
  if (dx) GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in, out, 1, dy, out, W, in, 0, dx, in);
  if (!rdy) return;
  /* R{δᵀx} = Rδᵀx + δᵀRx;  R{Σδ} = ΣRδ;  R{δW} = Rδ W + δ V */
  GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, n, 1, rdy, out, x, in, 0, hW, in);
  if (rx) GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, n, 1, dy, out, rx, in, 1, hW, in);
  if (hb) FN(colsum)(c->nb, l->oc, rdy, c->sc->dacc, hb);
  if (dx) {
    GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in, out, 1, rdy, out, W, in, 0, rdx, in);
    GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in, out, 1, dy, out, V, in, 1, rdx, in);
  }
}
#endif
