/* src/nn/internal.h — the network engine's private structures.
 *
 * A model is a static DAG (graph.c): named inputs (levels 0 .. nin) and
 * nodes in execution order (node i produces level nin + i; its inputs are
 * earlier levels, so insertion order is a topological order). Each node's
 * op is a `static const nn_op_vt` (op_dense.c, op_conv.c, op_pool.c,
 * op_act.c, op_dropout.c, op_flatten.c, op_batchnorm.c, ...) whose passes are written once over
 * REAL and compiled for float and double (twice.h). exec.c allocates the
 * per-thread workspace and the static backward plan (δ buffers by
 * liveness); run.inc (compiled by exec_f32.c / exec_f64.c) drives the
 * passes node by node; loss.c holds the loss heads; problem.c the
 * nco_problem glue; model.c the sequential builders, parameter slices and
 * initialisation; netspec.c the [network] spec parser and the summary.
 * See ncopt/nn.h for the design.
 */
#ifndef NCO_NN_INTERNAL_H
#define NCO_NN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ncopt/nn.h"
#include "nn/conv.h"

#define NN_MAX_IN 4   /* inputs per node */

typedef struct nn_op_vt nn_op_vt;

/* One node. The shape fields keep the sequential engine's names: input 0
 * is (ic, ih, iw) (flat ⇒ ih = iw = 1), the output (oc, oh, ow). */
typedef struct nn_layer {
  const nn_op_vt *op;
  nco_nn_layer_kind kind;
  char name[32];          /* "fc1", "conv2", "relu", or the spec's node name */
  int named;              /* 1 for nodes with parameters (unique names) */
  size_t nin;             /* inputs */
  size_t in[NN_MAX_IN];   /* their levels */
  size_t ic, ih, iw, oc, oh, ow;
  int in_flat, out_flat;
  size_t in_size, out_size;
  /* every input's shape (input 0's repeats ic, ih, iw): multi-input ops */
  size_t jc[NN_MAX_IN], jh[NN_MAX_IN], jw[NN_MAX_IN], jsize[NN_MAX_IN];
  int jflat[NN_MAX_IN];
  /* parameters: weight at θ[poff .. poff + nw), bias at θ[poff + nw .. + nb) */
  size_t poff, nw, nb;
  size_t fan_in, fan_out;
  /* non-trainable state at state[soff .. soff + ns) (batch norm's running statistics) */
  size_t soff, ns;
  /* hyper-parameters: conv (kh, kw, stride, pad, dil), pooling (k = kh, stride) */
  size_t kh, kw, stride, pad;
  size_t opad;            /* conv_transpose2d: output_padding */
  size_t dil;             /* conv2d: dilation (0 means 1) */
  int umode;              /* upsample: 0 nearest, 1 bilinear */
  nco_act act;            /* activations */
  double p;               /* dropout */
  double eps, momentum;   /* batchnorm (affine: nb = nw = C) */
} nn_layer;

/* A named graph input: its kind and per-sample shape. */
typedef struct nn_input {
  char name[32];
  nco_nn_input_kind kind;
  size_t c, h, w, size;
  int flat;
} nn_input;

struct nco_nn_model {
  size_t in_ndim, in_shape[3]; /* input 0 (the data), as created */
  nn_input *inputs;
  size_t nin, in_cap;
  nn_layer *layers;            /* nodes, in execution order */
  size_t nl, cap;
  size_t dim;                  /* parameters */
  size_t sdim;                 /* non-trainable state entries (batch norm) */
  size_t out_level;            /* the output level (default: the last node) */
  int out_set;                 /* 1 once nco_nn_set_output named it */
  size_t n_dense, n_conv, n_convt; /* counters for automatic names */
};

/* Per-level shape (level < nin: an input; else node level − nin). */
size_t nn_level_size(const nco_nn_model *m, size_t level);
size_t nn_out_level(const nco_nn_model *m);

/* ---- op vtable ------------------------------------------------------------ */

