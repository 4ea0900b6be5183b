/* dropout (nn.Dropout, inverted): in training mode y = x ⊙ mask with
 * mask ∈ {0, 1/(1 − p)}, drawn per node and batch position from the step's
 * stream (nn.h, "Dropout"); in evaluation mode the identity. Linear for a
 * fixed mask: R{y} = Rx ⊙ mask, δ_x = δ ⊙ mask. */
#ifndef REAL
#include <stdio.h>

#include "ncopt/rng.h"
#include "ncopt/status.h"
#include "nn/internal.h"

static int dropout_infer(nn_layer *l) {
  if (!(l->p >= 0 && l->p < 1))
    return nco_error(NCO_ERR_RANGE, "dropout probability %g is not in [0, 1)", l->p);
  l->oc = l->ic, l->oh = l->ih, l->ow = l->iw, l->out_flat = l->in_flat;
  return NCO_OK;
}

static size_t dropout_aux(const nn_layer *l, size_t cap, size_t esz) { return cap * l->out_size * esz; }

static int dropout_repr(const nn_layer *l, char *buf, size_t len, int *mixed) {
  char f[40];
  (void)mixed;
  nn_py_float(l->p, f, sizeof f);
  snprintf(buf, len, "Dropout(p=%s, inplace=False)", f);
  return NCO_OK;
}

static void dropout_describe(const nn_layer *l, char *buf, size_t len) { snprintf(buf, len, " dropout(%g)", l->p); }

#define NN_TEMPLATE "nn/op_dropout.c"
#include "nn/twice.h"

const nn_op_vt nn_op_dropout = {
    .name = "dropout",
    .kind = NCO_NN_DROPOUT,
    .flags = NN_OPF_TRAIN,
    .min_in = 1,
    .max_in = 1,
    .infer = dropout_infer,
    .aux_bytes = dropout_aux,
    .fwd = NN_BOTH(dropout_fwd),
    .rop = NN_BOTH(dropout_rop),
    .vjp = NN_BOTH(dropout_vjp),
    .repr = dropout_repr,
    .describe = dropout_describe,
};

#else /* the template */
#include "nn/real.inc"

/* mask[s, j] ∈ {0, 1/(1−p)} for batch positions s0 .. s0+nb: the stream
 * derive(step_rng, li·2³² + position) (nn.h). */
static void FN(drop_mask)(const nco_rng *step_rng, size_t li, double p, size_t s0, size_t nb,
                          size_t size, REAL *mask) {
  const REAL keep = (REAL)(1 / (1 - p));
  for (size_t s = 0; s < nb; s++) {
    nco_rng r;
    nco_rng_derive(step_rng, ((uint64_t)li << 32) + (uint64_t)(s0 + s), &r);
    REAL *mk = mask + s * size;
    for (size_t j = 0; j < size; j++) mk[j] = nco_rng_uniform(&r) < p ? 0 : keep;
  }
}

static void FN(dropout_fwd)(nn_call *c) {
  const nn_layer *l = c->l;
  const size_t n = c->nb * l->out_size;
  if (c->drop_on) {
    FN(drop_mask)(c->step_rng, c->li, l->p, c->s0, c->nb, l->out_size, (REAL *)c->aux);
    FN(vmul)(n, CX(c, 0), (const REAL *)c->aux, CY(c));
  } else {
    memcpy(CY(c), CX(c, 0), n * sizeof(REAL));
  }
}

/* y = x ⊙ mask (or x) for one of the passes */
static void FN(dropout_apply)(const nn_call *c, const REAL *x, REAL *y) {
  const size_t n = c->nb * c->l->out_size;
  if (c->drop_on)
    FN(vmul)(n, x, (const REAL *)c->aux, y);
  else
    memcpy(y, x, n * sizeof(REAL));
}

static void FN(dropout_rop)(nn_call *c) { FN(dropout_apply)(c, CRX(c, 0), CRY(c)); }

static void FN(dropout_vjp)(nn_call *c) {
  FN(dropout_apply)(c, CDY(c), CDX(c, 0));
  if (c->rdy) FN(dropout_apply)(c, CRDY(c), CRDX(c, 0));
}
#endif
