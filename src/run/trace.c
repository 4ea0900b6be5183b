/* The trace's rows (run_state.h): when a row is due, the full-batch values
 * it needs (asked of the probe registry, probes.c), and the row's text;
 * rows are written by the output sink (files.c: rs_trace_flush). */
#include "run_state.h"

static int col_due(const column *c, uint64_t t, int logged) {
  if (!c->every) return 0;
  if (c->every == NCO_PROBE_AT_LOG) return logged;
  return t % (uint64_t)c->every == 0;
}

static int log_due(const run *r, uint64_t t) { return t == 0 || t >= r->total || t % r->log_k == 0; }

/* minibatch runs: the full-data loss is due at this row */
static int full_due(const run *r, uint64_t t) {
  if (rs_is_full_batch(r)) return 0;
  if (t >= r->total) return 1; /* the last row (summary.json's final_loss reuses it) */
  return r->full_k && t % r->full_k == 0 && (t > 0 || r->full_at_0);
}

int rs_row_due(const run *r, uint64_t t) {
  int logged = log_due(r, t) || full_due(r, t);
  for (size_t i = 0; i < r->ncols && !logged; i++) logged |= col_due(&r->cols[i], t, 0);
  return logged;
}

/* trace.csv's header line */
void rs_trace_header(const run *r, buf_t *b) {
  rs_putf(b, "iter,epoch,seconds,loss,lr,batch_loss%s", rs_is_full_batch(r) ? "" : ",full_loss");
  for (size_t i = 0; i < r->ncols; i++) rs_putf(b, ",%s", r->cols[i].name);
  rs_putf(b, "\n");
}

static void note_loss(run *r, double loss) {
  r->last_loss = loss;
  if (loss < r->best_loss) r->best_loss = loss, r->best_iter = r->t;
}

/* Full-data evaluations of a minibatch run whose problem has state (batch
 * norm): in evaluation mode, with the running statistics, as torch's
 * model.eval() over the training set. In training mode the loss of the
 * whole data set would normalise with all n samples' statistics at once,
 * holding every sample's activations (gigabytes for a ResNet on 60 000
 * images), and it is not what any step optimised. enter = 1 before such an
 * evaluation, 0 after; nothing for every other run. */
int rs_full_data_mode(run *r, int enter) {
  if (!r->ns || rs_is_full_batch(r)) return NCO_OK;
  return nco_problem_set_training(r->pb, !enter);
}

/* The full-batch loss (and gradient if want_grad) at the output point,
 * unless already known. */
int rs_full_eval(run *r, int want_grad) {
  if (r->have_loss && (r->have_grad || !want_grad)) return NCO_OK;
  double loss;
  int st = nco_problem_eval(r->pb, rs_output(r), NULL, r->n, &loss, want_grad ? r->gfull : NULL);
  if (st) return st;
  r->cur_loss = loss, r->have_loss = 1;
  if (want_grad) r->have_grad = 1, r->rgrad_t = UINT64_MAX;
  note_loss(r, loss);
  return NCO_OK;
}

/* The gradient the landscape probes use: the full-batch gradient, or on
 * the sphere the Riemannian one P_x∇f (Ma eq. 5.4), projected once per
 * step (the stopping rule and the probes of a row share it). */
const float *rs_landscape_grad(run *r, const float *x) {
  if (r->pb->manifold != NCO_MANIFOLD_SPHERE) return r->gfull;
  if (r->rgrad_t != r->t) {
    nco_copy(r->dim, r->gfull, r->rgrad);
    nco_problem_project_tangent(r->pb, x, r->rgrad);
    r->rgrad_t = r->t;
  }
  return r->rgrad;
}

/* The full-batch values a row of step t needs: returns 1 if the loss is
 * needed, and *grad for the gradient (the registry says which probe needs
 * which; minibatch runs compute them only where a row asks). */
