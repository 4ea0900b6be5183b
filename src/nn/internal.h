/* src/nn/internal.h — the network engine's private structures.
 *
 * model.c builds models (shapes, names, parameter offsets, init);
 * exec.c allocates the per-problem workspace; kernels.inc holds every
 * numerical pass (forward, tangent, backward, R-backward, losses) written
 * once over REAL and compiled by exec_f32.c and exec_f64.c; problem.c is
 * the nco_problem glue. See ncopt/nn.h for the design.
 */
#ifndef NCO_NN_INTERNAL_H
#define NCO_NN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ncopt/nn.h"
#include "nn/conv.h"

typedef struct nn_layer {
  nco_nn_layer_kind kind;
  char name[32];          /* "fc1", "conv2", "relu", ... (prefix of its slices) */
  int named;              /* 1 for layers with parameters (unique names) */
  /* per-sample input and output shapes: (c, h, w), flat ⇒ h = w = 1 */
  size_t ic, ih, iw, oc, oh, ow;
  int in_flat, out_flat;
  size_t in_size, out_size;
  /* parameters: weight at θ[poff .. poff + nw), bias at θ[poff + nw .. + nb) */
  size_t poff, nw, nb;
  size_t fan_in, fan_out;
  /* conv (kh, kw, stride, pad) and pooling (k = kh, stride) */
  size_t kh, kw, stride, pad;
  nco_act act;            /* NCO_NN_ACT */
  double p;               /* NCO_NN_DROPOUT */
} nn_layer;

struct nco_nn_model {
  size_t in_ndim, in_shape[3];
  nn_layer *layers;
  size_t nl, cap;
  size_t dim;
  size_t n_dense, n_conv;  /* counters for automatic names */
};

/* The workspace of one problem: buffers for chunks of ≤ cap samples, in
 * the working precision (float or double: void pointers, elem bytes). */
typedef struct nn_exec {
  int f64;
  size_t esz;             /* sizeof(REAL) */
  size_t cap;             /* samples per chunk */
  size_t first_param;     /* first layer with parameters (nl if none) */
  void **a;               /* [nl+1] activations (a[0] = input chunk); flatten aliases */
  void **ra;              /* [nl+1] tangents R{a}; NULL below first_param+1 */
  void *d[2], *rd[2];     /* backward ping-pong buffers (cap·max_size) */
  void *tx;               /* cap·max_size scratch (conv R-ops) */
  void *tw;               /* max layer parameter count (conv R-ops) */
  void *ws;               /* conv workspace (max over layers) */
  int32_t **argmax;       /* [nl] per maxpool layer (cap·out_size), else NULL */
  void **mask;            /* [nl] per dropout layer (cap·out_size), else NULL */
  void *gacc;             /* this thread's gradient / HVP (dim), REAL */
  void *gtmp;             /* one chunk's gradient / HVP (dim), REAL */
  void *wres;             /* f64: per-chunk conversion of w/v (cap·out) */
  double *lsum;           /* per-sample losses of a chunk (cap) */
  double *dacc;           /* bias-gradient accumulator (max dense outputs) */
  int drop_on;            /* dropout masks active in the current call */
  size_t max_size;        /* max activation size per sample over all levels */
} nn_exec;

typedef struct nn_prob {
  nco_nn_model *m;        /* owned copy */
  nco_nn_loss loss;
  size_t n, in_size, out;
  const float *X;         /* (n, in_size) */
  float *X_own;           /* owned copy, or NULL when borrowed */
  int32_t *labels;        /* (n) or NULL */
  float *T;               /* (n, out) or NULL */
  nn_exec *ex;            /* [nthreads] one workspace per thread */
  size_t nthreads;        /* batch ranges evaluated in parallel (OpenMP) */
  void *theta64, *vdir64; /* f64: θ and the direction converted (dim) */
  nco_rng drop_rng;       /* seeded by opts.dropout_seed */
  uint64_t step;
  int training, auto_step, has_dropout;
  nco_nn_init_kind init;
  double init_sigma;
} nn_prob;

typedef enum nn_op {
  NN_OP_EVAL,      /* loss, grad (grad may be NULL) */
  NN_OP_RESIDUAL,  /* r64 */
  NN_OP_JVP,       /* u → out (nb·m) */
  NN_OP_VJP,       /* v (nb·m) → out (dim) */
  NN_OP_RHVP,      /* w (nb·m), u → out (dim) */
  NN_OP_HVP,       /* v → out (dim), with the reduction c */
  NN_OP_FORWARD,   /* out (nb·outputs) */
  NN_OP_METRICS,   /* met */
  NN_OP_MARGIN     /* margin */
} nn_op;

typedef struct nn_args {
  const float *x;
  const size_t *idx;
  size_t nb;
  double c;              /* reduction factor */
  const float *u;        /* direction in θ (JVP, RHVP, HVP) */
  const float *w;        /* vector over residuals (VJP, RHVP) */
  double *loss;
  float *out;
  double *r64;
  nco_nn_metrics *met;
  double *margin;
} nn_args;

/* Threads: a batch of nb samples is split into T = min(nthreads,
 * nb / NN_MIN_PER_THREAD) contiguous ranges, one per OpenMP thread, each
 * with its own workspace and gradient buffer (summed in thread order). */
#define NN_MIN_PER_THREAD 8
#define NN_MAX_THREADS 64

/* exec.c */
int nn_exec_alloc(nn_exec *e, const nco_nn_model *m, size_t cap, int f64);
void nn_exec_free(nn_exec *e, const nco_nn_model *m);

/* exec_f32.c / exec_f64.c */
int nn_run_f32(nn_prob *P, nn_op op, nn_args *a);
int nn_run_f64(nn_prob *P, nn_op op, nn_args *a);

/* model.c */
int nn_act_has_kink(const nco_act *a);

#endif
