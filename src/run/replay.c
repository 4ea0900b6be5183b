/* The regularity probe's replay of a finished run (run_state.h). */
#include "run_state.h"

/* Chen, Yang & Zhou, Definition 2: θ_T is known only now, so the run is
 * replayed from θ_0 with the same seeds (a second optimiser on the same
 * problem) and every step k feeds (θ_k, θ_{k+1}, η_k, ℓ(θ_k; z_ξk)) to the
 * accumulator; no trajectory is stored. The replay must end at θ_T bit for
 * bit (else its γ would describe another trajectory: an error). γ_k goes
 * to regularity.csv every K steps (K of `regularity = K`; every step for
 * `true`). */
int rs_regularity_replay(run *r, const nco_run_hooks *hooks) {
  int st;
  double t0 = rs_now();
  run *q = calloc(1, sizeof *q);
  buf_t csv = {0};
  if (!q) return nco_error(NCO_ERR_NOMEM, "regularity: out of memory");
  memcpy(&q->cfg, &r->cfg, sizeof q->cfg);
  q->pb = r->pb, q->dim = r->dim, q->dim_x = r->dim_x, q->n = r->n, q->batch = r->batch, q->total = r->total;
  q->trace_fd = -1;
  q->theta0 = r->theta0;
  q->perm = nco_calloc(q->n, sizeof(size_t));
  q->idx = nco_calloc(q->batch ? q->batch : 1, sizeof(size_t));
  q->gfull = nco_calloc(q->dim, sizeof(float));
  q->prev = nco_calloc(q->dim, sizeof(float));
  nco_regularity_free(&r->reg);
  r->reg_done = 0, r->reg_skipped = 0, r->reg_identical = 0;
  const float *theta_T = nco_optim_x(r->o);
  uint64_t T = r->t;
  int64_t every = r->cfg.probe_every[NCO_PROBE_regularity];
  if (!q->perm || !q->idx || !q->gfull || !q->prev) {
    st = nco_error(NCO_ERR_NOMEM, "regularity: out of memory");
    goto done;
  }
  if ((st = rs_state_init(q)) || (st = nco_regularity_init(&r->reg, r->dim, theta_T, r->cfg.inf_loss))) goto done;
  rs_putf(&csv, "iter,gamma\n");
  nco_progress pr = {0, T, 0, NAN, 0, 0, 1, NULL, 0, 0};
  double last_cb = t0;
  while (q->t < T) {
    uint64_t k = q->t;
    if (q->fused && (st = rs_full_eval(q, 1))) goto done;
    nco_copy(q->dim, nco_optim_x(q->o), q->prev);
    double loss = NAN, eta = nco_schedule_lr(&q->cfg.sched, k), g = NAN;
    if ((st = rs_do_step(q, &loss))) goto done;
    if (eta > 0) {
      if ((st = nco_regularity_add_step(&r->reg, q->prev, nco_optim_x(q->o), eta, loss, &g))) {
        if (st == NCO_ERR_RANGE)
          st = nco_error(st, "step %llu: the loss %.17g is below run.inf_loss = %.17g: inf ℓ must be a lower bound",
                         (unsigned long long)k, loss, r->cfg.inf_loss);
        goto done;
      }
    } else {
      r->reg_skipped++; /* η_k = 0 (e.g. warm-up): no update, no constraint */
    }
    if (every == NCO_PROBE_AT_LOG || k % (uint64_t)every == 0) {
      rs_putf(&csv, "%llu,", (unsigned long long)k);
      rs_put_num(&csv, g);
      rs_put(&csv, "\n", 1);
    }
    if (hooks && hooks->progress && (k & 63) == 0 && rs_now() - last_cb > 0.05) {
      last_cb = rs_now();
      pr.iter = k, pr.seconds = last_cb - t0, pr.loss = loss;
      if (hooks->progress(hooks->ctx, &pr)) {
        st = NCO_CANCELLED;
        goto done;
      }
    }
  }
  /* the replay must be the run */
  const float *xq = nco_optim_x(q->o);
  size_t diff = r->dim;
  for (size_t i = 0; i < r->dim && diff == r->dim; i++)
    if (memcmp(&xq[i], &theta_T[i], sizeof(float))) diff = i;
  if (diff < r->dim) {
    st = nco_error(NCO_ERR_NUMERIC, "the replay did not reproduce the run: parameter %zu is %.9g, the run ended at %.9g",
                   diff, (double)xq[diff], (double)theta_T[diff]);
    goto done;
  }
  r->reg_identical = 1;
  if (csv.oom) {
    st = nco_error(NCO_ERR_NOMEM, "regularity: out of memory");
    goto done;
  }
  if ((st = rs_out_file(r, "regularity.csv", csv.p, csv.n))) goto done;
  r->reg_done = 1;
done:
  r->reg_seconds = rs_now() - t0;
  free(csv.p);
  nco_optim_free(q->o);
  free(q->perm), free(q->idx), free(q->gfull), free(q->prev);
  nco_problem_set_step(r->pb, r->t);
  free(q);
  return st;
}
