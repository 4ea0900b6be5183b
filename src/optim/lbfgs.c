/* src/optim/lbfgs.c — limited-memory BFGS with torch.optim.LBFGS semantics.
 *
 * One nco_optim_iterate() is one torch `LBFGS.step(closure)`: up to
 * max_iter inner iterations and at most max_eval evaluations, each inner
 * iteration updating the curvature memory, computing the two-loop direction
 * (Nocedal & Wright, "Numerical Optimization", 2nd ed., Alg. 7.4, with the
 * initial scaling H₀ = sᵀy/yᵀy of eq. 7.20) and moving by a fixed step
 * (line_search_fn none) or by a strong-Wolfe line search with cubic
 * interpolation (N&W Alg. 3.5/3.6, as in torch's `_strong_wolfe`, ported by
 * torch from Schmidt's minFunc / torch7 lswolfe.lua: c1 = 1e-4, c2 = 0.9,
 * at most 25 line-search iterations, bracket tolerance 1e-9 — torch does
 * not pass the user's tolerance_change to the line search, nor do we).
 * Semantics matched to torch/optim/lbfgs.py (PyTorch docs: torch.optim.LBFGS):
 *   - first direction −g with t = min(1, 1/‖g‖₁)·lr, then t = lr;
 *   - a pair (s, y) is stored only if yᵀs > 1e-10; the oldest pair is
 *     dropped when history_size pairs are held;
 *   - stops (returning NCO_CONVERGED where torch breaks on a tolerance):
 *     ‖g‖_∞ ≤ tolerance_grad at the start or after a move, gᵀd >
 *     −tolerance_change, ‖t·d‖_∞ ≤ tolerance_change, |Δloss| <
 *     tolerance_change; and returning NCO_OK on max_iter or max_eval;
 *   - without a line search the last inner iteration does not re-evaluate.
 * Scalars are kept in double (torch keeps many as float32 tensors), vectors
 * (s, y, d, gradients) in float32 as torch does; dot products accumulate in
 * double. Results therefore agree with torch to float32 rounding, not bitwise.
 *
 * Full batch only: L-BFGS builds curvature pairs from gradient differences,
 * which mix two different objectives when the batch changes (torch has the
 * same limitation). nco_optim_iterate refuses a batch of nb < n samples.
 * There is no ask/tell form (the line search needs several evaluations per
 * step). weight_decay and maximize are not supported (torch's LBFGS has
 * neither), nor a projection (L-BFGS here is unconstrained). lr is the
 * current o->lr, so schedules apply as torch's do to group['lr'].
 * A non-finite loss or gradient at any evaluation returns the error
 * (NCO_ERR_NONFINITE) with x at the last accepted inner iterate; torch would
 * carry the NaN on. One call counts as one step (o->k).
 *
 * State (all saved, so a resumed run continues bitwise):
 *   f[0, h·n)       s_i  = t_i d_i   ring of history_size pairs (old_stps)
 *   f[h·n, 2h·n)    y_i  = Δg        (old_dirs)
 *   f[2h·n, +n)     d    last direction
 *   f[.., +n)       previous flat gradient
 *   d[0, h)         ρ_i = 1/(y_iᵀs_i)
 *   d[h + LB_*]     scalars below
 * Scratch (not saved): flat gradient, trial point, line-search gradients
 * (5 more n-vectors) and the two-loop coefficients α_i (h doubles).
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "optim/internal.h"

/* scalar slots after the h ρ values */
enum {
  LB_T = 0,     /* last step length t */
  LB_HDIAG,     /* H_diag = sᵀy/yᵀy */
  LB_NITER,     /* state['n_iter']: inner iterations over all steps */
  LB_FEVALS,    /* state['func_evals'] */
  LB_PREV_LOSS, /* state['prev_loss'] */
  LB_HEAD,      /* ring position of the oldest pair */
  LB_COUNT,     /* pairs held (≤ history_size) */
  LB_NSCALARS
};

