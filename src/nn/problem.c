/* A network with a loss as an nco_problem (ncopt/nn.h): data validation,
 * the vtables (cross-entropy: eval + hvp; least squares: also residual64,
 * JVP, VJP, rhvp), dropout state, the non-trainable state (batch norm's
 * running statistics), evaluation helpers. The numerics are in
 * kernels.inc (nn_run_f32 / nn_run_f64). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "nn/internal.h"

#ifdef _OPENMP
#include <omp.h>
#endif

static const char *origin_of(const nco_array *a) {
  return a->origin[0] ? a->origin : "(unnamed array)";
}

static void prob_destroy(void *impl) {
  nn_prob *P = impl;
  if (!P) return;
  if (P->ex) {
    for (size_t t = 0; t < P->nthreads; t++) nn_exec_free(&P->ex[t], P->m);
    free(P->ex);
  }
  free(P->theta64);
  free(P->state);
  free(P->vdir64);
  nco_nn_model_free(P->m);
  free(P->X_own);
  free(P->labels);
  free(P->T);
  free(P);
}

static int run(nco_problem *pb, nn_opk op, nn_args *a) {
  nn_prob *P = pb->impl;
  return P->ex[0].f64 ? nn_run_f64(P, op, a) : nn_run_f32(P, op, a);
}

static int nn_eval(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *loss,
                   float *grad) {
  nn_prob *P = pb->impl;
  if (grad && P->auto_step) P->step++;
  nn_args a = {.x = x, .idx = idx, .nb = nb, .c = nco_problem_scale(pb, nb), .loss = loss, .out = grad};
  return run(pb, NN_OP_EVAL, &a);
}

/* The least-squares outputs (residual, J u, Jᵀ v, Σ w_i ∇²r_i u) are those
 * of y − t times the head's residual scale σ (mse: √(2/m); 1 otherwise). */
static int rscaled(nco_problem *pb, int st, size_t n, float *f, double *d) {
  const nn_prob *P = pb->impl;
  const double sg = nn_loss_rscale(P->head.vt, P->out);
  if (st || sg == 1.0) return st;
  for (size_t j = 0; j < n; j++)
    if (f) f[j] = (float)(sg * f[j]);
    else d[j] *= sg;
  return st;
}

static int nn_residual64(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *r) {
  nn_args a = {.x = x, .idx = idx, .nb = nb, .c = 1, .r64 = r};
  return rscaled(pb, run(pb, NN_OP_RESIDUAL, &a), nb * pb->m, NULL, r);
}

static int nn_jvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *u,
                  float *ju) {
  nn_args a = {.x = x, .idx = idx, .nb = nb, .c = 1, .u = u, .out = ju};
  return rscaled(pb, run(pb, NN_OP_JVP, &a), nb * pb->m, ju, NULL);
}

static int nn_vjp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v,
                  float *jtv) {
  nn_args a = {.x = x, .idx = idx, .nb = nb, .c = 1, .w = v, .out = jtv};
  return rscaled(pb, run(pb, NN_OP_VJP, &a), pb->dim, jtv, NULL);
}

static int nn_rhvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *w,
                   const float *u, float *out) {
  nn_args a = {.x = x, .idx = idx, .nb = nb, .c = 1, .u = u, .w = w, .out = out};
  return rscaled(pb, run(pb, NN_OP_RHVP, &a), pb->dim, out, NULL);
}

static int nn_hvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v,
                  float *hv) {
  nn_args a = {.x = x, .idx = idx, .nb = nb, .c = nco_problem_scale(pb, nb), .u = v, .out = hv};
  return run(pb, NN_OP_HVP, &a);
}

/* The initial non-trainable state (each op's, zeros by default); no
 * statistics committed yet. */
static void state_reset(nn_prob *P) {
  const nco_nn_model *m = P->m;
  for (size_t i = 0; i < m->nl; i++) {
    const nn_layer *l = &m->layers[i];
    if (!l->ns) continue;
    if (l->op->state_init) l->op->state_init(l, P->state + l->soff);
    else memset(P->state + l->soff, 0, l->ns * sizeof *P->state);
  }
  P->bn_step = 0;
}

/* θ drawn, and the state reset (torch's reset_parameters resets the
 * running statistics too) */
static int nn_init(nco_problem *pb, nco_rng *rng, float *x) {
  nn_prob *P = pb->impl;
  int st = nco_nn_init(P->m, P->init, P->init_sigma, rng, x);
  if (!st) state_reset(P);
  return st;
}