typedef struct nn_scratch {
  void *tx;               /* cap·max_size (conv R-ops) */
  void *tw;               /* max node parameter count (conv R-ops) */
  void *ws;               /* conv workspace (max over nodes) */
  double *dacc;           /* bias-gradient accumulator (max outputs) */
} nn_scratch;

/* Arguments of one pass of one node on one chunk (void: REAL buffers). */
typedef struct nn_call {
  const nn_layer *l;
  size_t li;              /* node index (dropout streams) */
  size_t nb, s0;          /* chunk samples, global position of the first */
  const void *x[NN_MAX_IN], *rx[NN_MAX_IN]; /* inputs, their tangents (NULL: 0) */
  void *y, *ry;           /* output, its tangent */
  const void *W, *V;      /* θ and the direction at the node's slice */
  const void *dy, *rdy;   /* δ and Rδ at the output (rdy NULL: no R-pass) */
  void *dx[NN_MAX_IN], *rdx[NN_MAX_IN]; /* δ, Rδ of the inputs (NULL: not needed), overwritten */
  void *gW, *hW;          /* ∇θ, R{∇θ} at the node's slice (NULL: not wanted), overwritten */
  void *aux;              /* the node's per-sample buffer (argmax, mask) */
  void *state;            /* the node's non-trainable state (NULL: none) */
  nn_scratch *sc;
  const nco_rng *step_rng;
  int drop_on;            /* training-mode behaviour (dropout masks) */
  int batch_on;           /* batch norm: the chunk is the whole batch, normalised by its statistics */
  int commit;             /* batch norm: fold those statistics into the running ones (state) */
} nn_call;

typedef void (*nn_pass)(nn_call *c);

enum {
  NN_OPF_ALIAS = 1,       /* output is the input's memory (flatten) */
  NN_OPF_TRAIN = 2,       /* training and evaluation differ (dropout) */
  NN_OPF_BATCH = 4        /* couples the samples of a minibatch in training mode (batchnorm) */
};

struct nn_op_vt {
  const char *name;       /* the spec's op name ("linear", "conv2d", ...) */
  nco_nn_layer_kind kind;
  unsigned flags;
  size_t min_in, max_in;  /* inputs */
  /* Output shape and parameter counts from the input shapes (l->ic.. set
   * from input 0) and the hyper-parameters; NCO_ERR_SHAPE naming both. */
  int (*infer)(nn_layer *l);
  /* PyTorch-default (or the chosen) initialisation of the node's slice
   * from rng (NULL: no parameters). */
  void (*init)(const nn_layer *l, nco_nn_init_kind kind, double sigma, nco_rng *rng, float *theta);
  size_t (*aux_bytes)(const nn_layer *l, size_t cap, size_t esz); /* NULL: 0 */
  size_t (*ws_elems)(const nn_layer *l, size_t cap);              /* NULL: 0 */
  size_t (*state_size)(const nn_layer *l);                        /* NULL: 0 */
  void (*state_init)(const nn_layer *l, float *state);            /* its initial state (NULL: zeros) */
  nn_pass fwd[2], rop[2], vjp[2];      /* [f64] */
  double (*margin[2])(nn_call *c);     /* NULL: smooth */
  /* torch's module repr (*mixed = 1: no torch module), and the short
   * description of nco_nn_describe (appended to buf). */
  int (*repr)(const nn_layer *l, char *buf, size_t len, int *mixed);
  void (*describe)(const nn_layer *l, char *buf, size_t len);
};

extern const nn_op_vt nn_op_linear, nn_op_conv2d, nn_op_maxpool2d, nn_op_avgpool2d, nn_op_flatten,
    nn_op_act, nn_op_dropout, nn_op_add, nn_op_concat, nn_op_conv_transpose2d, nn_op_upsample, nn_op_global_avgpool,
    nn_op_unflatten, nn_op_batchnorm;

/* The weight/bias initialisation shared by linear and conv2d (model.c). */
void nn_init_affine(const nn_layer *l, nco_nn_init_kind kind, double sigma, nco_rng *rng, float *theta);
/* Python's repr of a double (layermap.c). */
void nn_py_float(double v, char *out, size_t len);