#define LS_C1 1e-4
#define LS_C2 0.9
#define LS_MAX 25
#define LS_TOL_CHANGE 1e-9
#define LB_YS_MIN 1e-10

typedef struct {
  float *s, *y, *d, *pg; /* state views */
  double *ro, *sc;
  float *g, *xt, *gn, *gp, *bg0, *bg1; /* scratch [n] each */
  double *al;                          /* scratch [h] */
} lb_views;

static void lb_view(nco_optim *o, lb_views *v) {
  size_t n = o->dim, h = o->hp.history_size;
  v->s = o->f;
  v->y = o->f + h * n;
  v->d = o->f + 2 * h * n;
  v->pg = v->d + n;
  v->ro = o->d;
  v->sc = o->d + h;
  float *w = (float *)o->scratch;
  v->g = w;
  v->xt = w + n;
  v->gn = w + 2 * n;
  v->gp = w + 3 * n;
  v->bg0 = w + 4 * n;
  v->bg1 = w + 5 * n;
  v->al = (double *)(void *)(w + 6 * n);
}

static void lb_defaults(nco_optim_params *hp) {
  hp->lr = 1.0;
  hp->history_size = 100;
  hp->max_iter = 20;
  hp->max_eval = 0;
  hp->tolerance_grad = 1e-7;
  hp->tolerance_change = 1e-9;
  hp->line_search_fn = NCO_LS_NONE;
}

static int lb_validate(const nco_optim_params *hp) {
  if (hp->weight_decay != 0)
    return nco_error(
        NCO_ERR_UNSUPPORTED,
        "optimizer.weight_decay: lbfgs has no weight decay (torch.optim.LBFGS neither); "
        "use an l2-regularised problem instead (got %g)",
        hp->weight_decay);
  if (hp->maximize)
    return nco_error(NCO_ERR_UNSUPPORTED, "optimizer.maximize: lbfgs only minimises (got %d)",
                     hp->maximize);
  if (hp->projection != NCO_PROJ_NONE)
    return nco_error(
        NCO_ERR_UNSUPPORTED,
        "optimizer.projection: lbfgs is unconstrained; projection must be none (got %d)",
        (int)hp->projection);
  return NCO_OK;
}

/* Sizes that overflow are reported as SIZE_MAX so that the byte count
 * computed by nco_optim_create overflows and is refused. */
static void lb_state_size(const nco_optim_params *hp, size_t dim, size_t *nf, size_t *nd,
                          size_t *scratch_bytes) {
  size_t h = hp->history_size, hn, a, b;
  *nf = *nd = *scratch_bytes = SIZE_MAX;
  if (nco_mul_size(h, dim, &hn) || nco_mul_size(hn, 2, &a) || nco_mul_size(dim, 2, &b) ||
      nco_add_size(a, b, nf))
    return;
  if (nco_add_size(h, LB_NSCALARS, nd)) return;
  size_t w, wb, ab;
  if (nco_mul_size(dim, 6, &w) || nco_mul_size(w, sizeof(float), &wb) ||
      nco_mul_size(h, sizeof(double), &ab) || nco_add_size(wb, ab, &wb) ||
      nco_add_size(wb, sizeof(double), scratch_bytes)) /* slack for the α alignment */
    *scratch_bytes = SIZE_MAX;
}

static int lb_init(nco_optim *o) {
  size_t n = o->dim, h = o->hp.history_size;
  memset(o->f, 0, (2 * h * n + 2 * n) * sizeof *o->f);
  for (size_t i = 0; i < h + LB_NSCALARS; i++) o->d[i] = 0.0;
  o->d[h + LB_HDIAG] = 1.0;
  return NCO_OK;
}

static double py_min(double a, double b) { return b < a ? b : a; } /* Python min(a, b) */
static double py_max(double a, double b) { return b > a ? b : a; } /* Python max(a, b) */

/* Minimiser of the cubic through (x1, f1, g1), (x2, f2, g2), clamped to
 * [lo, hi] (Nocedal & Wright eq. 3.59; torch `_cubic_interpolate`, from
 * minFunc's polyinterp). Without a real minimiser: the bounds' midpoint. */
