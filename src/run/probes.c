/* The probe registry and the probes' values at a trace row (run_state.h).
 *
 * Every probe is one row of NCO_PROBE_TABLE (ncopt/config.h: name, needs,
 * columns, cost, applicability, help) and one value function pv_<name>
 * here; the loop asks the registry what a row needs (rs_probe_needs) and
 * computes a column with rs_probe_value. Adding a probe: docs/ARCHITECTURE.md. */
#include "run_state.h"

/* ---- distances ---------------------------------------------------------- */

/* Σ (x − y)² in double with four accumulators in a fixed order (the same
 * bits on every machine); squared, for sums over slices. vec.h's nco_dist2
 * has one accumulator: its loop is latency-bound, ~4× slower, which at
 * d ~ 10⁵ made each trajectory probe cost several per cent of a training
 * step. With `copy`, y ← x in the same pass (inlined with a constant: two
 * loops, one without stores). */
static inline double sq_dist_pass(size_t n, const float *x, float *y, int copy) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    double d0 = (double)x[i] - y[i], d1 = (double)x[i + 1] - y[i + 1], d2 = (double)x[i + 2] - y[i + 2],
           d3 = (double)x[i + 3] - y[i + 3];
    s0 += d0 * d0, s1 += d1 * d1, s2 += d2 * d2, s3 += d3 * d3;
    if (copy) y[i] = x[i], y[i + 1] = x[i + 1], y[i + 2] = x[i + 2], y[i + 3] = x[i + 3];
  }
  for (; i < n; i++) {
    double d = (double)x[i] - y[i];
    s0 += d * d;
    if (copy) y[i] = x[i];
  }
  return (s0 + s1) + (s2 + s3);
}

static double sq_dist(size_t n, const float *x, const float *y) { return sq_dist_pass(n, x, (float *)y, 0); }

/* ‖x − y‖: the square root of sq_dist */
double rs_dist_fast(size_t n, const float *x, const float *y) {
  return sqrt(sq_dist(n, x, y));
}

/* The same, and prev ← x in the same pass (the path length: one pass over
 * θ per step). */
double rs_dist_copy(size_t n, const float *x, float *prev) { return sqrt(sq_dist_pass(n, x, prev, 1)); }

/* ‖θ_t − θ_0‖ and the per-group distances in one pass over θ: the groups
 * are contiguous slices from 0, the rest (the invex lifting's p) follows. */
static void distances(run *r, const float *x) {
  double total = 0;
  size_t end = 0;
  for (size_t l = 0; l < r->nlayers; l++) {
    const nco_slice *sl = &r->layers[l];
    double ss = sq_dist(sl->length, x + sl->offset, r->theta0 + sl->offset);
    /* Oymak & Soltanolkotabi §5.1: ‖W_l − W_l,0‖_F/‖W_l,0‖_F (‖W_l,0‖
     * computed once) */
    r->layer_rel[l] = r->layer_norm0[l] > 0 ? sqrt(ss) / r->layer_norm0[l] : NAN;
    total += ss;
    end = sl->offset + sl->length;
  }
  r->d0 = sqrt(total + sq_dist(r->dim - end, x + end, r->theta0 + end));
  r->d0_t = r->layer_t = r->t;
}

/* ---- the value of each probe ------------------------------------------- */

/* pv_<name>(r, c, x, v): probe c's value at step r->t; x = the output
 * point; cur_loss and, where the probe needs it, gfull hold the full-batch
 * values there. */
typedef int (*probe_fn)(run *r, const column *c, const float *x, double *v);

static int pv_grad_norm(run *r, const column *c, const float *x, double *v) {
  (void)c;
  *v = nco_nrm2(r->dim, rs_landscape_grad(r, x)); /* Riemannian on the sphere */
  return NCO_OK;
}

static int pv_dist_init(run *r, const column *c, const float *x, double *v) {
  (void)c;
  if (r->d0_t != r->t) distances(r, x);
  *v = r->d0;
  return NCO_OK;
}