static int row_needs_full(const run *r, uint64_t t, int logged, int *grad) {
  int need = 0;
  *grad = r->cfg.grad_tol > 0;
  for (size_t i = 0; i < r->ncols; i++) {
    const column *c = &r->cols[i];
    if (c->kind != COL_PROBE || !col_due(c, t, logged)) continue;
    unsigned needs = rs_probe_needs(c->probe);
    *grad |= (needs & NCO_PROBE_NEEDS_GRAD) != 0;
    need |= (needs & NCO_PROBE_NEEDS_LOSS) != 0;
  }
  /* full batch: the row's loss is f(x_t); a stopping rule on the loss needs it at every row */
  return need || *grad || rs_is_full_batch(r) || full_due(r, t) || isfinite(r->cfg.target_loss);
}

/* iter, epoch, seconds, loss, lr, batch_loss[, full_loss] */
static void row_head(run *r, buf_t *b, double batch_loss) {
  uint64_t t = r->t;
  int mb = !rs_is_full_batch(r);
  rs_putf(b, "%llu,", (unsigned long long)t);
  rs_put_num(b, (double)r->samples / (double)r->n);
  rs_putf(b, ",%.6f,", r->train_seconds);
  if (!mb) rs_put_num(b, r->cur_loss);
  else if (r->win_n) rs_put_num(b, r->win_sum / (double)r->win_n);
  rs_put(b, ",", 1);
  double lr = rs_lr(r, 0, t); /* with parameter groups, the first group's (all: lr.<group>) */
  if (memcmp(&lr, &r->lr_val, sizeof lr) || !r->lr_text[0]) {
    rs_fmt_num(r->lr_text, lr);
    r->lr_val = lr;
  }
  rs_put(b, r->lr_text, strlen(r->lr_text));
  rs_put(b, ",", 1);
  if (t > 0 && isfinite(batch_loss)) rs_put_num(b, batch_loss);
  if (mb) {
    rs_put(b, ",", 1);
    if (r->have_loss) rs_put_num(b, r->cur_loss);
  }
}

/* Appends the row of step t: the loss (full batch: f(x_t); minibatch: the
 * mean step loss since the last row, and the full-data loss where due), the
 * probes due; whole rows are buffered and written by rs_trace_flush.
 * forced: the last row (its values are summary.json's). */
int rs_log_row(run *r, int forced, double batch_loss) {
  uint64_t t = r->t;
  int logged = forced || log_due(r, t), need_grad, st;
  int need = row_needs_full(r, t, logged, &need_grad);
  /* the last row's values are summary.json's: full batch with the gradient */
  if (forced || t >= r->total) need = 1, need_grad |= rs_is_full_batch(r);
  if ((st = rs_full_data_mode(r, 1))) return st;
  if (need && (st = rs_full_eval(r, need_grad))) return rs_full_data_mode(r, 0), st;
  const float *xo = rs_output(r);
  buf_t *b = &r->row;
  size_t row0 = b->n;
  row_head(r, b, batch_loss);
  for (size_t i = 0; i < r->ncols; i++) {
    rs_put(b, ",", 1);
    if (!col_due(&r->cols[i], t, logged)) continue;
    double v;
    if ((st = rs_probe_value(r, &r->cols[i], xo, &v))) {
      b->n = row0; /* no half row */
      rs_full_data_mode(r, 0);
      return st;
    }
    rs_put_num(b, v);
  }
  if ((st = rs_full_data_mode(r, 0))) return st;
  rs_putf(b, "\n");
  if (b->oom) return nco_error(NCO_ERR_NOMEM, "trace: out of memory");
  r->win_sum = 0, r->win_n = 0; /* the next row's mean starts here */
  /* rows are written in blocks (64 KiB, or a second's worth): a write(2)
   * per row would cost more than a cheap step */
  if (b->n >= 65536 || rs_now() - r->flush_wall >= 1.0) return rs_trace_flush(r);
  return NCO_OK;
}