static double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2,
                                int has_bounds, double lo, double hi) {
  double xmin_b, xmax_b;
  if (has_bounds) {
    xmin_b = lo;
    xmax_b = hi;
  } else if (x1 <= x2) {
    xmin_b = x1;
    xmax_b = x2;
  } else {
    xmin_b = x2;
    xmax_b = x1;
  }
  double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
  double d2sq = d1 * d1 - g1 * g2;
  if (d2sq >= 0) {
    double d2 = sqrt(d2sq), mp;
    if (x1 <= x2)
      mp = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2));
    else
      mp = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    return py_min(py_max(mp, xmin_b), xmax_b);
  }
  return (xmin_b + xmax_b) / 2.0;
}

typedef struct {
  nco_optim *o;
  nco_problem *pb;
  const size_t *idx;
  size_t nb;
  lb_views *v;
} lb_ctx;

/* f, g at x + t·d (torch `_directional_evaluate`); the trial point is
 * formed in double and rounded once. */
static int dir_eval(lb_ctx *c, double t, const float *d, double *f, float *g, double *gtd) {
  size_t n = c->o->dim;
  const float *x = c->o->x;
  float *xt = c->v->xt;
  for (size_t j = 0; j < n; j++) xt[j] = (float)((double)x[j] + t * (double)d[j]);
  int st = nco_problem_eval(c->pb, xt, c->idx, c->nb, f, g);
  if (st) return nco_error_context(st, "lbfgs: line search at t = %g", t);
  *gtd = nco_dot(n, g, d);
  return NCO_OK;
}

/* Strong-Wolfe line search (torch `_strong_wolfe`; Nocedal & Wright
 * Alg. 3.5 bracketing + Alg. 3.6 zoom with cubic interpolation).
 * In: f, g (v->g), gtd at x, initial t. Out: *f, v->g, *t at the accepted
 * point, *nevals evaluations. */