/* problem.h's set_step: the dropout masks of step `step`, pinned */
static int nn_pin_step(nco_problem *pb, uint64_t step) {
  nn_prob *P = pb->impl;
  P->auto_step = 0;
  P->step = step;
  return NCO_OK;
}

/* problem.h's param_groups: one group per layer (weight and bias of a
 * layer together), named by the layer ("fc1") */
static int nn_param_groups(const nco_problem *pb, nco_param_group *g, size_t cap, size_t *count) {
  const nn_prob *P = pb->impl;
  size_t np = nco_nn_num_params(P->m), n = 0, last_layer = (size_t)-1;
  for (size_t i = 0; i < np; i++) {
    nco_nn_param q;
    int st = nco_nn_param_get(P->m, i, &q);
    if (st) return st;
    if (q.layer == last_layer && n) {
      g[n - 1].length += q.length;
      continue;
    }
    if (n == cap) break;
    size_t L = strcspn(q.name, ".");
    snprintf(g[n].name, sizeof g[n].name, "%.*s", (int)L, q.name);
    g[n].offset = q.offset, g[n].length = q.length;
    n++;
    last_layer = q.layer;
  }
  *count = n;
  return NCO_OK;
}

/* the problem interface's state hooks (problem.h): batch norm's running
 * statistics, through nco_nn_get_state / nco_nn_set_state below */
static size_t nn_state_size(const nco_problem *pb);
static int nn_get_state(const nco_problem *pb, float *out, size_t n, uint64_t *stamp) {
  return nco_nn_get_state(pb, out, n, stamp);
}
static int nn_set_state(nco_problem *pb, const float *in, size_t n, uint64_t stamp) {
  return nco_nn_set_state(pb, in, n, stamp);
}

static const nco_problem_type nn_ce_type = {
    .name = "nn",
    .eval = nn_eval,
    .hvp = nn_hvp,
    .init = nn_init,
    .destroy = prob_destroy,
    .set_step = nn_pin_step,
    .param_groups = nn_param_groups,
    .state_size = nn_state_size,
    .get_state = nn_get_state,
    .set_state = nn_set_state,
    .set_training = nco_nn_set_training,
};

static const nco_problem_type nn_ls_type = {
    .name = "nn",
    .eval = nn_eval,
    .residual64 = nn_residual64,
    .jvp = nn_jvp,
    .vjp = nn_vjp,
    .rhvp = nn_rhvp,
    .hvp = nn_hvp,
    .init = nn_init,
    .destroy = prob_destroy,
    .set_step = nn_pin_step,
    .param_groups = nn_param_groups,
    .state_size = nn_state_size,
    .get_state = nn_get_state,
    .set_state = nn_set_state,
    .set_training = nco_nn_set_training,
};

static size_t nn_state_size(const nco_problem *pb) {
  const nn_prob *P = pb->impl;
  return nco_nn_state_dim(P->m);
}

nco_nn_opts nco_nn_defaults(nco_nn_loss loss) {
  nco_nn_opts o;
  memset(&o, 0, sizeof o);
  o.loss = loss;
  o.reduction = -1;
  o.max_batch = 0;
  o.precision = NCO_NN_F32;
  o.borrow = 0;
  o.dropout_seed = 0;
  o.auto_step = 1;
  o.init = NCO_NN_INIT_TORCH;
  o.init_sigma = 0.01;
  o.threads = 0;
  return o;
}

/* Value j of a numeric array as double. */
static double get_num(const nco_array *a, size_t j) {
  switch (a->dtype) {
    case NCO_DTYPE_F32: return ((const float *)a->data)[j];
    case NCO_DTYPE_F64: return ((const double *)a->data)[j];
    case NCO_DTYPE_I32: return ((const int32_t *)a->data)[j];
    case NCO_DTYPE_I64: return (double)((const int64_t *)a->data)[j];
    case NCO_DTYPE_U8: return ((const uint8_t *)a->data)[j];
  }
  return NAN;
}

