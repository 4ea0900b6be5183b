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
  /* set by optim.c (methods need not touch them): */
  void *mem;             /* the one allocation holding x, x0, f, d (64-byte aligned) */
  float *gbuf;           /* [dim] gradient buffer of the generic iterate, or NULL (not saved) */
};

struct nco_optim_type {
  const char *name;
  const char *help;      /* one line: what it is and the keys it reads */
  int ask_tell;          /* 1 if query/step drive it */
  int requires;          /* 0 none, 1 least-squares residuals, 2 manifold */
  void (*defaults)(nco_optim_params *hp);  /* set method defaults over the common ones */
  /* relations between keys and what the method refuses (the ranges are the
   * table's, params.c); nco_error naming "optimizer.KEY" */
  int (*validate)(const nco_optim_params *hp);
  /* floats, doubles and scratch bytes the method needs for dim */
  void (*state_size)(const nco_optim_params *hp, size_t dim, size_t *nf, size_t *nd,
                     size_t *scratch_bytes);
  int (*init)(nco_optim *o);     /* after allocation, x = x0 set; may set query/out */
  /* ask/tell step: grad at o->query; must leave state unchanged on error */
  int (*step)(nco_optim *o, const float *grad, double loss);
  /* full step against a problem (NULL → generic query/eval/step) */
  int (*iterate)(nco_optim *o, nco_problem *pb, const size_t *idx, size_t nb, double *loss,
                 float *grad);
  /* 1 if step applies hp.projection itself; 0 (the default of a designated
   * initializer): nco_optim_step applies nco_optim_project(o, o->x) after
   * every successful step (idempotent). With a type->iterate the method
   * handles the projection itself. */
  int projects;
  /* A loaded state is untrusted input (optional): checks the method's own
   * state, d[nd] doubles copied out of the buffer (f is not needed by any
   * method so far), before anything of o changes; nco_error naming what
   * is wrong. */
  int (*check_state)(const nco_optim *o, const double *d);
};

/* Who does what. nco_optim_create calls nco_optim_validate (every row of
 * the table in params.c, the box relation, then type->validate); it sets x = x0, query = out = x, lr = hp.lr, k = 0 and
 * seeds rng from hp.seed, then calls init. nco_optim_step checks the
 * arguments, that the gradient and loss are finite (state untouched
 * otherwise), calls type->step, then projects o->x (unless `projects`) and
 * increments k: inside step, o->k is the number of steps taken before this
 * one (PyTorch's step count t = o->k + 1). nco_optim_iterate calls a
 * type->iterate directly and does not touch k: such a method (lbfgs, lm)
 * increments o->k itself on every non-error return. */

/* Runs fn(ctx, lo, hi) over [0, n) in chunks of NCO_OPTIM_CHUNK elements,
 * on several threads when the library is built with OpenMP (static
 * schedule). For element-wise kernels the result is bitwise the same for
 * any thread count and chunking. */
#define NCO_OPTIM_CHUNK ((size_t)1 << 15)
void nco_optim_foreach(size_t n, void (*fn)(void *ctx, size_t lo, size_t hi), void *ctx);

/* The type objects. Each method file defines its object under this name
 * and the public pointer to it, e.g. in adam.c
 *     const nco_optim_type nco_optim_adam_type = { .name = "adam", ... };
 *     const nco_optim_type *const nco_optim_adam = &nco_optim_adam_type;
 * (optim.c lists the objects in nco_optim_types[]: a static initializer
 * needs their addresses, the public pointers are not constant expressions). */
extern const nco_optim_type nco_optim_sgd_type;
extern const nco_optim_type nco_optim_psgd_type;
extern const nco_optim_type nco_optim_sgld_type;
extern const nco_optim_type nco_optim_adagrad_type;
extern const nco_optim_type nco_optim_adagrad_norm_type;
extern const nco_optim_type nco_optim_rmsprop_type;
extern const nco_optim_type nco_optim_adam_type;
extern const nco_optim_type nco_optim_adamw_type;
extern const nco_optim_type nco_optim_amsgrad_type;
extern const nco_optim_type nco_optim_accelegrad_type;
extern const nco_optim_type nco_optim_rgd_type;
extern const nco_optim_type nco_optim_lbfgs_type;
extern const nco_optim_type nco_optim_lm_type;

/* common.c: nco_optim_iterate hands a type->iterate the whole step: the
 * method counts it (o->k) on every non-error return. Returns st after
 * incrementing o->k when st >= 0. */
int nco_optim_counted(nco_optim *o, int st);

/* Applies the configured projection to x (in place). */
void nco_optim_project(nco_optim *o, float *x);

#endif