static int strong_wolfe(lb_ctx *c, double *t_io, double *f_io, double gtd, size_t *nevals) {
  lb_views *v = c->v;
  size_t n = c->o->dim;
  const float *d = v->d;
  double t = *t_io, f = *f_io;
  double d_norm = nco_amax(n, d);
  double f_new, gtd_new;
  int st;
  /* v->g holds g (torch clones it); g_prev in v->gp, g_new in v->gn. */
  if ((st = dir_eval(c, t, d, &f_new, v->gn, &gtd_new))) return st;
  size_t evals = 1;
  double t_prev = 0, f_prev = f, gtd_prev = gtd;
  nco_copy(n, v->g, v->gp);
  int done = 0;
  size_t ls_iter = 0;
  double bt[2] = {0, 0}, bf[2] = {0, 0}, bgtd[2] = {0, 0};
  float *bg[2] = {v->bg0, v->bg1};
  int nbr = 0;
  while (ls_iter < LS_MAX) {
    if (f_new > f + LS_C1 * t * gtd || (ls_iter > 1 && f_new >= f_prev)) {
      bt[0] = t_prev, bt[1] = t, bf[0] = f_prev, bf[1] = f_new, bgtd[0] = gtd_prev,
      bgtd[1] = gtd_new;
      nco_copy(n, v->gp, bg[0]);
      nco_copy(n, v->gn, bg[1]);
      nbr = 2;
      break;
    }
    if (fabs(gtd_new) <= -LS_C2 * gtd) {
      bt[0] = t, bf[0] = f_new;
      nco_copy(n, v->gn, bg[0]);
      nbr = 1;
      done = 1;
      break;
    }
    if (gtd_new >= 0) {
      bt[0] = t_prev, bt[1] = t, bf[0] = f_prev, bf[1] = f_new, bgtd[0] = gtd_prev,
      bgtd[1] = gtd_new;
      nco_copy(n, v->gp, bg[0]);
      nco_copy(n, v->gn, bg[1]);
      nbr = 2;
      break;
    }
    /* extrapolate: cubic step within [t + 0.01(t − t_prev), 10t] */
    double min_step = t + 0.01 * (t - t_prev), max_step = t * 10, tmp = t;
    t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, 1, min_step, max_step);
    t_prev = tmp;
    f_prev = f_new;
    nco_copy(n, v->gn, v->gp);
    gtd_prev = gtd_new;
    if ((st = dir_eval(c, t, d, &f_new, v->gn, &gtd_new))) return st;
    evals++;
    ls_iter++;
  }
  if (ls_iter == LS_MAX) {
    /* out of iterations: bracket [0, t] (torch keeps the stale gtd pair,
     * unused since the zoom below does not run) */
    bt[0] = 0, bt[1] = t, bf[0] = f, bf[1] = f_new;
    nco_copy(n, v->g, bg[0]);
    nco_copy(n, v->gn, bg[1]);
    nbr = 2;
  }
  /* zoom */
  int insuf = 0;
  int lo = (bf[0] <= bf[nbr - 1]) ? 0 : 1, hi = 1 - lo;
  while (!done && ls_iter < LS_MAX) {
    if (fabs(bt[1] - bt[0]) * d_norm < LS_TOL_CHANGE) break;
    t = cubic_interpolate(bt[0], bf[0], bgtd[0], bt[1], bf[1], bgtd[1], 0, 0, 0);
    double bmax = py_max(bt[0], bt[1]), bmin = py_min(bt[0], bt[1]);
    double eps = 0.1 * (bmax - bmin);
    if (py_min(bmax - t, t - bmin) < eps) {
      if (insuf || t >= bmax || t <= bmin) {
        t = (fabs(t - bmax) < fabs(t - bmin)) ? bmax - eps : bmin + eps;
        insuf = 0;
      } else {
        insuf = 1;
      }
    } else {
      insuf = 0;
    }
    if ((st = dir_eval(c, t, d, &f_new, v->gn, &gtd_new))) return st;
    evals++;
    ls_iter++;
    if (f_new > f + LS_C1 * t * gtd || f_new >= bf[lo]) {
      bt[hi] = t, bf[hi] = f_new, bgtd[hi] = gtd_new;
      nco_copy(n, v->gn, bg[hi]);
      lo = (bf[0] <= bf[1]) ? 0 : 1;
      hi = 1 - lo;
    } else {
      if (fabs(gtd_new) <= -LS_C2 * gtd) {
        done = 1;
      } else if (gtd_new * (bt[hi] - bt[lo]) >= 0) {
        bt[hi] = bt[lo], bf[hi] = bf[lo], bgtd[hi] = bgtd[lo];
        nco_copy(n, bg[lo], bg[hi]);
      }
      bt[lo] = t, bf[lo] = f_new, bgtd[lo] = gtd_new;
      nco_copy(n, v->gn, bg[lo]);
    }
  }
  *t_io = bt[lo];
  *f_io = bf[lo];
  nco_copy(n, bg[lo], v->g);
  *nevals = evals;
  return NCO_OK;
}

/* Two-loop recursion (Nocedal & Wright Alg. 7.4) in torch's form:
 * q = −g; α_i = ρ_i s_iᵀq, q −= α_i y_i (newest first); r = H_diag·q;
 * β_i = ρ_i y_iᵀr, r += (α_i − β_i) s_i (oldest first); d = r. */
static void two_loop(nco_optim *o, lb_views *v) {
  size_t n = o->dim, h = o->hp.history_size;
  size_t head = (size_t)v->sc[LB_HEAD], cnt = (size_t)v->sc[LB_COUNT];
  float *q = v->d;
  for (size_t j = 0; j < n; j++) q[j] = -v->g[j];
  for (size_t k = cnt; k-- > 0;) {
    size_t i = (head + k) % h;
    const float *s = v->s + i * n, *y = v->y + i * n;
    double a = nco_dot(n, s, q) * v->ro[i];
    v->al[k] = a;
    for (size_t j = 0; j < n; j++) q[j] = (float)((double)q[j] - a * y[j]);
  }
  double hd = v->sc[LB_HDIAG];
  for (size_t j = 0; j < n; j++) q[j] = (float)((double)q[j] * hd);
  for (size_t k = 0; k < cnt; k++) {
    size_t i = (head + k) % h;
    const float *s = v->s + i * n, *y = v->y + i * n;
    double be = nco_dot(n, y, q) * v->ro[i];
    double c = v->al[k] - be;
    for (size_t j = 0; j < n; j++) q[j] = (float)((double)q[j] + c * s[j]);
  }
}

