/* The regularity probe's replay of a finished run (run_state.h). */
#include "run_state.h"

/* Parameter groups: the replay's groups are the run's (slices, schedules),
 * with their own optimisers over the replay's θ. */
static int replay_groups(run *q, const run *r) {
  q->ng = r->ng;
  for (size_t g = 0; g < r->ng; g++) {
    q->grp[g] = (group){0};
    memcpy(q->grp[g].name, r->grp[g].name, sizeof q->grp[g].name);
    q->grp[g].off = r->grp[g].off, q->grp[g].len = r->grp[g].len;
    q->grp[g].sched = r->grp[g].sched, q->grp[g].steps = r->grp[g].steps;
  }
  if (!r->ng) return NCO_OK;
  q->theta = nco_calloc(q->dim, sizeof(float));
  q->theta_out = nco_calloc(q->dim, sizeof(float));
  return q->theta && q->theta_out ? NCO_OK : nco_error(NCO_ERR_NOMEM, "regularity: out of memory");
}

/* γ_k of step k into the accumulator(s): without groups one for all of θ
 * at η_k; with groups one per group, its slice at its own η_{g,k} (a
 * round's update of the group, over its `steps` steps, read as one step
 * of size η_{g,k}). *g receives the first accumulator's γ_k. */
static int regularity_add(run *r, const run *q, uint64_t k, double loss, double *gam, buf_t *csv, int row) {
  int st;
  size_t n = r->ng ? r->ng : 1;
  for (size_t g = 0; g < n; g++) {
    nco_regularity *acc = r->ng ? &r->grp[g].reg : &r->reg;
    size_t off = r->ng ? r->grp[g].off : 0;
    double eta = rs_lr(q, g, k), gk = NAN;
    if (eta > 0) {
      if ((st = nco_regularity_add_step(acc, q->prev + off, rs_x(q) + off, eta, loss, &gk))) {
        if (st == NCO_ERR_RANGE)
          st = nco_error(st, "step %llu: the loss %.17g is below run.inf_loss = %.17g: inf ℓ must be a lower bound",
                         (unsigned long long)k, loss, r->cfg.inf_loss);
        return st;
      }
    } else if (r->ng) {
      r->grp[g].reg_skipped++;
    } else {
      r->reg_skipped++; /* η_k = 0 (e.g. warm-up): no update, no constraint */
    }
    if (g == 0) *gam = gk;
    if (row) rs_put(csv, ",", 1), rs_put_num(csv, gk);
  }
  return NCO_OK;
}

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
  float *saved = NULL; /* the run's end state (batch-norm statistics) */
  uint64_t stamp_T = 0;
  if (!q) return nco_error(NCO_ERR_NOMEM, "regularity: out of memory");
  memcpy(&q->cfg, &r->cfg, sizeof q->cfg);
  q->pb = r->pb, q->ns = r->ns, q->dim = r->dim, q->dim_x = r->dim_x, q->n = r->n, q->batch = r->batch, q->total = r->total;
  q->trace_fd = -1;
  q->theta0 = r->theta0;
  q->perm = nco_calloc(q->n, sizeof(size_t));
  q->idx = nco_calloc(q->batch ? q->batch : 1, sizeof(size_t));
  q->gfull = nco_calloc(q->dim, sizeof(float));
  q->prev = nco_calloc(q->dim, sizeof(float));
  nco_regularity_free(&r->reg);
  r->reg_done = 0, r->reg_skipped = 0, r->reg_identical = 0;
  const float *theta_T = rs_x(r);
  uint64_t T = r->t;
  int64_t every = r->cfg.probe_every[NCO_PROBE_regularity];
  if (!q->perm || !q->idx || !q->gfull || !q->prev) {
    st = nco_error(NCO_ERR_NOMEM, "regularity: out of memory");
    goto done;
  }
  /* the problem's state (batch-norm statistics) restarts with the replay:
   * the run's end state is kept and put back afterwards */
  if (r->ns && (!(saved = nco_calloc(r->ns, sizeof(float))) || (st = nco_problem_get_state(r->pb, saved, r->ns, &stamp_T)) ||
                (st = nco_problem_set_state(r->pb, r->state0, r->ns, r->stamp0)))) {
    if (!saved) st = nco_error(NCO_ERR_NOMEM, "regularity: out of memory");
    free(saved), saved = NULL; /* nothing changed yet */
    goto done;
  }
  if ((st = replay_groups(q, r)) || (st = rs_state_init(q))) goto done;
  if (!r->ng && (st = nco_regularity_init(&r->reg, r->dim, theta_T, r->cfg.inf_loss))) goto done;
  rs_putf(&csv, "iter%s", r->ng ? "" : ",gamma");
  for (size_t g = 0; g < r->ng; g++) {
    nco_regularity_free(&r->grp[g].reg);
    r->grp[g].reg_skipped = 0;
    if ((st = nco_regularity_init(&r->grp[g].reg, r->grp[g].len, theta_T + r->grp[g].off, r->cfg.inf_loss))) goto done;
    rs_putf(&csv, ",gamma.%s", r->grp[g].name);
  }
  rs_putf(&csv, "\n");
  nco_progress pr = {0, T, 0, NAN, 0, 0, 1, NULL, 0, 0};
  double last_cb = t0;
  while (q->t < T) {
    uint64_t k = q->t;
    if (q->fused && (st = rs_fused_eval(q))) goto done;
    nco_copy(q->dim, rs_x(q), q->prev);
    double loss = NAN, g = NAN;
    if ((st = rs_do_step(q, &loss))) goto done;
    int row = every == NCO_PROBE_AT_LOG || k % (uint64_t)every == 0;
    if (row) rs_putf(&csv, "%llu", (unsigned long long)k);
    if ((st = regularity_add(r, q, k, loss, &g, &csv, row))) goto done;
    if (row) rs_put(&csv, "\n", 1);
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
  const float *xq = rs_x(q);
  size_t diff = r->dim;
  for (size_t i = 0; i < r->dim && diff == r->dim; i++)
    if (memcmp(&xq[i], &theta_T[i], sizeof(float))) diff = i;
  if (diff < r->dim) {
    st = nco_error(NCO_ERR_NUMERIC, "the replay did not reproduce the run: parameter %zu is %.9g, the run ended at %.9g",
                   diff, (double)xq[diff], (double)theta_T[diff]);
    goto done;
  }
  /* and so must the running statistics */
  if (r->ns) {
    uint64_t sq;
    if ((st = nco_problem_get_state(r->pb, r->state, r->ns, &sq))) goto done;
    for (size_t i = 0; i < r->ns && diff == r->dim; i++)
      if (memcmp(&r->state[i], &saved[i], sizeof(float))) diff = i;
    if (diff < r->dim) {
      st = nco_error(NCO_ERR_NUMERIC, "the replay did not reproduce the run's running statistics: entry %zu is %.9g, "
                     "the run ended at %.9g", diff, (double)r->state[diff], (double)saved[diff]);
      goto done;
    }
  }
  r->reg_identical = 1;
  if (csv.oom) {
    st = nco_error(NCO_ERR_NOMEM, "regularity: out of memory");
    goto done;
  }
  if ((st = rs_out_file(r, "regularity.csv", csv.p, csv.n))) goto done;
  r->reg_done = 1;
done:
  if (saved) { /* the run's end state back (its outputs and a resume read it) */
    int rst = nco_problem_set_state(r->pb, saved, r->ns, stamp_T);
    if (!st) st = rst;
    free(saved);
  }
  r->reg_seconds = rs_now() - t0;
  free(csv.p);
  nco_optim_free(q->o);
  rs_groups_free(q);
  free(q->theta), free(q->theta_out);
  free(q->perm), free(q->idx), free(q->gfull), free(q->prev);
  nco_problem_set_step(r->pb, r->t);
  free(q);
  return st;
}
