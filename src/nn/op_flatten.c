/* flatten (nn.Flatten): (C, H, W) → (C·H·W), a view: the output level
 * shares its input's memory (NN_OPF_ALIAS), so forward and R-op do
 * nothing; the VJP copies δ only when the engine could not alias it (the
 * input feeds several nodes). */
#ifndef REAL
#include <stdio.h>

#include "ncopt/status.h"
#include "nn/internal.h"

static int flatten_infer(nn_layer *l) {
  l->oc = l->in_size, l->oh = l->ow = 1, l->out_flat = 1;
  return NCO_OK;
}

#define FLATTEN_REPR "Flatten(start_dim=1, end_dim=-1)"

static int flatten_repr(const nn_layer *l, char *buf, size_t len, int *mixed) {
  (void)l, (void)mixed;
  snprintf(buf, len, "%s", FLATTEN_REPR);
  return NCO_OK;
}

static void flatten_describe(const nn_layer *l, char *buf, size_t len) {
  (void)l;
  snprintf(buf, len, " flatten");
}

static void flatten_nop(nn_call *c) { (void)c; }

#define NN_TEMPLATE "nn/op_flatten.c"
#include "nn/twice.h"

const nn_op_vt nn_op_flatten = {
    .name = "flatten",
    .kind = NCO_NN_FLATTEN,
    .flags = NN_OPF_ALIAS,
    .min_in = 1,
    .max_in = 1,
    .infer = flatten_infer,
    .fwd = {flatten_nop, flatten_nop},
    .rop = {flatten_nop, flatten_nop},
    .vjp = NN_BOTH(flatten_vjp),
    .repr = flatten_repr,
    .describe = flatten_describe,
};

#else /* the template */
#include "nn/real.inc"

static void FN(flatten_vjp)(nn_call *c) {
  const size_t n = c->nb * c->l->in_size;
  if (c->dx[0] != c->dy) memcpy(c->dx[0], c->dy, n * sizeof(REAL));
  if (c->rdy && c->rdx[0] != c->rdy) memcpy(c->rdx[0], c->rdy, n * sizeof(REAL));
}
#endif