/* X: (N, ...) with Π shape[1:] = in_size. */
static int take_inputs(nn_prob *P, const nco_array *X, int borrow) {
  char sb[96];
  if (!X || !X->data || nco_dtype_size(X->dtype) == 0)
    return nco_error(NCO_ERR_INVALID, "nn: features array is missing or has no data");
  if (X->ndim < 1 || X->shape[0] == 0)
    return nco_error(NCO_ERR_SHAPE, "%s: features has shape %s: needs at least one sample", origin_of(X),
                     nco_array_shape_str(X, sb, sizeof sb));
  size_t per = 1;
  for (size_t i = 1; i < X->ndim; i++) per *= X->shape[i]; /* ≤ X->size: no overflow */
  if (per != P->in_size)
    return nco_error(NCO_ERR_SHAPE, "%s: features has shape %s (%zu values per sample) but the network's input has %zu",
                     origin_of(X), nco_array_shape_str(X, sb, sizeof sb), per, P->in_size);
  P->n = X->shape[0];
  if (borrow && X->dtype == NCO_DTYPE_F32) {
    int st = nco_array_check_finite(X, "features");
    if (st) return st;
    P->X = X->data;
    return NCO_OK;
  }
  P->X_own = nco_calloc(X->size, sizeof(float));
  if (!P->X_own) return nco_error(NCO_ERR_NOMEM, "%s: out of memory copying features (%zu values)", origin_of(X), X->size);
  for (size_t j = 0; j < X->size; j++) {
    double v = get_num(X, j);
    float f = (float)v;
    if (!isfinite(f))
      return nco_error(NCO_ERR_NONFINITE, "%s: features entry %zu (sample %zu) is %g%s", origin_of(X), j,
                       j / P->in_size, v, isfinite(v) ? " (overflows float32)" : "");
    P->X_own[j] = f;
  }
  P->X = P->X_own;
  return NCO_OK;
}

static int is_int_dtype(nco_dtype t) {
  return t == NCO_DTYPE_I32 || t == NCO_DTYPE_I64 || t == NCO_DTYPE_U8;
}

/* Targets: labels (N) or rows (N, out) ((N) when out = 1). */
static int take_targets(nn_prob *P, const nco_array *Y) {
  char sb[96];
  const size_t N = P->n, K = P->out;
  if (!Y || !Y->data || nco_dtype_size(Y->dtype) == 0)
    return nco_error(NCO_ERR_INVALID, "nn: targets array is missing or has no data");
  if (Y->ndim < 1 || Y->shape[0] != N)
    return nco_error(NCO_ERR_SHAPE, "%s: targets has shape %s but the features have %zu samples", origin_of(Y),
                     nco_array_shape_str(Y, sb, sizeof sb), N);
  int labels;
  if (Y->ndim == 1) {
    labels = K > 1 || (is_int_dtype(Y->dtype) && P->loss == NCO_NN_LOSS_CROSS_ENTROPY);
  } else if (Y->ndim == 2 && Y->shape[1] == K) {
    labels = 0;
  } else {
    return nco_error(NCO_ERR_SHAPE, "%s: targets has shape %s, expected labels (%zu) or rows (%zu, %zu)",
                     origin_of(Y), nco_array_shape_str(Y, sb, sizeof sb), N, N, K);
  }
  if (labels) {
    P->labels = nco_calloc(N, sizeof *P->labels);
    if (!P->labels) return nco_error(NCO_ERR_NOMEM, "%s: out of memory", origin_of(Y));
    for (size_t i = 0; i < N; i++) {
      double v = get_num(Y, i);
      if (!(v >= 0 && v < (double)K && v == floor(v)))
        return nco_error(NCO_ERR_RANGE, "%s: label %zu is %g: labels must be whole numbers in [0, %zu) (the network has %zu outputs)",
                         origin_of(Y), i, v, K, K);
      P->labels[i] = (int32_t)v;
    }
    return NCO_OK;
  }
  size_t cnt = N * K; /* = Y->size */
  P->T = nco_calloc(cnt, sizeof *P->T);
  if (!P->T) return nco_error(NCO_ERR_NOMEM, "%s: out of memory copying targets", origin_of(Y));
  for (size_t j = 0; j < cnt; j++) {
    double v = get_num(Y, j);
    float f = (float)v;
    if (!isfinite(f))
      return nco_error(NCO_ERR_NONFINITE, "%s: targets entry %zu (sample %zu) is %g", origin_of(Y), j, j / K, v);
    P->T[j] = f;
  }
  return NCO_OK;
}

/* What today's runs can evaluate: one data input (the first input, the
 * features). */
static int check_graph(const nco_nn_model *m) {
  static const char *kinds[] = {"data", "targets", "noise", "graph"};
  if (!m->nin || m->inputs[0].kind != NCO_NN_IN_DATA)
    return nco_error(NCO_ERR_INVALID, "nn: the model's first input must be the data");
  for (size_t i = 1; i < m->nin; i++)
    return nco_error(NCO_ERR_INVALID, "nn: input \"%s\" (%s): only one input (the data) can be fed today",
                     m->inputs[i].name, kinds[m->inputs[i].kind]);
  return NCO_OK;
}

