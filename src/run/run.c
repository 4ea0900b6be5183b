/* The run loop: minibatches, schedule, optimiser, probes, trace,
 * checkpoints, stopping rules, outputs (see run.h).
 *
 * One iteration at step t (the optimiser holds x_t):
 *   1. the full-batch values at x_t if they are needed: for full-batch
 *      first-order methods that query at x_t (sgd, adam, ...) the step's own
 *      evaluation IS the full-batch loss and gradient, so it is computed
 *      once, logged and then handed to nco_optim_step (no second
 *      evaluation at logged rows); otherwise only at logged rows;
 *   2. the trace row of step t if one is due (every log_every steps, every
 *      K steps for a probe `name = K` or for full_loss_every, step 0 and
 *      the last step). Full-batch runs log the full-batch loss f(x_t);
 *      minibatch runs log, at no extra cost, the mean of the minibatch
 *      losses of the steps since the previous row (`loss`) and the
 *      full-data loss only where run.full_loss_every (or a probe that
 *      needs it) asks (`full_loss`);
 *   3. the stopping rules (target_loss and grad_tol wherever the full-batch
 *      values at x_t are known, max_seconds, the planned steps);
 *   4. a checkpoint every checkpoint_every steps (auto: every
 *      checkpoint_seconds of wall time, at least 50× a checkpoint's own
 *      duration apart, so that it costs ≤ 2%);
 *   5. the progress hook (which may cancel);
 *   6. the step x_t → x_{t+1}.
 * A checkpoint taken at step t holds the state after 1–5, so a resumed run
 * starts at 6 and repeats nothing: trace and parameters are bitwise those
 * of an uninterrupted run. */
#include "run_state.h"

/* ---- the loop ------------------------------------------------------------ */

/* Next minibatch into r->idx; returns its size. */
size_t rs_next_batch(run *r) {
  size_t b = r->batch;
  if (r->cfg.sampling == NCO_SAMPLE_REPLACEMENT) {
    for (size_t i = 0; i < b; i++) r->idx[i] = (size_t)nco_rng_below(&r->batch_rng, r->n);
    r->samples += b;
    return b;
  }
  if (r->pos >= r->n) {
    if (r->cfg.sampling == NCO_SAMPLE_RESHUFFLE) nco_rng_shuffle(&r->batch_rng, r->perm, r->n);
    r->pos = 0;
  }
  /* else the last batch of an epoch may be smaller (DataLoader drop_last=False) */
  size_t nb = r->n - r->pos < b ? r->n - r->pos : b;
  memcpy(r->idx, r->perm + r->pos, nb * sizeof *r->idx);
  r->pos += nb;
  r->samples += nb;
  /* drop_last: an epoch's partial last batch is passed over now (counted in
   * samples, so that epoch = samples/n is whole at the epoch's last step) */
  if (r->cfg.drop_last && r->pos < r->n && r->n - r->pos < b) {
    r->samples += r->n - r->pos;
    r->pos = r->n;
  }
  return nb;
}

static void fill_result(const run *r, int stop, const char *msg, nco_run_result *res) {
  if (!res) return;
  res->stop = stop;
  res->iterations = r->t;
  res->final_loss = r->last_loss;
  res->best_loss = r->best_loss;
  res->train_seconds = r->train_seconds;
  snprintf(res->message, sizeof res->message, "%s", msg);
}

/* The loss the progress line shows: minibatch runs the mean step loss of
 * the epoch so far (as Keras's progress bar), full-batch runs the latest
 * evaluation. */
static double current_loss(const run *r, double batch_loss) {
  if (!rs_is_full_batch(r)) return r->ep_n ? r->ep_sum / (double)r->ep_n : NAN;
  return r->have_loss ? r->cur_loss : isfinite(batch_loss) ? batch_loss : r->last_loss;
}

static void progress(const run *r, const nco_run_hooks *hooks, double batch_loss, int done, int *cancel) {
  if (!hooks || !hooks->progress) return;
  nco_progress p = {r->t, r->total, (uint64_t)((double)r->samples / (double)r->n), current_loss(r, batch_loss),
                    r->train_seconds, done, 0, NULL, 0, 0};
  if (hooks->progress(hooks->ctx, &p) && !done) *cancel = 1;
}