static int pv_path_length(run *r, const column *c, const float *x, double *v) {
  (void)c, (void)x;
  *v = r->path_length;
  return NCO_OK;
}

static int pv_loss_unreg(run *r, const column *c, const float *x, double *v) {
  (void)c;
  if (r->cfg.reg == NCO_REG_NONE) {
    *v = r->cur_loss;
    return NCO_OK;
  }
  return nco_problem_loss_unreg(r->pb, x, NULL, r->n, v);
}

static int pv_pl_ratio(run *r, const column *c, const float *x, double *v) {
  (void)c;
  return nco_pl_ratio(r->cur_loss, r->cfg.f_star, r->dim, rs_landscape_grad(r, x), v);
}

static int pv_quasi_convexity(run *r, const column *c, const float *x, double *v) {
  (void)c;
  return nco_quasi_convexity(r->cur_loss, r->cfg.f_star, r->dim, rs_landscape_grad(r, x), x, r->xstar, v);
}

static int pv_rsi(run *r, const column *c, const float *x, double *v) {
  (void)c;
  return nco_rsi(r->dim, rs_landscape_grad(r, x), x, r->xstar, v);
}

/* hess_max and hess_min: one Lanczos call gives both ends */
static int pv_hess_max(run *r, const column *c, const float *x, double *v) {
  if (r->hess_t != r->t) {
    nco_lanczos_opts lz = r->lz;
    if (lz.max_iter > r->dim) lz.max_iter = r->dim;
    int st = nco_hessian_extremes(r->pb, x, r->probe_idx, r->probe_nb, &lz, 1, &r->hess_hi, &r->hess_lo, NULL);
    if (st) return st;
    r->hess_t = r->t;
  }
  *v = c->probe == NCO_PROBE_hess_max ? r->hess_hi : r->hess_lo;
  return NCO_OK;
}
#define pv_hess_min pv_hess_max

/* hess_topk: the k largest Ritz values of one Lanczos run (column k − 1 of
 * the probe's; Lanczos converges to the extremes first) */
static int topk_value(run *r, size_t k, const float *x, double *v) {
  if (r->topk_t != r->t) {
    nco_lanczos_opts lz = r->lz;
    if (lz.max_iter > r->dim) lz.max_iter = r->dim;
    size_t K = r->cfg.lz_topk < r->dim ? r->cfg.lz_topk : r->dim;
    double lo[NCO_DIAG_MAXK];
    for (size_t i = 0; i < NCO_DIAG_MAXK; i++) r->topk[i] = NAN;
    int st = nco_hessian_extremes(r->pb, x, r->probe_idx, r->probe_nb, &lz, K, r->topk, lo, NULL);
    if (st) return st;
    r->topk_t = r->t;
  }
  *v = r->topk[k];
  return NCO_OK;
}

static int pv_hess_topk(run *r, const column *c, const float *x, double *v) {
  (void)c;
  return topk_value(r, 0, x, v);
}

/* hess_trace and its standard error: Hutchinson's estimator, probes drawn
 * from lanczos.seed and the step (the same vectors whether or not the run
 * was resumed) */
static int pv_hess_trace(run *r, const column *c, const float *x, double *v) {
  if (r->trace_t != r->t) {
    nco_rng root, rng;
    nco_rng_seed(&root, r->cfg.lz_seed);
    nco_rng_derive(&root, r->t, &rng);
    int st = nco_hessian_trace(r->pb, x, r->probe_idx, r->probe_nb, r->cfg.lz_trace_samples, &rng, &r->trace_v, &r->trace_se);
    if (st) return st;
    r->trace_t = r->t;
  }
  *v = c->probe == NCO_PROBE_hess_trace ? r->trace_v : r->trace_se;
  return NCO_OK;
}
#define pv_hess_trace_se pv_hess_trace

