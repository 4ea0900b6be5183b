/* global_avgpool (nn.AdaptiveAvgPool2d(1)): (C, H, W) → (C, 1, 1), each
 * channel's mean (summed in double); linear, so R{y} = gap(Rx) and
 * δ_x[c, h, w] = δ[c]/(H·W).
 * unflatten (nn.Unflatten(1, (C, H, W))): any input of C·H·W values seen
 * as (C, H, W), a view like flatten (NN_OPF_ALIAS). */
#ifndef REAL
#include <stdio.h>

#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "nn/internal.h"

static int gap_infer(nn_layer *l) {
  if (l->in_flat)
    return nco_error(NCO_ERR_SHAPE, "needs a (channels, height, width) input, got %zu flat features", l->in_size);
  l->oc = l->ic, l->oh = l->ow = 1, l->out_flat = 0;
  return NCO_OK;
}

static int gap_repr(const nn_layer *l, char *buf, size_t len, int *mixed) {
  (void)l, (void)mixed;
  snprintf(buf, len, "AdaptiveAvgPool2d(output_size=1)");
  return NCO_OK;
}

static void gap_describe(const nn_layer *l, char *buf, size_t len) {
  (void)l;
  snprintf(buf, len, " global_avgpool");
}

/* the node spec's (out, kh, kw) are (channels, height, width) */
static int unflatten_infer(nn_layer *l) {
  size_t n;
  l->oh = l->kh, l->ow = l->kw;
  if (nco_mul_size(l->oc, l->oh, &n) || nco_mul_size(n, l->ow, &n)) return nco_error(NCO_ERR_OVERFLOW, "size overflows");
  if (n != l->in_size)
    return nco_error(NCO_ERR_SHAPE, "(%zu, %zu, %zu) holds %zu values, the input %zu", l->oc, l->oh, l->ow, n,
                     l->in_size);
  l->out_flat = 0;
  return NCO_OK;
}

static int unflatten_repr(const nn_layer *l, char *buf, size_t len, int *mixed) {
  (void)mixed;
  snprintf(buf, len, "Unflatten(dim=1, unflattened_size=(%zu, %zu, %zu))", l->oc, l->oh, l->ow);
  return NCO_OK;
}

static void unflatten_describe(const nn_layer *l, char *buf, size_t len) {
  snprintf(buf, len, " unflatten(%zu,%zu,%zu)", l->oc, l->oh, l->ow);
}

static void view_nop(nn_call *c) { (void)c; }

#define NN_TEMPLATE "nn/op_reshape.c"
#include "nn/twice.h"

const nn_op_vt nn_op_global_avgpool = {
    .name = "global_avgpool",
    .kind = NCO_NN_GLOBAL_AVGPOOL,
    .min_in = 1,
    .max_in = 1,
    .infer = gap_infer,
    .fwd = NN_BOTH(gap_fwd),
    .rop = NN_BOTH(gap_rop),
    .vjp = NN_BOTH(gap_vjp),
    .repr = gap_repr,
    .describe = gap_describe,
};

const nn_op_vt nn_op_unflatten = {
    .name = "unflatten",
    .kind = NCO_NN_UNFLATTEN,
    .flags = NN_OPF_ALIAS,
    .min_in = 1,
    .max_in = 1,
    .infer = unflatten_infer,
    .fwd = {view_nop, view_nop},
    .rop = {view_nop, view_nop},
    .vjp = NN_BOTH(unflatten_vjp),
    .repr = unflatten_repr,
    .describe = unflatten_describe,
};

#else /* the template */
#include "nn/real.inc"

/* y[s, c] = Σ_p x[s, c, p]/(H·W), summed in double */
static void FN(gap)(const nn_layer *l, size_t nb, const REAL *x, REAL *y) {
  const size_t P = l->ih * l->iw;
  const double inv = 1.0 / (double)P;
  for (size_t s = 0; s < nb * l->ic; s++) {
    const REAL *xc = x + s * P;
    double acc = 0;
    for (size_t p = 0; p < P; p++) acc += (double)xc[p];
    y[s] = (REAL)(acc * inv);
  }
}

/* dx[s, c, p] = dy[s, c]/(H·W) */
static void FN(gap_t)(const nn_layer *l, size_t nb, const REAL *dy, REAL *dx) {
  const size_t P = l->ih * l->iw;
  const REAL inv = (REAL)(1.0 / (double)P);
  for (size_t s = 0; s < nb * l->ic; s++) {
    const REAL d = dy[s] * inv;
    REAL *dc = dx + s * P;
    for (size_t p = 0; p < P; p++) dc[p] = d;
  }
}

static void FN(gap_fwd)(nn_call *c) { FN(gap)(c->l, c->nb, CX(c, 0), CY(c)); }
static void FN(gap_rop)(nn_call *c) {
  if (c->rx[0]) FN(gap)(c->l, c->nb, CRX(c, 0), CRY(c));
  else memset(c->ry, 0, c->nb * c->l->out_size * sizeof(REAL));
}
static void FN(gap_vjp)(nn_call *c) {
  if (c->dx[0]) FN(gap_t)(c->l, c->nb, CDY(c), CDX(c, 0));
  if (c->rdx[0] && c->rdy) FN(gap_t)(c->l, c->nb, CRDY(c), CRDX(c, 0));
}

static void FN(unflatten_vjp)(nn_call *c) {
  const size_t n = c->nb * c->l->in_size;
  if (c->dx[0] && c->dx[0] != c->dy) memcpy(c->dx[0], c->dy, n * sizeof(REAL));
  if (c->rdy && c->rdx[0] && c->rdx[0] != c->rdy) memcpy(c->rdx[0], c->rdy, n * sizeof(REAL));
}
#endif