/* Step x_t → x_{t+1} (the run's and the replay's: the same code, so the
 * same bits); *batch_loss = what the step evaluated. */
int rs_do_step(run *r, double *batch_loss) {
  nco_optim *o = r->o;
  if (o) nco_optim_set_lr(o, nco_schedule_lr(&r->cfg.sched, r->t));
  nco_problem_set_step(r->pb, r->t + 1); /* the randomness (dropout masks) of step t */
  int ist;
  if (r->ng) {
    ist = rs_groups_step(r, batch_loss); /* one round of the parameter groups */
  } else if (r->fused) {
    r->samples += r->n;
    *batch_loss = r->cur_loss;
    ist = nco_optim_step_trusted(o, r->gfull, r->cur_loss); /* nco_problem_eval checked it */
  } else if (rs_is_full_batch(r)) {
    r->samples += r->n;
    ist = nco_optim_iterate(o, r->pb, NULL, r->n, batch_loss, NULL);
  } else {
    size_t nb = rs_next_batch(r);
    ist = nco_optim_iterate(o, r->pb, r->idx, nb, batch_loss, NULL);
  }
  if (ist < 0) return ist;
  r->t++;
  r->have_loss = r->have_grad = 0;
  r->rgrad_t = UINT64_MAX;
  r->optim_converged = ist == NCO_CONVERGED;
  nco_problem_set_step(r->pb, r->t);
  return NCO_OK;
}

/* A checkpoint is due at step t: every ckpt_k steps, or (auto) when
 * checkpoint_seconds of wall time have passed since the last one and at
 * least 50 times its duration (≤ 2% of the time). Which step an automatic
 * checkpoint lands on depends on the clock, but never what the run
 * computes: a run resumed from any checkpoint is the same run. */
static int ckpt_due(const run *r) {
  if (r->t == 0 || r->last_ckpt == r->t) return 0;
  if (r->ckpt_k) return r->t % r->ckpt_k == 0;
  if (!r->ckpt_auto) return 0;
  return rs_now() - r->ckpt_wall >= fmax(r->cfg.checkpoint_seconds, 50 * r->ckpt_cost);
}

static int timed_checkpoint(run *r) {
  double t0 = rs_now();
  int st = rs_checkpoint_write(r);
  r->ckpt_wall = rs_now();
  r->ckpt_cost = r->ckpt_wall - t0;
  return st;
}

/* 3: the stopping rules at step t; 0 or the stop, described in msg */
static int stop_rule(run *r, char *msg, size_t cap) {
  if (r->have_loss && r->cur_loss <= r->cfg.target_loss) {
    snprintf(msg, cap, "loss %.6g ≤ target_loss %.6g at step %llu", r->cur_loss, r->cfg.target_loss,
             (unsigned long long)r->t);
    return NCO_TARGET_REACHED;
  }
  if (r->have_grad && r->cfg.grad_tol > 0) {
    double gn = nco_nrm2(r->dim, rs_landscape_grad(r, rs_output(r)));
    if (gn <= r->cfg.grad_tol) {
      snprintf(msg, cap, "‖∇f‖ = %.6g ≤ grad_tol %.6g at step %llu", gn, r->cfg.grad_tol, (unsigned long long)r->t);
      return NCO_CONVERGED;
    }
  }
  if (r->optim_converged) {
    snprintf(msg, cap, "%s converged at step %llu (its tolerances)",
             r->ng ? "every group's method" : nco_optim_type_name(r->cfg.optim), (unsigned long long)r->t);
    return NCO_CONVERGED;
  }
  if (r->t >= r->total) {
    snprintf(msg, cap, "completed %llu steps", (unsigned long long)r->t);
    return NCO_MAX_ITER;
  }
  if (r->train_seconds >= r->cfg.max_seconds) {
    snprintf(msg, cap, "max_seconds %.6g reached at step %llu", r->cfg.max_seconds, (unsigned long long)r->t);
    return NCO_TIME_LIMIT;
  }
  return 0;
}

/* After the step: the minibatch accumulators (the row's mean, the
 * progress line's epoch mean) and the path length (prev holds x_t; after
 * this, x_{t+1}). */