static int lb_torch_step(nco_optim *o, nco_problem *pb, const size_t *idx, size_t nb,
                         double *loss_out, float *grad_out) {
  size_t n = o->dim, h = o->hp.history_size;
  const nco_optim_params *hp = &o->hp;
  lb_views v;
  lb_view(o, &v);
  double *sc = v.sc;
  if (!idx) nb = pb->n;
  if (nb != pb->n)
    return nco_error(NCO_ERR_UNSUPPORTED,
                     "lbfgs: needs the full batch (nb = n = %zu), got a batch of %zu samples: "
                     "curvature pairs from different minibatches are meaningless",
                     pb->n, nb);
  size_t max_iter = hp->max_iter;
  size_t max_eval = hp->max_eval ? hp->max_eval : max_iter / 4 * 5 + (max_iter % 4) * 5 / 4;
  lb_ctx c = {o, pb, idx, nb, &v};

  /* evaluate initial f(x) and ∇f(x) */
  double loss;
  int st = nco_problem_eval(pb, o->x, idx, nb, &loss, v.g);
  if (st) return nco_error_context(st, "lbfgs: step %llu", (unsigned long long)o->k);
  if (loss_out) *loss_out = loss;
  if (grad_out) nco_copy(n, v.g, grad_out);
  size_t current_evals = 1;
  sc[LB_FEVALS] += 1;
  if (nco_amax(n, v.g) <= hp->tolerance_grad) return NCO_CONVERGED;

  size_t n_iter = 0;
  int result = NCO_OK;
  double t = sc[LB_T];
  while (n_iter < max_iter) {
    n_iter++;
    sc[LB_NITER] += 1;
    if (sc[LB_NITER] == 1) {
      for (size_t j = 0; j < n; j++) v.d[j] = -v.g[j];
      sc[LB_HEAD] = 0;
      sc[LB_COUNT] = 0;
      sc[LB_HDIAG] = 1;
    } else {
      /* y = g − g_prev, s = t·d (stored in the ring slot that would be
       * next; kept only if yᵀs > 1e-10) */
      size_t head = (size_t)sc[LB_HEAD], cnt = (size_t)sc[LB_COUNT];
      size_t slot = (head + cnt) % h; /* == head when the ring is full */
      float *yslot = v.y + slot * n, *sslot = v.s + slot * n;
      /* build y, s in scratch first: the slot may hold the oldest pair */
      for (size_t j = 0; j < n; j++) {
        v.gn[j] = (float)((double)v.g[j] - v.pg[j]);
        v.gp[j] = (float)((double)v.d[j] * t);
      }
      double ys = nco_dot(n, v.gn, v.gp);
      if (ys > LB_YS_MIN) {
        nco_copy(n, v.gn, yslot);
        nco_copy(n, v.gp, sslot);
        v.ro[slot] = 1.0 / ys;
        if (cnt == h)
          sc[LB_HEAD] = (double)((head + 1) % h);
        else
          sc[LB_COUNT] = (double)(cnt + 1);
        /* Nocedal & Wright eq. (7.20): H₀ = sᵀy / yᵀy */
        sc[LB_HDIAG] = ys / nco_dot(n, v.gn, v.gn);
      }
      two_loop(o, &v);
    }
    nco_copy(n, v.g, v.pg);
    sc[LB_PREV_LOSS] = loss;
    double prev_loss = loss;

    /* step length guess */
    if (sc[LB_NITER] == 1) {
      double g1 = 0;
      for (size_t j = 0; j < n; j++) g1 += fabs((double)v.g[j]);
      t = py_min(1.0, 1.0 / g1) * o->lr;
    } else {
      t = o->lr;
    }
    sc[LB_T] = t;
    double gtd = nco_dot(n, v.g, v.d);
    if (gtd > -hp->tolerance_change) {
      result = NCO_CONVERGED;
      break;
    }

    size_t ls_evals = 0;
    int opt_cond = 0;
    if (hp->line_search_fn == NCO_LS_STRONG_WOLFE) {
      if ((st = strong_wolfe(&c, &t, &loss, gtd, &ls_evals))) return st;
      sc[LB_T] = t;
      for (size_t j = 0; j < n; j++) o->x[j] = (float)((double)o->x[j] + t * (double)v.d[j]);
      opt_cond = nco_amax(n, v.g) <= hp->tolerance_grad;
    } else {
      for (size_t j = 0; j < n; j++) o->x[j] = (float)((double)o->x[j] + t * (double)v.d[j]);
      if (n_iter != max_iter) {
        st = nco_problem_eval(pb, o->x, idx, nb, &loss, v.g);
        if (st)
          return nco_error_context(st, "lbfgs: step %llu, inner iteration %zu",
                                   (unsigned long long)o->k, n_iter);
        opt_cond = nco_amax(n, v.g) <= hp->tolerance_grad;
        ls_evals = 1;
      }
    }
    current_evals += ls_evals;
    sc[LB_FEVALS] += (double)ls_evals;

    if (n_iter == max_iter) break;
    if (current_evals >= max_eval) break;
    if (opt_cond) {
      result = NCO_CONVERGED;
      break;
    }
    double dt = 0;
    for (size_t j = 0; j < n; j++) {
      double a = fabs((double)(float)((double)v.d[j] * t));
      if (a > dt) dt = a;
    }
    if (dt <= hp->tolerance_change) {
      result = NCO_CONVERGED;
      break;
    }
    if (fabs(loss - prev_loss) < hp->tolerance_change) {
      result = NCO_CONVERGED;
      break;
    }
  }
  return result;
}