/* ---- loss heads (loss.c) -------------------------------------------------- */

typedef struct nn_prob nn_prob;

typedef struct nn_loss_vt {
  const char *name;
  /* Per-sample losses of a chunk into lsum[s]; d ← c·∂ℓ/∂y if d; rd ←
   * c·∇²ℓ·Ry if rd (needs ry). REAL buffers. */
  void (*sample[2])(const nn_prob *P, const size_t *idx, size_t nb, const void *y, const void *ry,
                    double c, void *d, void *rd, double *lsum);
} nn_loss_vt;

extern const nn_loss_vt nn_loss_ce, nn_loss_ls, nn_loss_mse;
/* The residual scale σ of a least-squares head: r = σ(y − t), ℓ = ½‖r‖²
 * per sample (least squares 1; mse √(2/outputs)). The problem's residual,
 * JVP, VJP and rhvp are σ times those of y − t. */
double nn_loss_rscale(const nn_loss_vt *vt, size_t outputs);

/* A loss on a named output level. */
typedef struct nn_head {
  const nn_loss_vt *vt;
  size_t level;
} nn_head;

/* ---- the workspace -------------------------------------------------------- */

/* The static backward plan: per level whether it depends on θ (has a
 * tangent and a δ), per node whether its output reaches the loss, and the
 * δ buffer of every level (assigned by liveness over the reverse pass:
 * taken when the last consumer writes it, released after its producer's
 * VJP; a fork's later consumers add into it). */
typedef struct nn_plan {
  unsigned char *grad;    /* [nlev] */
  unsigned char *live;    /* [nl] reaches the output in the reverse pass */
  int *dbuf;              /* [nlev] δ buffer index, −1: none */
  unsigned char *dadd;    /* [nl·NN_MAX_IN] input j's δ is added (fork), not written */
  size_t nbuf;            /* δ buffers needed */
  int fork;               /* any dadd */
  size_t nadd;            /* the most adders of one node (fork scratch buffers) */
} nn_plan;

/* The workspace of one thread: buffers for chunks of ≤ cap samples, in the
 * working precision (float or double: void pointers, elem bytes). */
typedef struct nn_exec {
  int f64;
  size_t esz;             /* sizeof(REAL) */
  size_t cap;             /* samples the buffers hold */
  size_t chunk;           /* samples per chunk of a chunked evaluation (the cap at creation: a grown
                           * workspace, nn_exec_grow, chunks as before) */
  size_t nlev;            /* levels: inputs + nodes */
  void **a;               /* [nlev] activations (a[0] = input chunk); aliases shared */
  void **ra;              /* [nlev] tangents R{a}; NULL where no θ dependence */
  void **d, **rd;         /* [plan.nbuf] δ, Rδ buffers (cap·max_size) */
  void *dtmp[NN_MAX_IN];  /* fork scratch (cap·max_size), one per adder of a node (plan.nadd) */
  void *rdtmp[NN_MAX_IN];
  void **dl, **rdl;       /* [nlev] the δ, Rδ of each level during a reverse pass */
  void **aux;             /* [nl] per node (argmax, mask), or NULL */
  nn_scratch sc;
  void *gacc;             /* this thread's gradient / HVP (dim), REAL */
  void *gtmp;             /* one chunk's gradient / HVP (dim), REAL */
  void *wres;             /* f64: per-chunk conversion of w/v (cap·out) */
  double *lsum;           /* per-sample losses of a chunk (cap) */
  int drop_on;            /* dropout masks active in the current call */
  int batch_on, commit;   /* batch norm in the current call (nn_call) */
  size_t max_size;        /* max activation size per sample over all levels */
  nn_plan plan;
} nn_exec;