static void after_step(run *r, double batch_loss) {
  if (!rs_is_full_batch(r)) {
    r->win_sum += batch_loss, r->win_n++;
    uint64_t ep = (r->samples - 1) / r->n; /* the epoch of this step's batch */
    if (ep != r->ep_cur) r->ep_cur = ep, r->ep_sum = 0, r->ep_n = 0;
    r->ep_sum += batch_loss, r->ep_n++;
  }
  if (r->upd_on) rs_layer_updates(r); /* reads prev = θ_t before the path's copy */
  if (r->path_on) r->path_length += rs_dist_copy(r->dim, rs_x(r), r->prev);
}

/* The regularity probe's replay after the run; the stop becomes
 * NCO_CANCELLED if it was interrupted, its error is kept in reg_error. */
static int replay_after(run *r, const nco_run_hooks *hooks, int stop, char *msg, size_t cap) {
  if (!r->cfg.probe_every[NCO_PROBE_regularity] || stop == NCO_CANCELLED) return stop;
  nco_problem_counters keep = r->pb->counters; /* summary.json counts the run's evaluations */
  int rst = rs_regularity_replay(r, hooks);
  r->pb->counters = keep;
  if (rst == NCO_CANCELLED) {
    snprintf(msg, cap, "interrupted during the regularity replay (the run itself finished at step %llu)",
             (unsigned long long)r->t);
    return NCO_CANCELLED;
  }
  if (rst < 0) snprintf(r->reg_error, sizeof r->reg_error, "%s", nco_last_error());
  return stop;
}

/* The run failed at step t with status st: a diverged run still writes
 * its summary and parameters (for inspection). */
static int failed(run *r, int st, nco_run_result *res) {
  char msg[768];
  if (st == NCO_ERR_NONFINITE) {
    char detail[1024], ck[128];
    snprintf(detail, sizeof detail, "%s", nco_last_error());
    if (r->last_ckpt != UINT64_MAX)
      snprintf(ck, sizeof ck, "the last good checkpoint (step %llu) is kept", (unsigned long long)r->last_ckpt);
    else if (r->cfg.checkpoint_every == 0)
      snprintf(ck, sizeof ck, "no checkpoint was written (run.checkpoint_every = 0)");
    else
      snprintf(ck, sizeof ck, "it diverged before its first checkpoint");
    snprintf(msg, sizeof msg, "step %llu: non-finite loss or gradient (%.500s); %s", (unsigned long long)r->t, detail, ck);
    /* summary and parameters of the state where it happened, for inspection */
    (void)rs_write_outputs(r, st, msg);
    nco_error(st, "%s", msg);
  } else {
    snprintf(msg, sizeof msg, "step %llu: %s", (unsigned long long)r->t, nco_last_error());
  }
  fill_result(r, st, msg, res);
  return st;
}

/* The end of the run: the last row, the final checkpoint, the replay, the
 * outputs. logged_t: the last state already has its row. */
static int finish(run *r, const nco_run_hooks *hooks, nco_run_result *res, int stop, char *msg, size_t cap, int logged_t,
                  double batch_loss) {
  int st;
  /* the last state always has its row, except when interrupted (the resumed
   * run then writes exactly the rows an uninterrupted one would) */
  if (stop != NCO_CANCELLED && !logged_t && (st = rs_log_row(r, 1, batch_loss))) return failed(r, st, res);
  if ((st = rs_checkpoint_write(r))) return failed(r, st, res);
  stop = replay_after(r, hooks, stop, msg, cap);
  if ((st = rs_write_outputs(r, stop, msg))) return failed(r, st, res);
  if (r->reg_error[0]) {
    st = nco_error(NCO_ERR_NUMERIC, "probes.regularity: %s", r->reg_error);
    snprintf(msg, cap, "%s", nco_last_error());
    fill_result(r, st, msg, res);
    return st;
  }
  int dummy = 0;
  progress(r, hooks, batch_loss, 1, &dummy);
  fill_result(r, stop, msg, res);
  return stop;
}