int nco_nn_problem_create(const nco_nn_model *model, const nco_array *X, const nco_array *targets,
                          const nco_nn_opts *opts, nco_problem **out) {
  int st;
  nn_prob *P = NULL;
  nco_nn_opts o = opts ? *opts : nco_nn_defaults(NCO_NN_LOSS_CROSS_ENTROPY);
  if (!out) return nco_error(NCO_ERR_INVALID, "nn: output pointer is NULL");
  *out = NULL;
  if (!model) return nco_error(NCO_ERR_INVALID, "nn: model is NULL");
  if (o.loss != NCO_NN_LOSS_CROSS_ENTROPY && o.loss != NCO_NN_LOSS_LEAST_SQUARES && o.loss != NCO_NN_LOSS_MSE)
    return nco_error(NCO_ERR_INVALID, "nn: unknown loss %d", (int)o.loss);
  if (o.reduction != -1 && o.reduction != NCO_REDUCE_SUM && o.reduction != NCO_REDUCE_MEAN)
    return nco_error(NCO_ERR_INVALID, "nn: unknown reduction %d", o.reduction);
  if (o.precision != NCO_NN_F32 && o.precision != NCO_NN_F64)
    return nco_error(NCO_ERR_INVALID, "nn: unknown precision %d", (int)o.precision);
  if (o.init < NCO_NN_INIT_TORCH || o.init > NCO_NN_INIT_NORMAL)
    return nco_error(NCO_ERR_INVALID, "nn: unknown init %d", (int)o.init);
  if (o.init == NCO_NN_INIT_NORMAL && !(o.init_sigma > 0 && isfinite(o.init_sigma)))
    return nco_error(NCO_ERR_RANGE, "nn: init_sigma = %g must be > 0", o.init_sigma);
  if (nco_nn_dim(model) == 0)
    return nco_error(NCO_ERR_SHAPE, "nn: the model has no parameters (add a dense or conv2d layer)");
  if (o.loss == NCO_NN_LOSS_CROSS_ENTROPY && nco_nn_out_size(model) < 2)
    return nco_error(NCO_ERR_SHAPE, "nn: cross-entropy needs at least 2 outputs, the model has %zu",
                     nco_nn_out_size(model));
  P = calloc(1, sizeof *P);
  if (!P) return nco_error(NCO_ERR_NOMEM, "nn: out of memory");
  if ((st = nco_nn_model_clone(model, &P->m))) goto fail;
  P->loss = o.loss;
  P->in_size = nco_nn_in_size(model);
  P->out = nco_nn_out_size(model);
  P->training = 1;
  P->auto_step = o.auto_step ? 1 : 0;
  P->init = o.init;
  P->init_sigma = o.init_sigma;
  nco_rng_seed(&P->drop_rng, o.dropout_seed);
  P->head.vt = o.loss == NCO_NN_LOSS_LEAST_SQUARES ? &nn_loss_ls : o.loss == NCO_NN_LOSS_MSE ? &nn_loss_mse : &nn_loss_ce;
  P->head.level = nn_out_level(P->m);
  if ((st = check_graph(P->m))) goto fail;
  for (size_t i = 0; i < P->m->nl; i++) {
    const nn_layer *l = &P->m->layers[i];
    if ((l->op->flags & NN_OPF_TRAIN) && l->p > 0) P->has_dropout = 1;
    if (l->op->flags & NN_OPF_BATCH) P->has_batch = 1;
  }
  if (P->m->sdim && !(P->state = nco_calloc(P->m->sdim, sizeof *P->state))) {
    st = nco_error(NCO_ERR_NOMEM, "nn: out of memory");
    goto fail;
  }
  if (P->state) state_reset(P);
  if ((st = take_inputs(P, X, o.borrow)) || (st = take_targets(P, targets))) goto fail;
  size_t cap = o.max_batch ? o.max_batch : 256;
  if (cap > P->n) cap = P->n;
  /* threads: ranges of ≥ NN_MIN_PER_THREAD samples of a full chunk */
  size_t T = o.threads;
#ifdef _OPENMP
  if (T == 0) T = (size_t)omp_get_max_threads();
#endif
  if (T == 0) T = 1;
  if (T > NN_MAX_THREADS) T = NN_MAX_THREADS;
  if (T > cap / NN_MIN_PER_THREAD) T = cap / NN_MIN_PER_THREAD;
  if (T < 1) T = 1;
  const int f64 = o.precision == NCO_NN_F64;
  P->ex = calloc(T, sizeof *P->ex);
  if (!P->ex) {
    st = nco_error(NCO_ERR_NOMEM, "nn: out of memory");
    goto fail;
  }
  P->nthreads = T;
  for (size_t t = 0; t < T; t++)
    if ((st = nn_exec_alloc(&P->ex[t], P->m, P->head.level, (cap + T - 1) / T, f64))) goto fail;
  if (f64 && (!(P->theta64 = nco_calloc(P->m->dim, sizeof(double))) ||
              !(P->vdir64 = nco_calloc(P->m->dim, sizeof(double))))) {
    st = nco_error(NCO_ERR_NOMEM, "nn: out of memory");
    goto fail;
  }
  const int ls = o.loss != NCO_NN_LOSS_CROSS_ENTROPY;
  const char *lname = P->head.vt->name;
  size_t n = P->n, dim = P->m->dim, m = ls ? P->out : 0;
  char desc[96];
  nco_nn_describe(P->m, desc, sizeof desc);
  nco_problem *pb = NULL;
  st = nco_problem_alloc(ls ? &nn_ls_type : &nn_ce_type, P, dim, n, m, 0, &pb);
  P = NULL; /* taken over (freed by nco_problem_alloc on failure) */
  if (st) return st;
  pb->reduction = o.reduction == -1 ? (o.loss == NCO_NN_LOSS_LEAST_SQUARES ? NCO_REDUCE_SUM : NCO_REDUCE_MEAN)
                                    : (nco_reduction)o.reduction;
  snprintf(pb->label, sizeof pb->label, "nn %s%s n=%zu d=%zu %s", lname,
           o.precision == NCO_NN_F64 ? " f64" : "", n, dim, desc);
  *out = pb;
  return NCO_OK;
fail:
  prob_destroy(P);
  return st;
}

