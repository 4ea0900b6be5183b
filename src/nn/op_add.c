/* add: y = x_0 + x_1 + … (torch's `a + b`: a residual connection, He et
 * al. 2016), every input of the same shape, summed in input order. Linear:
 *   R{y} = Σ_j Rx_j,   δ_{x_j} = δ,   R{δ_{x_j}} = Rδ.
 * Where an input also feeds other nodes (the identity path of a residual
 * block), the engine adds the δ of its consumers (run.inc). */
#ifndef REAL
#include <stdio.h>

#include "ncopt/status.h"
#include "nn/internal.h"

static int add_infer(nn_layer *l) {
  for (size_t j = 1; j < l->nin; j++)
    if (l->jc[j] != l->ic || l->jh[j] != l->ih || l->jw[j] != l->iw || l->jflat[j] != l->in_flat) {
      char a[64], b[64];
      nn_input_shape_text(l, 0, a, sizeof a), nn_input_shape_text(l, j, b, sizeof b);
      return nco_error(NCO_ERR_SHAPE, "add needs inputs of one shape: input 1 is %s, input %zu is %s", a, j + 1, b);
    }
  l->oc = l->ic, l->oh = l->ih, l->ow = l->iw, l->out_flat = l->in_flat;
  return NCO_OK;
}

/* No torch module: the sum is an expression in forward() */
static int add_repr(const nn_layer *l, char *buf, size_t len, int *mixed) {
  (void)l, (void)mixed;
  snprintf(buf, len, "Add()");
  return NCO_OK;
}

static void add_describe(const nn_layer *l, char *buf, size_t len) {
  (void)l;
  snprintf(buf, len, " add");
}

#define NN_TEMPLATE "nn/op_add.c"
#include "nn/twice.h"

const nn_op_vt nn_op_add = {
    .name = "add",
    .kind = NCO_NN_ADD,
    .min_in = 2,
    .max_in = NN_MAX_IN,
    .infer = add_infer,
    .fwd = NN_BOTH(add_fwd),
    .rop = NN_BOTH(add_rop),
    .vjp = NN_BOTH(add_vjp),
    .repr = add_repr,
    .describe = add_describe,
};

#else /* the template */
#include "nn/real.inc"

static void FN(add_fwd)(nn_call *c) {
  const size_t n = c->nb * c->l->out_size;
  REAL *y = CY(c);
  const size_t nin = c->l->nin;
  const REAL *const *x = (const REAL *const *)c->x;
  /* block by block: y = x0, then += x1, ... (the same sums in the same order) */
  NN_EW_PFOR(n, memcpy(y + lo_, x[0] + lo_, len_ * sizeof(REAL));
             for (size_t j = 1; j < nin; j++) FN(vadd)(len_, x[j] + lo_, y + lo_););
}

/* inputs without a tangent (rx NULL: no θ dependence) contribute 0 */
static void FN(add_rop)(nn_call *c) {
  const size_t n = c->nb * c->l->out_size;
  REAL *ry = CRY(c);
  int first = 1;
  for (size_t j = 0; j < c->l->nin; j++) {
    if (!c->rx[j]) continue;
    if (first) FN(vcopy_par)(n, CRX(c, j), ry), first = 0;
    else FN(vadd_par)(n, CRX(c, j), ry);
  }
  if (first) memset(ry, 0, n * sizeof(REAL));
}

static void FN(add_vjp)(nn_call *c) {
  const size_t n = c->nb * c->l->out_size;
  for (size_t j = 0; j < c->l->nin; j++) {
    if (c->dx[j]) FN(vcopy_par)(n, CDY(c), CDX(c, j));
    if (c->rdx[j] && c->rdy) FN(vcopy_par)(n, CRDY(c), CRDX(c, j));
  }
}
#endif
