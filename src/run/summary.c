/* summary.json, params.npy/aux.npy/params.json and the plots at the end
 * of a run (run_state.h). */
#include "run_state.h"
#include "nn/conv_dnnl.h"

/* ---- outputs ------------------------------------------------------------ */

static const char *stop_name(int st) {
  switch (st) {
    case NCO_MAX_ITER: return "max_iter";
    case NCO_TARGET_REACHED: return "target_loss";
    case NCO_CONVERGED: return "converged";
    case NCO_TIME_LIMIT: return "max_seconds";
    case NCO_CANCELLED: return "cancelled";
    case NCO_ERR_NONFINITE: return "non_finite";
    default: return st < 0 ? "error" : "ok";
  }
}

static void json_str(buf_t *b, const char *s) {
  rs_put(b, "\"", 1);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') rs_putf(b, "\\%c", c);
    else if (c < 0x20) rs_putf(b, "\\u%04x", c);
    else rs_put(b, s, 1);
  }
  rs_put(b, "\"", 1);
}

static void json_num(buf_t *b, double v) {
  if (isfinite(v)) rs_put_num(b, v);
  else rs_putf(b, "null");
}

/* One regularity accumulator's fields (γ, its step, the factor, ...) */
static void reg_fields(buf_t *b, const nco_regularity *reg, size_t skipped) {
  rs_putf(b, "\"gamma\": ");
  json_num(b, reg->gamma);
  rs_putf(b, ", \"argmin\": %zu, \"factor\": ", reg->argmin);
  json_num(b, nco_regularity_factor(reg));
  rs_putf(b, ", \"dist0_T\": ");
  json_num(b, reg->dist0_T);
  rs_putf(b, ", \"steps\": %zu, \"skipped\": %zu, \"violations\": %zu, \"zero_gap\": %zu, \"inf_loss\": ", reg->steps, skipped,
          reg->n_violations, reg->n_zero_gap);
  json_num(b, reg->inf_loss);
}