/* jac_smax and jac_smin: one Golub–Kahan–Lanczos call */
static int pv_jac_smax(run *r, const column *c, const float *x, double *v) {
  if (r->jac_t != r->t) {
    nco_lanczos_opts lz = r->lz;
    size_t N = nco_problem_nres(r->pb, r->probe_nb), mn = N < r->dim ? N : r->dim;
    if (lz.max_iter > mn) lz.max_iter = mn;
    int st = nco_jacobian_svals(r->pb, x, r->probe_idx, r->probe_nb, &lz, &r->jac_hi, &r->jac_lo, NULL);
    if (st) return st;
    r->jac_t = r->t;
  }
  *v = c->probe == NCO_PROBE_jac_smax ? r->jac_hi : r->jac_lo;
  return NCO_OK;
}
#define pv_jac_smin pv_jac_smax

static int pv_misfit(run *r, const column *c, const float *x, double *v) {
  (void)c;
  if (r->misfit) return nco_misfit_eval(r->misfit, x, v, NULL);
  /* ‖r_t‖ = √(2 f/c) from the row's loss f = c·½‖r‖² (problem.h) */
  *v = sqrt(2 * r->cur_loss / nco_problem_scale(r->pb, r->n)) / r->r0;
  return NCO_OK;
}

/* ‖θ_t − θ_0‖/‖θ_0‖ (Oymak & Soltanolkotabi §5); the per-layer columns are
 * COL_LAYER (rs_probe_value) */
/* ‖x_l‖² of every layer slice into out[0..nlayers), the rest (after the
 * last layer: the invex lifting's p) into out[nlayers] */
static void layer_sq(const run *r, const float *x, double *out) {
  size_t end = 0;
  for (size_t l = 0; l < r->nlayers; l++) {
    const nco_slice *sl = &r->layers[l];
    out[l] = nco_dot(sl->length, x + sl->offset, x + sl->offset);
    end = sl->offset + sl->length;
  }
  out[r->nlayers] = nco_dot(r->dim - end, x + end, x + end);
}

static double total(const run *r, const double *sq) {
  double s = 0;
  for (size_t l = 0; l <= r->nlayers; l++) s += sq[l];
  return s;
}

/* after a step: ‖θ_{t+1} − θ_t‖² per layer (prev holds θ_t), for update_ratio */
void rs_layer_updates(run *r) {
  const float *x = rs_x(r);
  size_t end = 0;
  for (size_t l = 0; l < r->nlayers; l++) {
    const nco_slice *sl = &r->layers[l];
    r->upd2[l] = sq_dist(sl->length, x + sl->offset, r->prev + sl->offset);
    end = sl->offset + sl->length;
  }
  r->upd2[r->nlayers] = sq_dist(r->dim - end, x + end, r->prev + end);
}

/* param_norm, layer_grad, update_ratio: the whole θ's value, and through
 * COL_LAYER (per_layer) each layer's. The per-layer squares of θ and of
 * the gradient are computed once per row (not once per column). */
static double layer_value(run *r, int probe, size_t l, const float *x) {
  int grad = probe == NCO_PROBE_layer_grad;
  double *sq = grad ? r->lgrad2 : r->lparam2;
  uint64_t *at = grad ? &r->lgrad_t : &r->lparam_t;
  if (*at != r->t) layer_sq(r, grad ? rs_landscape_grad(r, x) : x, sq), *at = r->t;
  if (probe == NCO_PROBE_update_ratio) {
    double u = l < r->nlayers ? r->upd2[l] : total(r, r->upd2), p = l < r->nlayers ? sq[l] : total(r, sq);
    return r->t > 0 && p > 0 ? sqrt(u / p) : NAN;
  }
  return sqrt(l < r->nlayers ? sq[l] : total(r, sq));
}

static int pv_param_norm(run *r, const column *c, const float *x, double *v) {
  *v = layer_value(r, c->probe, (size_t)-1, x);
  return NCO_OK;
}
#define pv_layer_grad pv_param_norm
#define pv_update_ratio pv_param_norm