/* ---- accessors ---------------------------------------------------------- */

static nn_prob *find(const nco_problem *pb) {
  if (!pb) return NULL;
  while (pb->base) pb = pb->base;
  if (pb->type != &nn_ce_type && pb->type != &nn_ls_type) return NULL;
  return pb->impl;
}

static nco_problem *find_pb(nco_problem *pb) {
  if (!pb) return NULL;
  while (pb->base) pb = pb->base;
  return (pb->type == &nn_ce_type || pb->type == &nn_ls_type) ? pb : NULL;
}

int nco_nn_is_nn(const nco_problem *pb) { return find(pb) != NULL; }

const nco_nn_model *nco_nn_problem_model(const nco_problem *pb) {
  nn_prob *P = find(pb);
  return P ? P->m : NULL;
}

static int need_nn(const nco_problem *pb, const char *what, nn_prob **P) {
  *P = find(pb);
  if (!*P)
    return nco_error(NCO_ERR_INVALID, "%s: %s: not a network problem", pb ? pb->label : "(null)", what);
  return NCO_OK;
}

int nco_nn_set_training(nco_problem *pb, int on) {
  nn_prob *P;
  int st = need_nn(pb, "set_training", &P);
  if (st) return st;
  P->training = on ? 1 : 0;
  return NCO_OK;
}

int nco_nn_set_step(nco_problem *pb, uint64_t step) {
  nn_prob *P;
  int st = need_nn(pb, "set_step", &P);
  if (st) return st;
  P->step = step;
  return NCO_OK;
}

uint64_t nco_nn_get_step(const nco_problem *pb) {
  nn_prob *P = find(pb);
  return P ? P->step : 0;
}

int nco_nn_set_auto_step(nco_problem *pb, int on) {
  nn_prob *P;
  int st = need_nn(pb, "set_auto_step", &P);
  if (st) return st;
  P->auto_step = on ? 1 : 0;
  return NCO_OK;
}

/* Validates (x, idx, nb) against the network problem q; expands idx = NULL. */
static int check_batch(nco_problem *q, const char *what, const float *x, const size_t **idx, size_t *nb) {
  if (!x) return nco_error(NCO_ERR_INVALID, "%s: %s: parameters are NULL", q->label, what);
  if (!*idx) {
    if (*nb != q->n && *nb != 0)
      return nco_error(NCO_ERR_INVALID, "%s: %s: full batch (idx = NULL) needs nb = n = %zu, got %zu", q->label,
                       what, q->n, *nb);
    *idx = q->all_idx;
    *nb = q->n;
    return NCO_OK;
  }
  if (*nb == 0)
    return nco_error(NCO_ERR_INVALID, "%s: %s: empty batch", q->label, what);
  for (size_t i = 0; i < *nb; i++)
    if ((*idx)[i] >= q->n)
      return nco_error(NCO_ERR_RANGE, "%s: %s: sample index %zu at batch position %zu is out of range (n = %zu)",
                       q->label, what, (*idx)[i], i, q->n);
  return NCO_OK;
}

