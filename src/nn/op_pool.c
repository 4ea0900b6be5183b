/* maxpool2d and avgpool2d (nn.MaxPool2d / nn.AvgPool2d, no padding, floor
 * mode): k×k windows, stride (0 = k, torch's default), kernels of conv.c.
 * Both are linear in x for a fixed selection: max pooling gathers the
 * argmax of each window (ties to the first element, as torch), so
 * R{y} = Rx[argmax] and the VJP scatters δ there; average pooling is
 * linear, R{y} = avgpool(Rx). */
#ifndef REAL
#include <math.h>
#include <stdio.h>

#include "ncopt/status.h"
#include "nn/internal.h"

static int pool_infer(nn_layer *l) {
  int st;
  if (l->stride == 0) l->stride = l->kh;
  l->kw = l->kh;
  if (l->in_flat)
    return nco_error(NCO_ERR_SHAPE, "needs a (channels, height, width) input, got %zu flat features", l->in_size);
  if ((st = nco_pool_shape_init(1, l->ic, l->ih, l->iw, l->kh, l->stride, &l->oh, &l->ow)))
    return nco_error_context(st, "input (%zu, %zu, %zu)", l->ic, l->ih, l->iw);
  l->oc = l->ic, l->out_flat = 0;
  return NCO_OK;
}

static size_t maxpool_aux(const nn_layer *l, size_t cap, size_t esz) {
  (void)esz;
  return cap * l->out_size * sizeof(int32_t);
}

static int maxpool_repr(const nn_layer *l, char *buf, size_t len, int *mixed) {
  (void)mixed;
  snprintf(buf, len, "MaxPool2d(kernel_size=%zu, stride=%zu, padding=0, dilation=1, ceil_mode=False)", l->kh,
           l->stride);
  return NCO_OK;
}

static int avgpool_repr(const nn_layer *l, char *buf, size_t len, int *mixed) {
  (void)mixed;
  snprintf(buf, len, "AvgPool2d(kernel_size=%zu, stride=%zu, padding=0)", l->kh, l->stride);
  return NCO_OK;
}

static void maxpool_describe(const nn_layer *l, char *buf, size_t len) {
  snprintf(buf, len, " maxpool(%zu,%zu)", l->kh, l->stride);
}

static void avgpool_describe(const nn_layer *l, char *buf, size_t len) {
  snprintf(buf, len, " avgpool(%zu,%zu)", l->kh, l->stride);
}

#define NN_TEMPLATE "nn/op_pool.c"
#include "nn/twice.h"

const nn_op_vt nn_op_maxpool2d = {
    .name = "maxpool2d",
    .kind = NCO_NN_MAXPOOL2D,
    .min_in = 1,
    .max_in = 1,
    .infer = pool_infer,
    .aux_bytes = maxpool_aux,
    .fwd = NN_BOTH(maxpool_fwd),
    .rop = NN_BOTH(maxpool_rop),
    .vjp = NN_BOTH(maxpool_vjp),
    .margin = NN_BOTH(maxpool_margin),
    .repr = maxpool_repr,
    .describe = maxpool_describe,
};

const nn_op_vt nn_op_avgpool2d = {
    .name = "avgpool2d",
    .kind = NCO_NN_AVGPOOL2D,
    .min_in = 1,
    .max_in = 1,
    .infer = pool_infer,
    .fwd = NN_BOTH(avgpool_fwd),
    .rop = NN_BOTH(avgpool_rop),
    .vjp = NN_BOTH(avgpool_vjp),
    .repr = avgpool_repr,
    .describe = avgpool_describe,
};

#else /* the template */
#include "nn/real.inc"

#define MAXP_FWD NN_CAT(nco_maxpool_forward, SFX)
#define MAXP_BWD NN_CAT(nco_maxpool_backward, SFX)
#define AVGP_FWD NN_CAT(nco_avgpool_forward, SFX)
#define AVGP_BWD NN_CAT(nco_avgpool_backward, SFX)

static void FN(maxpool_fwd)(nn_call *c) {
  const nn_layer *l = c->l;
  MAXP_FWD(c->nb, l->ic, l->ih, l->iw, l->kh, l->stride, CX(c, 0), CY(c), (int32_t *)c->aux);
}

/* Ry[n,c,o] = Rx[n,c,argmax[n,c,o]] */
static void FN(maxpool_rop)(nn_call *c) {
  const nn_layer *l = c->l;
  const size_t in_plane = l->ih * l->iw, out_plane = l->oh * l->ow, planes = c->nb * l->oc;
  const int32_t *am = c->aux;
  const REAL *rx = CRX(c, 0);
  REAL *ry = CRY(c);
  for (size_t pl = 0; pl < planes; pl++) {
    const REAL *src = rx + pl * in_plane;
    const int32_t *a = am + pl * out_plane;
    REAL *dst = ry + pl * out_plane;
    for (size_t o = 0; o < out_plane; o++) dst[o] = src[a[o]];
  }
}

static void FN(maxpool_vjp)(nn_call *c) {
  const nn_layer *l = c->l;
  MAXP_BWD(c->nb, l->ic, l->ih, l->iw, l->kh, l->stride, CDY(c), c->aux, CDX(c, 0));
  if (c->rdy) MAXP_BWD(c->nb, l->ic, l->ih, l->iw, l->kh, l->stride, CRDY(c), c->aux, CRDX(c, 0));
}

/* The smallest gap between the largest and second-largest entry of a window. */
static double FN(maxpool_margin)(nn_call *c) {
  const nn_layer *l = c->l;
  const REAL *x = CX(c, 0);
  const size_t H = l->ih, W = l->iw, k = l->kh, st = l->stride;
  double mg = INFINITY;
  for (size_t pl = 0; pl < c->nb * l->ic; pl++) {
    const REAL *xp = x + pl * H * W;
    for (size_t p = 0; p < l->oh; p++)
      for (size_t q = 0; q < l->ow; q++) {
        double b1 = -INFINITY, b2 = -INFINITY;
        for (size_t i = 0; i < k; i++)
          for (size_t j = 0; j < k; j++) {
            double v = xp[(p * st + i) * W + q * st + j];
            if (v > b1) {
              b2 = b1, b1 = v;
            } else if (v > b2) {
              b2 = v;
            }
          }
        if (k * k > 1 && b1 - b2 < mg) mg = b1 - b2;
      }
  }
  return mg;
}

static void FN(avgpool_fwd)(nn_call *c) {
  const nn_layer *l = c->l;
  AVGP_FWD(c->nb, l->ic, l->ih, l->iw, l->kh, l->stride, CX(c, 0), CY(c));
}

static void FN(avgpool_rop)(nn_call *c) {
  const nn_layer *l = c->l;
  AVGP_FWD(c->nb, l->ic, l->ih, l->iw, l->kh, l->stride, CRX(c, 0), CRY(c));
}

static void FN(avgpool_vjp)(nn_call *c) {
  const nn_layer *l = c->l;
  AVGP_BWD(c->nb, l->ic, l->ih, l->iw, l->kh, l->stride, CDY(c), CDX(c, 0));
  if (c->rdy) AVGP_BWD(c->nb, l->ic, l->ih, l->iw, l->kh, l->stride, CRDY(c), CRDX(c, 0));
}

#undef MAXP_FWD
#undef MAXP_BWD
#undef AVGP_FWD
#undef AVGP_BWD
#endif