static int pv_distance(run *r, const column *c, const float *x, double *v) {
  (void)c;
  if (r->d0_t != r->t) distances(r, x);
  *v = r->theta0_norm > 0 ? r->d0 / r->theta0_norm : NAN;
  return NCO_OK;
}

/* no trace column: the replay after the run (replay.c) */
#define pv_regularity NULL

/* ---- the registry -------------------------------------------------------- */

#define NCO_X_INFO(X, name, needs_, columns_, cost_, applies_, help_) \
  {NCO_PROBE_##name, #name, needs_, columns_, cost_, applies_, help_},
static const nco_probe_info infos[NCO_PROBE_COUNT] = {NCO_PROBE_TABLE(NCO_X_INFO, ~)};
#undef NCO_X_INFO
#define NCO_X_VALUE(X, name, ...) [NCO_PROBE_##name] = pv_##name,
static const probe_fn values[NCO_PROBE_COUNT] = {NCO_PROBE_TABLE(NCO_X_VALUE, ~)};
#undef NCO_X_VALUE

const nco_probe_info *nco_probe_info_get(nco_probe_id id) {
  return (unsigned)id < NCO_PROBE_COUNT ? &infos[id] : NULL;
}

int nco_probe_find(const char *name) {
  for (int p = 0; p < NCO_PROBE_COUNT; p++)
    if (name && !strcmp(name, infos[p].name)) return p;
  return -1;
}

unsigned nco_probe_unmet(nco_probe_id id, unsigned have) {
  return (unsigned)id < NCO_PROBE_COUNT ? infos[id].needs & ~have : 0;
}

/* noun phrases: config.c's spec check says "needs " and this */
const char *nco_probe_need_text(unsigned bit) {
  switch (bit) {
    case NCO_PROBE_NEEDS_LOSS: return "the full-batch loss";
    case NCO_PROBE_NEEDS_GRAD: return "the full-batch gradient";
    case NCO_PROBE_NEEDS_HVP: return "Hessian-vector products (Lanczos)";
    case NCO_PROBE_NEEDS_JACOBIAN: return "a least-squares problem (residuals)";
    case NCO_PROBE_NEEDS_X_STAR: return "a known minimiser: set run.x_star = a .npy file with x*";
    case NCO_PROBE_NEEDS_F_STAR: return "a lower bound of the loss (run.f_star)";
    case NCO_PROBE_NEEDS_REPLAY: return "a replay of the run";
    case NCO_PROBE_NEEDS_PATH: return "the path length (one pass over θ per step)";
    case NCO_PROBE_NEEDS_GROUPS: return "the parameter groups (a network's layers)";
    case NCO_PROBE_NEEDS_TEST: return "a held-out set (run.eval_every)";
    default: return "?";
  }
}

void nco_probe_needs_text(nco_probe_id id, char *out, size_t cap) {
  size_t len = 0;
  if (cap) out[0] = '\0';
  unsigned needs = (unsigned)id < NCO_PROBE_COUNT ? infos[id].needs : 0;
  for (unsigned bit = 1; bit && bit <= needs; bit <<= 1)
    if ((needs & bit) && len < cap) len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? ", " : "", nco_probe_need_text(bit));
}

/* ---- what the run asks the registry --------------------------------------- */

unsigned rs_probe_needs(int p) { return infos[p].needs; }

int rs_probe_has_column(int p) { return values[p] != NULL; }

/* What the problem and the spec of run r provide: the bits a probe may
 * need (nco_probe_unmet). */
static unsigned run_has(const run *r) {
  unsigned have = NCO_PROBE_NEEDS_LOSS | NCO_PROBE_NEEDS_GRAD | NCO_PROBE_NEEDS_HVP | NCO_PROBE_NEEDS_F_STAR |
                  NCO_PROBE_NEEDS_REPLAY | NCO_PROBE_NEEDS_PATH | NCO_PROBE_NEEDS_GROUPS;
  if (nco_problem_is_least_squares(r->pb)) have |= NCO_PROBE_NEEDS_JACOBIAN;
  if (r->xstar) have |= NCO_PROBE_NEEDS_X_STAR;
  if (r->test) have |= NCO_PROBE_NEEDS_TEST;
  return have;
}