static int lb_iterate(nco_optim *o, nco_problem *pb, const size_t *idx, size_t nb, double *loss,
                      float *grad) {
  return nco_optim_counted(o, lb_torch_step(o, pb, idx, nb, loss, grad));
}

/* A checkpoint's ring counters index the s/y arrays: they must be whole
 * numbers inside the ring (two_loop reads (head + k) % h for k < count). */
static int lb_check_state(const nco_optim *o, const double *d) {
  size_t h = o->hp.history_size;
  const double *sc = d + h;
  double head = sc[LB_HEAD], cnt = sc[LB_COUNT];
  if (!(head >= 0 && head < (double)h && head == floor(head)) || !(cnt >= 0 && cnt <= (double)h && cnt == floor(cnt)))
    return nco_error(NCO_ERR_FORMAT, "optimizer lbfgs: load: ring position %g and count %g are not within the history of %zu",
                     head, cnt, h);
  for (int i = LB_T; i < LB_NSCALARS; i++)
    if (isnan(sc[i])) return nco_error(NCO_ERR_FORMAT, "optimizer lbfgs: load: scalar %d of the state is NaN", i);
  return NCO_OK;
}

const nco_optim_type nco_optim_lbfgs_type = {
    .name = "lbfgs",
    .help =
        "L-BFGS with torch.optim.LBFGS semantics (one step = up to max_iter inner "
        "iterations, full batch only); keys lr, history_size, max_iter, max_eval, "
        "tolerance_grad, tolerance_change, line_search_fn (none|strong_wolfe)",
    .ask_tell = 0,
    .requires = 0,
    .defaults = lb_defaults,
    .validate = lb_validate,
    .state_size = lb_state_size,
    .init = lb_init,
    .step = NULL,
    .projects = 1, /* projection refused in validate */
    .iterate = lb_iterate,
    .check_state = lb_check_state,
};

const nco_optim_type *const nco_optim_lbfgs = &nco_optim_lbfgs_type;