/* 1 for a fused run: the step's own evaluation at x_t. A problem with
 * state (batch norm) folds the statistics of a step's evaluation in at the
 * step it is pinned to: this one belongs to step t → t + 1, as in the
 * unfused paths, and the pin stays (the row's probes at x_t then fold
 * nothing in again). Problems without state keep step t's pin, and so
 * their earlier bits (dropout masks of full-batch runs). */
int rs_fused_eval(run *r) {
  if (r->ns && !r->have_grad) nco_problem_set_step(r->pb, r->t + 1);
  return rs_full_eval(r, 1);
}

/* The loop (steps 1–6 above). row_done: the row (and evaluation) of step
 * r->t were already handled (a resumed run). */
int rs_loop(run *r, const nco_run_hooks *hooks, nco_run_result *res, int row_done) {
  int st = NCO_OK, stop = 0;
  char msg[768] = "";
  double t_start = rs_now() - r->train_seconds;
  double batch_loss = NAN;
  r->ckpt_wall = rs_now();
  if (r->path_on) nco_copy(r->dim, rs_x(r), r->prev);
  int logged_t = row_done;

  for (;;) {
    /* 1–2: evaluation and row of step t */
    if (!row_done) {
      if (r->fused && r->t < r->total && (st = rs_fused_eval(r))) return failed(r, st, res);
      if (rs_row_due(r, r->t)) {
        if ((st = rs_log_row(r, 0, batch_loss))) return failed(r, st, res);
        logged_t = 1;
      }
      row_done = 1;
    }
    /* 3: stopping rules */
    if ((stop = stop_rule(r, msg, sizeof msg))) break;
    /* 4: checkpoint */
    if (ckpt_due(r) && (st = timed_checkpoint(r))) return failed(r, st, res);
    /* 5: progress, cancellation */
    int cancel = 0;
    progress(r, hooks, batch_loss, 0, &cancel);
    if (cancel) {
      stop = NCO_CANCELLED;
      snprintf(msg, sizeof msg, "interrupted at step %llu", (unsigned long long)r->t);
      break;
    }
    /* 6: the step */
    if ((st = rs_do_step(r, &batch_loss))) return failed(r, st, res);
    row_done = logged_t = 0;
    after_step(r, batch_loss);
    r->train_seconds = rs_now() - t_start;
  }
  return finish(r, hooks, res, stop, msg, sizeof msg, logged_t, batch_loss);
}

int nco_run_train(const nco_config *cfg, const char *out_dir, const nco_run_hooks *hooks, nco_run_result *res) {
  int st, spec_error = 0;
  run *r = rs_run_new(cfg);
  if (res) memset(res, 0, sizeof *res);
  if (!r) return nco_error(NCO_ERR_NOMEM, "run: out of memory");
  snprintf(r->dir, sizeof r->dir, "%s", out_dir);
  /* everything that can be wrong with the spec or the data is found
   * before the output folder is touched */
  if ((st = rs_spec_text(cfg, &r->spec_text))) goto done;
  if ((st = rs_run_setup(r, NULL, 0, &spec_error))) goto done;
  /* the data files' fingerprint: only a run that checkpoints needs it
   * (nco_run_check, which a sweep calls for every point, does not) */
  if ((st = rs_data_fingerprint(r))) goto done;
  if ((st = nco_mkdirs(out_dir))) goto done;
  /* one writer per folder: a second process into the same folder is
   * refused before it touches anything */
  if ((st = nco_dir_lock(out_dir, &r->lock_fd))) goto done;
  /* a fresh run replaces an earlier run's files in this folder (the CLI
   * asks for --force first) */
  nco_run_remove_outputs(out_dir);
  if ((st = rs_out_file(r, "spec.ini", r->spec_text, strlen(r->spec_text)))) goto done;
  buf_t h = {0};
  rs_trace_header(r, &h);
  st = h.oom ? nco_error(NCO_ERR_NOMEM, "trace: out of memory") : rs_out_file(r, "trace.csv", h.p, h.n);
  free(h.p);
  if (st || (st = rs_trace_open(r))) goto done;
  st = rs_loop(r, hooks, res, 0);
done:
  rs_result_error(res, st, spec_error);
  rs_run_free(r);
  return st;
}
