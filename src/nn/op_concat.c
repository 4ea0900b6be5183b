/* concat: the inputs joined along the channels, torch.cat(xs, dim=1) (a
 * U-Net's skip connection, Ronneberger et al. 2015): images of one height
 * and width give C = Σ C_j channels, feature vectors Σ n_j features. In the
 * batch-major layout a sample's output is its inputs' blocks one after the
 * other, so every pass copies blocks:
 *   y = [x_0; x_1; …],  R{y} = [Rx_0; Rx_1; …],  δ_{x_j} = δ's block j. */
#ifndef REAL
#include <stdio.h>

#include "ncopt/status.h"
#include "nn/internal.h"

static int cat_infer(nn_layer *l) {
  size_t c = l->ic;
  for (size_t j = 1; j < l->nin; j++) {
    if (l->jflat[j] != l->in_flat || l->jh[j] != l->ih || l->jw[j] != l->iw) {
      char a[64], b[64];
      nn_input_shape_text(l, 0, a, sizeof a), nn_input_shape_text(l, j, b, sizeof b);
      return nco_error(NCO_ERR_SHAPE,
                       "concat joins channels of inputs with one height and width (or feature vectors): input 1 is %s, "
                       "input %zu is %s",
                       a, j + 1, b);
    }
    c += l->jc[j];
  }
  l->oc = c, l->oh = l->ih, l->ow = l->iw, l->out_flat = l->in_flat;
  return NCO_OK;
}

static int cat_repr(const nn_layer *l, char *buf, size_t len, int *mixed) {
  (void)l, (void)mixed;
  snprintf(buf, len, "Cat(dim=1)");
  return NCO_OK;
}

static void cat_describe(const nn_layer *l, char *buf, size_t len) {
  snprintf(buf, len, " concat(%zu)", l->oc);
}

#define NN_TEMPLATE "nn/op_concat.c"
#include "nn/twice.h"

const nn_op_vt nn_op_concat = {
    .name = "concat",
    .kind = NCO_NN_CONCAT,
    .min_in = 2,
    .max_in = NN_MAX_IN,
    .infer = cat_infer,
    .fwd = NN_BOTH(cat_fwd),
    .rop = NN_BOTH(cat_rop),
    .vjp = NN_BOTH(cat_vjp),
    .repr = cat_repr,
    .describe = cat_describe,
};

#else /* the template */
#include "nn/real.inc"

/* y's block j ← x_j (x NULL: zeros), sample by sample */
static void FN(cat_in)(const nn_layer *l, size_t nb, const void *const *x, REAL *y) {
  size_t off = 0;
  for (size_t j = 0; j < l->nin; j++) {
    const size_t n = l->jsize[j];
    for (size_t s = 0; s < nb; s++) {
      REAL *dst = y + s * l->out_size + off;
      if (x[j]) memcpy(dst, (const REAL *)x[j] + s * n, n * sizeof(REAL));
      else memset(dst, 0, n * sizeof(REAL));
    }
    off += n;
  }
}

/* x_j ← y's block j, for the x_j wanted (non-NULL) */
static void FN(cat_out)(const nn_layer *l, size_t nb, const REAL *y, void *const *x) {
  size_t off = 0;
  for (size_t j = 0; j < l->nin; j++) {
    const size_t n = l->jsize[j];
    if (x[j])
      for (size_t s = 0; s < nb; s++) memcpy((REAL *)x[j] + s * n, y + s * l->out_size + off, n * sizeof(REAL));
    off += n;
  }
}

static void FN(cat_fwd)(nn_call *c) { FN(cat_in)(c->l, c->nb, c->x, CY(c)); }
static void FN(cat_rop)(nn_call *c) { FN(cat_in)(c->l, c->nb, c->rx, CRY(c)); }

static void FN(cat_vjp)(nn_call *c) {
  FN(cat_out)(c->l, c->nb, CDY(c), c->dx);
  if (c->rdy) FN(cat_out)(c->l, c->nb, CRDY(c), c->rdx);
}
#endif