struct nn_prob {
  nco_nn_model *m;        /* owned copy */
  nco_nn_loss loss;
  nn_head head;
  size_t n, in_size, out;
  const float *X;         /* (n, in_size) */
  float *X_own;           /* owned copy, or NULL when borrowed */
  int32_t *labels;        /* (n) or NULL */
  float *T;               /* (n, out) or NULL */
  nn_exec *ex;            /* [nthreads] one workspace per thread */
  size_t nthreads;        /* batch ranges evaluated in parallel (OpenMP) */
  void *theta64, *vdir64; /* f64: θ and the direction converted (dim) */
  float *state;           /* non-trainable state (sdim), NULL when empty */
  nco_rng drop_rng;       /* seeded by opts.dropout_seed */
  uint64_t step;
  int training, auto_step, has_dropout;
  int has_batch;          /* an NN_OPF_BATCH node (batchnorm) */
  uint64_t bn_step;       /* the step whose batch statistics were committed last (0: none) */
  nco_nn_init_kind init;
  double init_sigma;
};

typedef enum nn_opk {
  NN_OP_EVAL,      /* loss, grad (grad may be NULL) */
  NN_OP_RESIDUAL,  /* r64 */
  NN_OP_JVP,       /* u → out (nb·m) */
  NN_OP_VJP,       /* v (nb·m) → out (dim) */
  NN_OP_RHVP,      /* w (nb·m), u → out (dim) */
  NN_OP_HVP,       /* v → out (dim), with the reduction c */
  NN_OP_FORWARD,   /* out (nb·outputs) */
  NN_OP_METRICS,   /* met */
  NN_OP_MARGIN     /* margin */
} nn_opk;

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
 * with its own workspace and gradient buffer (summed in thread order).
 * Every op but batchnorm is per-sample, so a range is evaluated
 * independently. An op with NN_OPF_BATCH (batchnorm in training mode)
 * couples the samples of the minibatch: such an evaluation runs the whole
 * batch as ONE chunk on ONE range (T = 1, workspace 0 grown to nb samples
 * on demand by nn_exec_grow, never shrunk), so its results depend neither
 * on the thread count nor on max_batch. The cost: no data parallelism
 * (OpenBLAS's own threads still run the GEMMs) and a workspace for the
 * largest batch evaluated in training mode (the full training set for a
 * full-batch loss). Evaluation mode (running statistics) is per-sample
 * and keeps the ranges and chunks. (A parallel design would reduce the
 * statistics and the VJP's sums over the ranges at a barrier of the team,
 * in range order, and over a range's chunks in two passes.) */
#define NN_MIN_PER_THREAD 8
#define NN_MAX_THREADS 64

/* exec.c */
int nn_exec_alloc(nn_exec *e, const nco_nn_model *m, size_t out_level, size_t cap, int f64);
void nn_exec_free(nn_exec *e, const nco_nn_model *m);
/* Reallocates e for chunks of ≥ cap samples (no-op when e->cap ≥ cap; on
 * failure e is unchanged). */
int nn_exec_grow(nn_exec *e, const nco_nn_model *m, size_t out_level, size_t cap);
/* Before a training-mode evaluation of nb samples with batch norm:
 * workspace 0 grown to nb, and NCO_ERR_INVALID when a batchnorm node
 * would see one value per channel (torch refuses it too). */
int nn_whole_batch(nn_prob *P, size_t nb);

/* exec_f32.c / exec_f64.c */
int nn_run_f32(nn_prob *P, nn_opk op, nn_args *a);
int nn_run_f64(nn_prob *P, nn_opk op, nn_args *a);

/* graph.c */
int nn_act_has_kink(const nco_act *a);
/* Appends node `l` (op, hyper-parameters and name filled, in[] levels)
 * after shape inference; assigns its parameter and state slices. */
int nn_graph_push(nco_nn_model *m, nn_layer *l);
/* "(C)" or "(C, H, W)": input j's shape, for the multi-input ops' messages. */
void nn_input_shape_text(const nn_layer *l, size_t j, char *buf, size_t len);
/* The level of a node or input named `name`, or −1. */
long nn_find_level(const nco_nn_model *m, const char *name);

#endif