int nco_nn_forward(nco_problem *pb, const float *x, const size_t *idx, size_t nb, float *out) {
  nn_prob *P;
  int st = need_nn(pb, "forward", &P);
  if (st) return st;
  nco_problem *q = find_pb(pb);
  if ((st = check_batch(q, "forward", x, &idx, &nb))) return st;
  if (!out) return nco_error(NCO_ERR_INVALID, "%s: forward: output is NULL", q->label);
  nn_args a = {.x = x, .idx = idx, .nb = nb, .c = 1, .out = out};
  return run(q, NN_OP_FORWARD, &a);
}

int nco_nn_evaluate(nco_problem *pb, const float *x, const size_t *idx, size_t nb, nco_nn_metrics *out) {
  nn_prob *P;
  int st = need_nn(pb, "evaluate", &P);
  if (st) return st;
  nco_problem *q = find_pb(pb);
  if ((st = check_batch(q, "evaluate", x, &idx, &nb))) return st;
  if (!out) return nco_error(NCO_ERR_INVALID, "%s: evaluate: output is NULL", q->label);
  nn_args a = {.x = x, .idx = idx, .nb = nb, .c = 1, .met = out};
  if ((st = run(q, NN_OP_METRICS, &a))) return st;
  if (!isfinite(out->loss_sum))
    return nco_error(NCO_ERR_NONFINITE, "%s: evaluate: loss is %g", q->label, out->loss_sum);
  return NCO_OK;
}

int nco_nn_kink_margin(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *margin) {
  nn_prob *P;
  int st = need_nn(pb, "kink_margin", &P);
  if (st) return st;
  nco_problem *q = find_pb(pb);
  if ((st = check_batch(q, "kink_margin", x, &idx, &nb))) return st;
  if (!margin) return nco_error(NCO_ERR_INVALID, "%s: kink_margin: output is NULL", q->label);
  nn_args a = {.x = x, .idx = idx, .nb = nb, .c = 1, .margin = margin};
  return run(q, NN_OP_MARGIN, &a);
}

/* ---- non-trainable state ------------------------------------------------ */

int nco_nn_problem_state(nco_problem *pb, float **state, size_t *n) {
  nn_prob *P;
  int st = need_nn(pb, "state", &P);
  if (st) return st;
  if (!state || !n) return nco_error(NCO_ERR_INVALID, "%s: state: output pointer is NULL", pb->label);
  *state = P->state, *n = P->m->sdim;
  return NCO_OK;
}

/* n must be the state's size */
static int state_size_ok(const nco_problem *pb, const nn_prob *P, const char *what, const void *buf, size_t n) {
  if (!buf && n) return nco_error(NCO_ERR_INVALID, "%s: %s: buffer is NULL", pb->label, what);
  if (n != P->m->sdim)
    return nco_error(NCO_ERR_SHAPE, "%s: %s: %zu entries, the network's state has %zu (nco_nn_state_dim)", pb->label,
                     what, n, P->m->sdim);
  return NCO_OK;
}

int nco_nn_get_state(const nco_problem *pb, float *out, size_t n, uint64_t *committed) {
  nn_prob *P;
  int st = need_nn(pb, "get_state", &P);
  if (st || (st = state_size_ok(pb, P, "get_state", out, n))) return st;
  if (n) memcpy(out, P->state, n * sizeof *out);
  if (committed) *committed = P->bn_step;
  return NCO_OK;
}

int nco_nn_set_state(nco_problem *pb, const float *in, size_t n, uint64_t committed) {
  nn_prob *P;
  int st = need_nn(pb, "set_state", &P);
  if (st || (st = state_size_ok(pb, P, "set_state", in, n))) return st;
  for (size_t j = 0; j < n; j++)
    if (!isfinite(in[j]))
      return nco_error(NCO_ERR_NONFINITE, "%s: set_state: entry %zu is %g", pb->label, j, (double)in[j]);
  if (n) memcpy(P->state, in, n * sizeof *in);
  P->bn_step = committed;
  return NCO_OK;
}