/* The probes on in the spec that the run cannot provide for: an error
 * naming the probe (the spec checks find these first, at the key's line). */
int rs_probes_check(const run *r) {
  unsigned have = run_has(r);
  for (int p = 0; p < NCO_PROBE_COUNT; p++) {
    unsigned miss = r->cfg.probe_every[p] ? nco_probe_unmet(p, have) : 0;
    if (miss)
      return nco_error(NCO_ERR_INVALID, "probes.%s: needs %s (the problem: %s)", infos[p].name,
                       nco_probe_need_text(miss & -miss), r->pb->label);
  }
  return NCO_OK;
}

/* Does any probe on in the spec need one of the bits of `what`? */
int rs_probes_need(const run *r, unsigned what) {
  for (int p = 0; p < NCO_PROBE_COUNT; p++)
    if (r->cfg.probe_every[p] && (infos[p].needs & what)) return 1;
  return 0;
}

/* Column c's value at step r->t (x = the output point). */
/* The held-out set is another problem over the same network: it evaluates
 * with the training problem's running statistics (batch norm in
 * evaluation mode, as torch's model.eval()). */
int rs_test_state(run *r) {
  uint64_t stamp;
  int st;
  if (!r->ns || !r->test) return NCO_OK;
  if ((st = nco_problem_get_state(r->pb, r->state, r->ns, &stamp))) return st;
  return nco_problem_set_state(r->test, r->state, r->ns, stamp);
}

int rs_probe_value(run *r, const column *c, const float *x, double *v) {
  *v = NAN;
  if (c->kind == COL_LAYER && c->probe != NCO_PROBE_distance) {
    *v = layer_value(r, c->probe, c->layer, x);
    return NCO_OK;
  }
  if (c->kind == COL_LAYER) {
    /* Oymak & Soltanolkotabi §5.1: ‖W_l − W_l,0‖_F/‖W_l,0‖_F per layer (the
     * norms of θ_0's slices are computed once) */
    if (r->layer_t != r->t) distances(r, x);
    *v = r->layer_rel[c->layer];
    return NCO_OK;
  }
  if (c->kind == COL_TOPK) return topk_value(r, c->layer, x, v);
  if (c->kind == COL_GROUP_LR) {
    *v = rs_lr(r, c->layer, r->t);
    return NCO_OK;
  }
  if (c->kind == COL_GROUP_GRAD) { /* ‖∇_g f‖ of the group's slice (the gradient of the grad_norm column) */
    const group *G = &r->grp[c->layer];
    *v = nco_nrm2(G->len, rs_landscape_grad(r, x) + G->off);
    return NCO_OK;
  }
  if (c->kind == COL_TEST_LOSS || c->kind == COL_TEST_ACC) {
    if (r->test_t != r->t) {
      nco_nn_metrics m;
      int st = rs_test_state(r);
      if (!st) st = nco_nn_evaluate(r->test, x, NULL, r->test->n, &m);
      if (st) return nco_error_context(st, "test set");
      r->test_loss = m.loss_mean, r->test_acc = m.accuracy, r->test_t = r->t;
    }
    *v = c->kind == COL_TEST_LOSS ? r->test_loss : r->test_acc;
    return NCO_OK;
  }
  int st = values[c->probe](r, c, x, v);
  if (st == NCO_ERR_RANGE && (infos[c->probe].needs & NCO_PROBE_NEEDS_F_STAR)) {
    char where[1200];
    nco_config_where(&r->cfg, "run", "f_star", where, sizeof where);
    return nco_error(st, "probes.%s: the loss %.17g is below run.f_star = %.17g (%s): f* must be a lower bound of the loss",
                     c->name, r->cur_loss, r->cfg.f_star, where);
  }
  if (st) return nco_error_context(st, "probes.%s", c->name);
  return NCO_OK;
}
