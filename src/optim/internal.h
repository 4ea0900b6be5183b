/* src/optim/internal.h — what a method file implements (private). */
#ifndef NCO_OPTIM_INTERNAL_H
#define NCO_OPTIM_INTERNAL_H

#include "ncopt/optim.h"

/* The whole state: one block of floats/doubles allocated at create.
 * Common fields first; the method's own buffers are named slices of `f`
 * (floats) and `d` (doubles), sized by the type's state_size(). */
struct nco_optim {
  const nco_optim_type *type;
  size_t dim;
  nco_optim_params hp;   /* validated hyper-parameters */
  double lr;             /* current step size (schedule) */
  uint64_t k;            /* steps taken */
  nco_rng rng;           /* method's own randomness (psgd, sgld) */
  float *x;              /* current iterate [dim] */
  float *x0;             /* starting point [dim] (projection centre) */
  float *query;          /* query point [dim] (== x for most methods) */
  float *out;            /* output point [dim] (== x for most methods) */
  float *f;              /* method floats [nf] */
  double *d;             /* method doubles [nd] (scalars: sums, counters) */
  size_t nf, nd;
  void *scratch;         /* method scratch not part of the state (not saved) */
  size_t scratch_bytes;
};

struct nco_optim_type {
  const char *name;
  const char *help;      /* one line: what it is and the keys it reads */
  int ask_tell;          /* 1 if query/step drive it */
  int requires;          /* 0 none, 1 least-squares residuals, 2 manifold */
  void (*defaults)(nco_optim_params *hp);  /* set method defaults over the common ones */
  int (*validate)(const nco_optim_params *hp); /* nco_error naming "optimizer.KEY" */
  /* floats, doubles and scratch bytes the method needs for dim */
  void (*state_size)(const nco_optim_params *hp, size_t dim, size_t *nf, size_t *nd,
                     size_t *scratch_bytes);
  int (*init)(nco_optim *o);     /* after allocation, x = x0 set; may set query/out */
  /* ask/tell step: grad at o->query; must leave state unchanged on error */
  int (*step)(nco_optim *o, const float *grad, double loss);
  /* full step against a problem (NULL → generic query/eval/step) */
  int (*iterate)(nco_optim *o, nco_problem *pb, const size_t *idx, size_t nb, double *loss,
                 float *grad);
};

/* Applies the configured projection to x (in place). */
void nco_optim_project(nco_optim *o, float *x);

#endif