int rs_write_outputs(run *r, int stop, const char *message) {
  int st = rs_trace_flush(r);
  if (st) return st;
  const float *xo = rs_output(r);
  nco_problem_counters evals = r->pb->counters; /* the run's, not the summary's */
  /* params.npy: the x part; the invex lifting's p goes to aux.npy */
  if ((st = rs_out_npy_f32(r, "params.npy", xo, r->dim_x))) return st;
  if (r->dim > r->dim_x && (st = rs_out_npy_f32(r, "aux.npy", xo + r->dim_x, r->dim - r->dim_x))) return st;
  /* params.json: what each slice of params.npy is (PyTorch's names and
   * shapes for networks) */
  if ((st = rs_out_layer_map(r, "params.json"))) return st;
  double final = NAN, unreg = NAN, gnorm = NAN;
  /* the final values without touching the run's best (a cancelled run's
   * summary must not change what the resumed run reports) */
  double keep_best = r->best_loss, keep_last = r->last_loss;
  uint64_t keep_iter = r->best_iter;
  /* minibatch runs: the final full-data loss is one loss pass (the last
   * row's, reused); the gradient norm only where a row computed it */
  int want_grad = rs_is_full_batch(r) || (r->have_loss && r->have_grad);
  if ((st = rs_full_data_mode(r, 1))) return st;
  if (stop != NCO_ERR_NONFINITE && !rs_full_eval(r, want_grad)) {
    final = r->cur_loss;
    gnorm = want_grad ? nco_nrm2(r->dim, rs_landscape_grad(r, xo)) : NAN;
    if (r->cfg.reg == NCO_REG_NONE) unreg = final;
    else if (nco_problem_loss_unreg(r->pb, xo, NULL, r->n, &unreg)) unreg = NAN;
  }
  if ((st = rs_full_data_mode(r, 0))) return st;
  r->best_loss = keep_best, r->last_loss = isfinite(final) ? final : keep_last, r->best_iter = keep_iter;
  char plver[80] = "";
  plgver(plver);
  buf_t b = {0};
  rs_putf(&b, "{\n  \"versions\": {\"ncopt\": \"%s\", \"openblas\": ", NCO_VERSION_STRING);
  const char *obc = openblas_get_config();
  json_str(&b, obc ? obc : "unknown");
  rs_putf(&b, ", \"plplot\": ");
  json_str(&b, plver);
  rs_putf(&b, ", \"zlib\": ");
  json_str(&b, zlibVersion());
  if (*nco_conv_backend_name()) { /* the float32 convolutions' kernels, when any ran */
    rs_putf(&b, ", \"conv\": ");
    json_str(&b, nco_conv_backend_name());
  }
  rs_putf(&b, "},\n  \"problem\": ");
  json_str(&b, r->pb->label);
  rs_putf(&b, ",\n  \"optimizer\": \"%s\",\n  \"parameters\": %zu,\n  \"samples\": %zu,\n", nco_optim_type_name(r->cfg.optim),
       r->dim, r->n);
  rs_putf(&b, "  \"stop\": \"%s\",\n  \"message\": ", stop_name(stop));
  json_str(&b, message);
  rs_putf(&b, ",\n  \"iterations\": %llu,\n  \"planned_iterations\": %llu,\n  \"epochs\": ", (unsigned long long)r->t,
       (unsigned long long)r->total);
  json_num(&b, (double)r->samples / (double)r->n);
  rs_putf(&b, ",\n  \"train_seconds\": ");
  json_num(&b, r->train_seconds);
  rs_putf(&b, ",\n  \"final_loss\": ");
  json_num(&b, final);
  rs_putf(&b, ",\n  \"final_loss_unreg\": ");
  json_num(&b, unreg);
  rs_putf(&b, ",\n  \"final_grad_norm\": ");
  json_num(&b, gnorm);
  rs_putf(&b, ",\n  \"best_loss\": ");
  json_num(&b, r->best_loss);
  rs_putf(&b, ",\n  \"best_iter\": %llu", (unsigned long long)r->best_iter);
  rs_putf(&b, ",\n  \"path_length\": ");
  json_num(&b, r->path_on ? r->path_length : NAN);
  rs_putf(&b, ",\n  \"dist_init\": ");
  json_num(&b, rs_dist_fast(r->dim, xo, r->theta0));
  rs_putf(&b, ",\n  \"theta0_norm\": ");
  json_num(&b, r->theta0_norm);
  if (r->cfg.probe_every[NCO_PROBE_misfit]) {
    rs_putf(&b, ",\n  \"misfit_r0\": ");
    json_num(&b, r->r0);
  }
  if (r->test) {
    nco_nn_metrics m = {0, NAN, NAN, NAN};
    if (stop != NCO_ERR_NONFINITE && (rs_test_state(r) || nco_nn_evaluate(r->test, xo, NULL, r->test->n, &m)))
      m.loss_mean = m.accuracy = NAN;
    rs_putf(&b, ",\n  \"test_samples\": %zu,\n  \"final_test_loss\": ", r->test->n);
    json_num(&b, m.loss_mean);
    rs_putf(&b, ",\n  \"final_test_acc\": ");
    json_num(&b, m.accuracy);
  }
  if (r->ng) { /* the parameter groups: slice, method, steps per round */
    rs_putf(&b, ",\n  \"groups\": [");
    for (size_t g = 0; g < r->ng; g++) {
      rs_putf(&b, "%s{\"name\": ", g ? ", " : "");
      json_str(&b, r->grp[g].name);
      rs_putf(&b, ", \"offset\": %zu, \"length\": %zu, \"optimizer\": \"%s\", \"steps\": %llu, \"lr\": ", r->grp[g].off,
              r->grp[g].len, nco_optim_type_name(r->cfg.group[g].optim), (unsigned long long)r->grp[g].steps);
      json_num(&b, r->grp[g].sched.c);
      rs_putf(&b, "}");
    }
    rs_putf(&b, "]");
  }
  if (r->cfg.probe_every[NCO_PROBE_regularity]) {
    rs_putf(&b, ",\n  \"regularity\": ");
    if (r->reg_done) {
      rs_putf(&b, "{");
      if (!r->ng) reg_fields(&b, &r->reg, r->reg_skipped);
      for (size_t g = 0; g < r->ng; g++) {
        rs_putf(&b, "%s\"%s\": {", g ? ", " : "\"groups\": {", r->grp[g].name);
        reg_fields(&b, &r->grp[g].reg, r->grp[g].reg_skipped);
        rs_putf(&b, "}%s", g + 1 == r->ng ? "}" : "");
      }
      rs_putf(&b, ", \"replay_identical\": %s, \"replay_seconds\": ", r->reg_identical ? "true" : "false");
      json_num(&b, r->reg_seconds);
      rs_putf(&b, "}");
    } else {
      rs_putf(&b, "{\"error\": ");
      json_str(&b, r->reg_error[0] ? r->reg_error : "not computed (the run did not finish)");
      rs_putf(&b, "}");
    }
  }
  rs_putf(&b, ",\n  \"evaluations\": {\"loss\": %llu, \"grad\": %llu, \"jvp\": %llu, \"vjp\": %llu, \"hvp\": %llu, \"samples\": %llu}\n}\n",
       (unsigned long long)evals.loss, (unsigned long long)evals.grad, (unsigned long long)evals.jvp,
       (unsigned long long)evals.vjp, (unsigned long long)evals.hvp, (unsigned long long)evals.samples);
  if (b.oom) {
    free(b.p);
    return nco_error(NCO_ERR_NOMEM, "summary: out of memory");
  }
  st = rs_out_file(r, "summary.json", b.p, b.n);
  free(b.p);
  if (st) return st;
  return rs_out_plots(r);
}
