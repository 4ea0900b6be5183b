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

/* Σ (x − y)² in double with four accumulators in a fixed order (the same
 * bits on every machine); squared, for sums over slices. vec.h's nco_dist2
 * has one accumulator: its loop is latency-bound, ~4× slower, which at
 * d ~ 10⁵ made each trajectory probe cost several per cent of a training
 * step. */
static double sq_dist(size_t n, const float *x, const float *y) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    double d0 = (double)x[i] - y[i], d1 = (double)x[i + 1] - y[i + 1], d2 = (double)x[i + 2] - y[i + 2],
           d3 = (double)x[i + 3] - y[i + 3];
    s0 += d0 * d0, s1 += d1 * d1, s2 += d2 * d2, s3 += d3 * d3;
  }
  for (; i < n; i++) {
    double d = (double)x[i] - y[i];
    s0 += d * d;
  }
  return (s0 + s1) + (s2 + s3);
}

/* ‖x − y‖: the square root of sq_dist */
double rs_dist_fast(size_t n, const float *x, const float *y) {
  return sqrt(sq_dist(n, x, y));
}

/* The same, and prev ← x in the same pass (the path length: one pass over
 * θ per step). */
static double dist_copy(size_t n, const float *x, float *prev) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    double d0 = (double)x[i] - prev[i], d1 = (double)x[i + 1] - prev[i + 1], d2 = (double)x[i + 2] - prev[i + 2],
           d3 = (double)x[i + 3] - prev[i + 3];
    s0 += d0 * d0, s1 += d1 * d1, s2 += d2 * d2, s3 += d3 * d3;
    prev[i] = x[i], prev[i + 1] = x[i + 1], prev[i + 2] = x[i + 2], prev[i + 3] = x[i + 3];
  }
  for (; i < n; i++) {
    double d = (double)x[i] - prev[i];
    s0 += d * d;
    prev[i] = x[i];
  }
  return sqrt((s0 + s1) + (s2 + s3));
}

/* ---- the run state ------------------------------------------------------ */


static void run_free(run *r) {
  if (!r) return;
  if (r->trace_fd > 0) close(r->trace_fd);
  nco_dir_unlock(r->lock_fd);
  nco_optim_free(r->o);
  nco_problem_free(r->pb);
  nco_problem_free(r->test);
  nco_regularity_free(&r->reg);
  nco_misfit_free(r->misfit);
  free(r->spec_text), free(r->perm), free(r->theta0), free(r->prev), free(r->gfull), free(r->idx);
  free(r->cols), free(r->xstar), free(r->rgrad), free(r->row.p);
  free(r);
}

int rs_is_full_batch(const run *r) {
  return r->batch == 0 || (r->batch >= r->n && r->cfg.sampling != NCO_SAMPLE_REPLACEMENT);
}

/* A spec-class error found while building the run, located at its key. */
static int spec_err(const run *r, int st, const char *section, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int spec_err(const run *r, int st, const char *section, const char *key, const char *fmt, ...) {
  char where[1200], msg[900];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  nco_config_where(&r->cfg, section, key, where, sizeof where);
  return nco_error(st, "%s: %s.%s: %s", where, section, key, msg);
}

/* The loop's starting state at θ_0: optimiser, minibatch generator and
 * order, counters. Shared by the run and the regularity replay. */
int rs_state_init(run *r) {
  int st;
  nco_rng root, rng3;
  nco_rng_seed(&root, r->cfg.seed);
  nco_rng_derive(&root, 2, &r->batch_rng);
  nco_optim_params hp = r->cfg.hp;
  nco_rng_derive(&root, 3, &rng3);
  hp.seed = nco_rng_u64(&rng3);
  if ((st = nco_optim_create(r->cfg.optim, r->dim, &hp, r->theta0, &r->o))) return st;
  /* the step's own evaluation is the full-batch loss and gradient at x_t
   * when the method is first-order (plain gradient, no manifold), queries
   * at its iterate and reports its iterate */
  r->fused = rs_is_full_batch(r) && nco_optim_type_is_ask_tell(r->cfg.optim) && nco_optim_type_requires(r->cfg.optim) == 0 &&
             nco_optim_query(r->o) == nco_optim_x(r->o) && nco_optim_output(r->o) == nco_optim_x(r->o);
  for (size_t i = 0; i < r->n; i++) r->perm[i] = i;
  r->pos = r->n; /* the first batch starts a new epoch */
  r->t = r->samples = 0;
  r->best_loss = INFINITY;
  r->last_loss = NAN;
  r->have_loss = r->have_grad = r->optim_converged = 0;
  /* a network's dropout masks follow the step count (not the number of
   * evaluations), so logging, probes and resume never change them */
  if (r->net) {
    nco_nn_set_auto_step(r->pb, 0);
    nco_nn_set_step(r->pb, 0);
  }
  return NCO_OK;
}

/* The trace columns after batch_loss, in order. */
static int columns_setup(run *r) {
  const nco_config *cfg = &r->cfg;
  size_t cap = NCO_PROBE_COUNT + MAX_LAYERS + 2;
  r->cols = nco_calloc(cap, sizeof *r->cols);
  if (!r->cols) return nco_error(NCO_ERR_NOMEM, "run: out of memory");
  r->ncols = 0;
  /* per-layer slices of a network (weight and bias of a layer together) */
  const nco_nn_model *m = nco_nn_problem_model(r->pb);
  r->nlayers = 0;
  if (m && cfg->probe_every[NCO_PROBE_distance]) {
    size_t np = nco_nn_num_params(m);
    size_t last_layer = (size_t)-1;
    for (size_t i = 0; i < np; i++) {
      nco_nn_param q;
      int st = nco_nn_param_get(m, i, &q);
      if (st) return st;
      if (q.layer == last_layer && r->nlayers) {
        r->layers[r->nlayers - 1].length += q.length;
        continue;
      }
      if (r->nlayers == MAX_LAYERS) break;
      size_t L = strcspn(q.name, ".");
      snprintf(r->layer_names[r->nlayers], sizeof r->layer_names[0], "%.*s", (int)L, q.name);
      r->layers[r->nlayers] = (nco_slice){r->layer_names[r->nlayers], q.offset, q.length};
      r->nlayers++;
      last_layer = q.layer;
    }
    for (size_t l = 0; l < r->nlayers; l++)
      r->layer_norm0[l] = nco_nrm2(r->layers[l].length, r->theta0 + r->layers[l].offset);
  }
  for (int p = 0; p < NCO_PROBE_COUNT; p++) {
    if (!cfg->probe_every[p] || p == NCO_PROBE_regularity) continue;
    column *c = &r->cols[r->ncols++];
    snprintf(c->name, sizeof c->name, "%s", nco_probe_name(p));
    c->kind = COL_PROBE, c->probe = p, c->every = cfg->probe_every[p];
    if (p == NCO_PROBE_distance)
      for (size_t l = 0; l < r->nlayers; l++) {
        column *cl = &r->cols[r->ncols++];
        snprintf(cl->name, sizeof cl->name, "distance.%s", r->layer_names[l]);
        cl->kind = COL_LAYER, cl->layer = l, cl->every = cfg->probe_every[p];
      }
  }
  if (r->test) {
    column *c = &r->cols[r->ncols++];
    snprintf(c->name, sizeof c->name, "test_loss");
    c->kind = COL_TEST_LOSS, c->every = (int64_t)cfg->eval_every;
    c = &r->cols[r->ncols++];
    snprintf(c->name, sizeof c->name, "test_acc");
    c->kind = COL_TEST_ACC, c->every = (int64_t)cfg->eval_every;
  }
  return NCO_OK;
}

/* CRC-32 of a file's bytes, read in blocks. */
static int file_crc(const char *path, uint32_t *crc) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return nco_error(NCO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  static unsigned char blk[1 << 16];
  size_t n;
  while ((n = fread(blk, 1, sizeof blk, fp)) > 0) *crc = (uint32_t)crc32(*crc, blk, (uInt)n);
  int err = ferror(fp);
  fclose(fp);
  return err ? nco_error(NCO_ERR_IO, "%s: read error", path) : NCO_OK;
}

static int add_data_file(run *r, const char *path) {
  if (!*path) return NCO_OK;
  struct stat sb;
  if (stat(path, &sb) || !S_ISREG(sb.st_mode)) return NCO_OK; /* the loader has said what is wrong */
  r->data_crc = (uint32_t)crc32(r->data_crc, (const unsigned char *)path, (uInt)strlen(path));
  size_t L = strlen(r->data_files);
  snprintf(r->data_files + L, sizeof r->data_files - L, "%s%s", L ? ", " : "", path);
  return file_crc(path, &r->data_crc);
}

/* Hardening: a resumed run must read the data the run started with. A
 * fingerprint (CRC-32 over names and contents) of every data file the spec
 * names, and of an installed data set's files; synthetic data are a
 * function of the spec alone. */
static int data_fingerprint(run *r) {
  const nco_config *c = &r->cfg;
  const char *const files[] = {c->data_features, c->data_targets, c->data_matrix, c->data_entries, c->data_components,
                               c->data_v, c->data_images, c->data_labels, c->data_test_images, c->data_test_labels,
                               c->data_path, c->data_test_path};
  int st;
  r->data_crc = (uint32_t)crc32(0L, NULL, 0);
  r->data_files[0] = '\0';
  for (size_t i = 0; i < sizeof files / sizeof *files; i++)
    if ((st = add_data_file(r, files[i]))) return st;
  char dir[1024];
  if ((!strcmp(c->data_source, "fashion-mnist") || !strcmp(c->data_source, "mnist")) &&
      nco_data_dir(c->data_source, dir, sizeof dir)) {
    static const char *const names[] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                                        "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "images.npy", "labels.npy"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
      char path[1200];
      snprintf(path, sizeof path, "%s/%s", dir, names[i]);
      if ((st = add_data_file(r, path))) return st;
    }
  }
  if (!r->data_files[0]) snprintf(r->data_files, sizeof r->data_files, "synthetic data of data.seed");
  return NCO_OK;
}

static uint64_t every_steps(uint64_t v, uint64_t per_epoch) { return v == NCO_EVERY_EPOCH ? per_epoch : v; }

/* run.log_every, full_loss_every and checkpoint_every in steps. */
static void resolve_every(run *r) {
  const nco_config *c = &r->cfg;
  int mb = !rs_is_full_batch(r);
  if (c->log_every == NCO_EVERY_AUTO) {
    /* about 1000 rows; a full-batch method whose step does not evaluate at
     * x_t (accelegrad, psgd, rgd, ...) pays one full evaluation per row,
     * about one step's: rows ≥ 20 steps apart keep that ≤ 5% */
    uint64_t k = (r->total + 999) / 1000;
    if (!mb && !r->fused && nco_optim_type_is_ask_tell(c->optim) && k < 20) k = 20;
    /* formatting and writing a row costs about what 2000 multiply-adds of
     * a step do (measured: 5–8 µs against a glm step of 64 samples × 100
     * parameters, 26 µs), and a step does about (samples) × (parameters)
     * of them: rows ≥ 40000/(samples × parameters) steps apart cost ≤ 5%
     * even for the tiniest problems (a count, not a clock: the same spec
     * always writes the same rows) */
    double work = (double)(mb ? r->batch : r->n) * (double)r->dim;
    double kmin = ceil(40000.0 / (work > 1 ? work : 1));
    if ((double)k < kmin) k = (uint64_t)kmin;
    r->log_k = k ? k : 1;
  } else {
    r->log_k = every_steps(c->log_every, r->per_epoch);
  }
  /* auto: one loss pass over the data per 20 epochs of training (n samples
   * evaluated per 20·n trained: 5%), not at step 0 */
  r->full_k = !mb ? 0 : c->full_loss_every == NCO_EVERY_AUTO ? 20 * r->per_epoch : every_steps(c->full_loss_every, r->per_epoch);
  r->full_at_0 = c->full_loss_every != NCO_EVERY_AUTO;
  r->ckpt_auto = c->checkpoint_every == NCO_EVERY_AUTO;
  r->ckpt_k = r->ckpt_auto ? 0 : every_steps(c->checkpoint_every, r->per_epoch);
}

/* Builds problem, optimiser and buffers for cfg; x0 NULL = the spec's
 * init or the problem's. *spec_error is set for errors in the spec's
 * values (a batch larger than the data, an init of the wrong size). */
static int run_setup(run *r, const float *x0, size_t x0_len, int *spec_error) {
  int st;
  nco_config *cfg = &r->cfg;
  r->last_ckpt = UINT64_MAX;
  r->hess_t = r->jac_t = r->test_t = r->layer_t = r->d0_t = r->rgrad_t = UINT64_MAX;
  if ((st = nco_config_build_problems(cfg, 0, &r->pb, &r->test, spec_error))) return st;
  r->net = nco_nn_is_nn(r->pb);
  r->dim = r->pb->dim;
  r->dim_x = nco_problem_root(r->pb)->dim;
  r->n = r->pb->n;
  r->batch = cfg->batch;
  if (r->batch > r->n) {
    *spec_error = 1;
    return spec_err(r, NCO_ERR_RANGE, "optimizer", "batch", "%zu is larger than the number of samples n = %zu", r->batch,
                    r->n);
  }
  if (!rs_is_full_batch(r) && !nco_optim_type_is_ask_tell(cfg->optim)) {
    *spec_error = 1;
    return spec_err(r, NCO_ERR_INVALID, "optimizer", "batch", "%s is a full-batch method; set batch = 0",
                    nco_optim_type_name(cfg->optim));
  }
  uint64_t per_epoch = rs_is_full_batch(r) ? 1 : (r->n + r->batch - 1) / r->batch;
  if (!cfg->iterations && cfg->epochs > UINT64_MAX / 4 / per_epoch) {
    *spec_error = 1;
    return spec_err(r, NCO_ERR_OVERFLOW, "run", "epochs", "%llu epochs of %llu steps each overflow the step counter",
                    (unsigned long long)cfg->epochs, (unsigned long long)per_epoch);
  }
  r->total = cfg->iterations ? cfg->iterations : cfg->epochs * per_epoch;
  /* a schedule's horizon (T = auto) is the run's length; unit = epoch
   * counts epochs */
  if ((st = nco_config_resolve_schedule(cfg, r->total, per_epoch))) {
    *spec_error = 1;
    return st;
  }
  r->theta0 = nco_calloc(r->dim, sizeof(float));
  r->prev = nco_calloc(r->dim, sizeof(float));
  r->gfull = nco_calloc(r->dim, sizeof(float));
  r->perm = nco_calloc(r->n, sizeof(size_t));
  r->idx = nco_calloc(r->batch ? r->batch : 1, sizeof(size_t));
  if (!r->theta0 || !r->prev || !r->gfull || !r->perm || !r->idx)
    return nco_error(NCO_ERR_NOMEM, "run: out of memory (dim = %zu, n = %zu)", r->dim, r->n);
  if (x0 && x0_len != r->dim)
    return nco_error(NCO_ERR_SHAPE, "the checkpoint holds %zu parameters, the problem built from its spec has %zu "
                     "(did the data change since the run started?)", x0_len, r->dim);
  if (x0)
    nco_copy(r->dim, x0, r->theta0);
  else if ((st = nco_config_initial_point(cfg, r->pb, r->theta0, spec_error)))
    return st;
  r->per_epoch = per_epoch;
  if ((st = rs_state_init(r))) return st;
  resolve_every(r);
  r->trace_fd = -1;
  /* probes */
  r->lz = nco_config_lanczos(cfg);
  r->theta0_norm = nco_nrm2(r->dim, r->theta0);
  const int64_t *pe = cfg->probe_every;
  r->path_on = pe[NCO_PROBE_path_length] || pe[NCO_PROBE_misfit] || pe[NCO_PROBE_distance];
  /* the Riemannian gradient (grad_norm, grad_tol, the summary, landscape
   * probes) needs a scratch vector on the sphere */
  if (r->pb->manifold == NCO_MANIFOLD_SPHERE || pe[NCO_PROBE_hess_max] || pe[NCO_PROBE_hess_min] ||
      pe[NCO_PROBE_pl_ratio] || pe[NCO_PROBE_quasi_convexity] || pe[NCO_PROBE_rsi]) {
    r->rgrad = nco_calloc(r->dim, sizeof(float));
    if (!r->rgrad) return nco_error(NCO_ERR_NOMEM, "run: out of memory");
  }
  if (cfg->x_star[0]) {
    nco_array a = {0};
    char where[1200];
    nco_config_where(cfg, "run", "x_star", where, sizeof where);
    if ((st = nco_npy_read(cfg->x_star, &a)) || (st = nco_array_to_f32(&a))) {
      nco_array_free(&a);
      return nco_error_context(st, "%s: run.x_star", where);
    }
    if (a.size != r->dim && a.size != r->dim_x) {
      size_t got = a.size;
      nco_array_free(&a);
      *spec_error = 1;
      return spec_err(r, NCO_ERR_SHAPE, "run", "x_star", "%s holds %zu values, the problem has %zu parameters", cfg->x_star,
                      got, r->dim_x);
    }
    r->xstar = nco_calloc(r->dim, sizeof(float));
    if (!r->xstar) {
      nco_array_free(&a);
      return nco_error(NCO_ERR_NOMEM, "run: out of memory");
    }
    nco_copy(a.size, a.data, r->xstar);
    nco_array_free(&a);
    if (!nco_all_finite(r->dim, r->xstar)) {
      *spec_error = 1;
      return spec_err(r, NCO_ERR_NONFINITE, "run", "x_star", "%s holds a value that is not finite", cfg->x_star);
    }
  }
  r->r0 = NAN;
  if (pe[NCO_PROBE_misfit] && cfg->reg == NCO_REG_L2 && cfg->reduction == NCO_REDUCE_MEAN) {
    /* the ℓ2 penalty is not scaled by the reduction (reg.h): the loss is
     * not c·½‖r‖², so the rows evaluate the residual */
    if ((st = nco_misfit_create(r->pb, 0, r->theta0, NULL, r->n, &r->misfit)))
      return nco_error_context(st, "probes.misfit");
    r->r0 = nco_misfit_r0(r->misfit);
  } else if (pe[NCO_PROBE_misfit]) {
    /* ‖r(θ_0)‖ from the loss c·½‖r‖² (problem.h): the rows then need no
     * residual evaluation of their own */
    double f0;
    if ((st = nco_problem_eval(r->pb, r->theta0, NULL, r->n, &f0, NULL)))
      return nco_error_context(st, "misfit: the loss at θ_0");
    r->r0 = sqrt(2 * f0 / nco_problem_scale(r->pb, r->n));
    if (!(r->r0 > 0))
      return nco_error(NCO_ERR_RANGE, "probes.misfit: ‖r_0‖ = %g: θ_0 already interpolates the data, the ratio "
                       "‖r_t‖/‖r_0‖ is undefined", r->r0);
  }
  return columns_setup(r);
}

/* Next minibatch into r->idx; returns its size. */
static size_t next_batch(run *r) {
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
  /* the last batch of an epoch may be smaller (DataLoader drop_last=False) */
  size_t nb = r->n - r->pos < b ? r->n - r->pos : b;
  memcpy(r->idx, r->perm + r->pos, nb * sizeof *r->idx);
  r->pos += nb;
  r->samples += nb;
  return nb;
}

/* ---- trace ------------------------------------------------------------- */

static int col_due(const column *c, uint64_t t, int logged) {
  if (!c->every) return 0;
  if (c->every == NCO_PROBE_AT_LOG) return logged;
  return t % (uint64_t)c->every == 0;
}

static int probe_due(const run *r, int p, uint64_t t, int logged) {
  for (size_t i = 0; i < r->ncols; i++)
    if (r->cols[i].kind == COL_PROBE && r->cols[i].probe == p) return col_due(&r->cols[i], t, logged);
  return 0;
}

static int log_due(const run *r, uint64_t t) { return t == 0 || t >= r->total || t % r->log_k == 0; }

/* minibatch runs: the full-data loss is due at this row */
static int full_due(const run *r, uint64_t t) {
  if (rs_is_full_batch(r)) return 0;
  if (t >= r->total) return 1; /* the last row (summary.json's final_loss reuses it) */
  return r->full_k && t % r->full_k == 0 && (t > 0 || r->full_at_0);
}

static int row_due(const run *r, uint64_t t) {
  int logged = log_due(r, t) || full_due(r, t);
  for (size_t i = 0; i < r->ncols && !logged; i++) logged |= col_due(&r->cols[i], t, 0);
  return logged;
}

static void trace_header(run *r, buf_t *b) {
  rs_putf(b, "iter,epoch,seconds,loss,lr,batch_loss%s", rs_is_full_batch(r) ? "" : ",full_loss");
  for (size_t i = 0; i < r->ncols; i++) rs_putf(b, ",%s", r->cols[i].name);
  rs_putf(b, "\n");
}

static void note_loss(run *r, double loss) {
  r->last_loss = loss;
  if (loss < r->best_loss) r->best_loss = loss, r->best_iter = r->t;
}

/* The full-batch loss (and gradient if want_grad) at the output point,
 * unless already known. */
int rs_full_eval(run *r, int want_grad) {
  if (r->have_loss && (r->have_grad || !want_grad)) return NCO_OK;
  double loss;
  int st = nco_problem_eval(r->pb, nco_optim_output(r->o), NULL, r->n, &loss, want_grad ? r->gfull : NULL);
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

/* ‖θ_t − θ_0‖ and the per-layer distances in one pass over θ: the layers
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

/* One probe's value at step t (x = the output point; cur_loss and, where
 * needed, gfull hold the full-batch values there). */
static int probe_value(run *r, const column *c, const float *x, double *v) {
  int st = NCO_OK;
  uint64_t t = r->t;
  *v = NAN;
  if (c->kind == COL_LAYER) {
    /* Oymak & Soltanolkotabi §5.1: ‖W_l − W_l,0‖_F/‖W_l,0‖_F per layer (the
     * norms of θ_0's slices are computed once) */
    if (r->layer_t != t) distances(r, x);
    *v = r->layer_rel[c->layer];
    return NCO_OK;
  }
  if (c->probe == NCO_PROBE_dist_init || c->probe == NCO_PROBE_distance) {
    if (r->d0_t != t) distances(r, x);
    if (c->probe == NCO_PROBE_dist_init) *v = r->d0;
    else *v = r->theta0_norm > 0 ? r->d0 / r->theta0_norm : NAN; /* ‖θ_t − θ_0‖/‖θ_0‖ (Oymak & Soltanolkotabi §5) */
    return NCO_OK;
  }
  if (c->kind == COL_TEST_LOSS || c->kind == COL_TEST_ACC) {
    if (r->test_t != t) {
      nco_nn_metrics m;
      if ((st = nco_nn_evaluate(r->test, x, NULL, r->test->n, &m))) return nco_error_context(st, "test set");
      r->test_loss = m.loss_mean, r->test_acc = m.accuracy, r->test_t = t;
    }
    *v = c->kind == COL_TEST_LOSS ? r->test_loss : r->test_acc;
    return NCO_OK;
  }
  switch (c->probe) {
    case NCO_PROBE_grad_norm: *v = nco_nrm2(r->dim, rs_landscape_grad(r, x)); break; /* Riemannian on the sphere */
    case NCO_PROBE_path_length: *v = r->path_length; break;
    case NCO_PROBE_loss_unreg:
      if (r->cfg.reg == NCO_REG_NONE) *v = r->cur_loss;
      else st = nco_problem_loss_unreg(r->pb, x, NULL, r->n, v);
      break;
    case NCO_PROBE_pl_ratio:
      st = nco_pl_ratio(r->cur_loss, r->cfg.f_star, r->dim, rs_landscape_grad(r, x), v);
      break;
    case NCO_PROBE_quasi_convexity:
      st = nco_quasi_convexity(r->cur_loss, r->cfg.f_star, r->dim, rs_landscape_grad(r, x), x, r->xstar, v);
      break;
    case NCO_PROBE_rsi: st = nco_rsi(r->dim, rs_landscape_grad(r, x), x, r->xstar, v); break;
    case NCO_PROBE_hess_max:
    case NCO_PROBE_hess_min:
      /* one Lanczos call gives both ends */
      if (r->hess_t != t) {
        nco_lanczos_opts lz = r->lz;
        if (lz.max_iter > r->dim) lz.max_iter = r->dim;
        if ((st = nco_hessian_extremes(r->pb, x, NULL, r->n, &lz, 1, &r->hess_hi, &r->hess_lo, NULL))) break;
        r->hess_t = t;
      }
      *v = c->probe == NCO_PROBE_hess_max ? r->hess_hi : r->hess_lo;
      break;
    case NCO_PROBE_jac_smax:
    case NCO_PROBE_jac_smin:
      if (r->jac_t != t) {
        nco_lanczos_opts lz = r->lz;
        size_t N = nco_problem_nres(r->pb, r->n), mn = N < r->dim ? N : r->dim;
        if (lz.max_iter > mn) lz.max_iter = mn;
        if ((st = nco_jacobian_svals(r->pb, x, NULL, r->n, &lz, &r->jac_hi, &r->jac_lo, NULL))) break;
        r->jac_t = t;
      }
      *v = c->probe == NCO_PROBE_jac_smax ? r->jac_hi : r->jac_lo;
      break;
    case NCO_PROBE_misfit:
      /* ‖r_t‖ = √(2 f/c) from the row's loss f = c·½‖r‖² (problem.h) */
      if (r->misfit) st = nco_misfit_eval(r->misfit, x, v, NULL);
      else *v = sqrt(2 * r->cur_loss / nco_problem_scale(r->pb, r->n)) / r->r0;
      break;
    default: break;
  }
  if (st == NCO_ERR_RANGE && (c->probe == NCO_PROBE_pl_ratio || c->probe == NCO_PROBE_quasi_convexity)) {
    char where[1200];
    nco_config_where(&r->cfg, "run", "f_star", where, sizeof where);
    return nco_error(st, "probes.%s: the loss %.17g is below run.f_star = %.17g (%s): f* must be a lower bound of the loss",
                     c->name, r->cur_loss, r->cfg.f_star, where);
  }
  if (st) return nco_error_context(st, "probes.%s", c->name);
  return NCO_OK;
}

/* Writes the buffered rows: whole rows, so a killed process leaves whole
 * rows; before every checkpoint (its step's rows are on disk) and before
 * the outputs (the plots read trace.csv). */
int rs_trace_flush(run *r) {
  buf_t *b = &r->row;
  size_t off = 0;
  while (off < b->n && r->trace_fd >= 0) {
    ssize_t w = write(r->trace_fd, b->p + off, b->n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int e = errno;
      return nco_error(NCO_ERR_IO, "%s/trace.csv: write failed: %s", r->dir, strerror(e));
    }
    off += (size_t)w;
  }
  b->n = 0, b->oom = 0;
  r->flush_wall = rs_now();
  return NCO_OK;
}

/* Does the value of probe column c need the full-batch loss or gradient at
 * x_t (minibatch runs compute them only where a row asks)? */
static int col_needs_full(const column *c) {
  if (c->kind != COL_PROBE) return 0;
  switch (c->probe) {
    case NCO_PROBE_dist_init:
    case NCO_PROBE_path_length:
    case NCO_PROBE_distance:
    case NCO_PROBE_hess_max:
    case NCO_PROBE_hess_min:
    case NCO_PROBE_jac_smax:
    case NCO_PROBE_jac_smin: return 0;
    default: return 1;
  }
}

/* The full-batch values a row of step t needs: returns 1 if the loss is
 * needed, and *grad for the gradient. */
static int row_needs_full(const run *r, uint64_t t, int logged, int *grad) {
  static const int grad_probes[] = {NCO_PROBE_grad_norm, NCO_PROBE_pl_ratio, NCO_PROBE_quasi_convexity, NCO_PROBE_rsi};
  *grad = r->cfg.grad_tol > 0;
  for (size_t i = 0; i < sizeof grad_probes / sizeof *grad_probes; i++) *grad |= probe_due(r, grad_probes[i], t, logged);
  /* full batch: the row's loss is f(x_t); a stopping rule on the loss needs it at every row */
  int need = *grad || rs_is_full_batch(r) || full_due(r, t) || isfinite(r->cfg.target_loss);
  for (size_t i = 0; i < r->ncols && !need; i++) need = col_due(&r->cols[i], t, logged) && col_needs_full(&r->cols[i]);
  return need;
}

/* Appends the row of step t: the loss (full batch: f(x_t); minibatch: the
 * mean step loss since the last row, and the full-data loss where due), the
 * probes due; whole rows are buffered and written by rs_trace_flush. */
static int log_row(run *r, int forced, double batch_loss) {
  uint64_t t = r->t;
  int logged = forced || log_due(r, t), need_grad, st;
  int mb = !rs_is_full_batch(r);
  int need = row_needs_full(r, t, logged, &need_grad);
  /* the last row's values are summary.json's: full batch with the gradient */
  if (forced || t >= r->total) need = 1, need_grad |= !mb;
  if (need) {
    if ((st = rs_full_eval(r, need_grad))) return st;
  }
  const float *xo = nco_optim_output(r->o);
  buf_t *b = &r->row;
  size_t row0 = b->n;
  rs_putf(b, "%llu,", (unsigned long long)t);
  rs_put_num(b, (double)r->samples / (double)r->n);
  rs_putf(b, ",%.6f,", r->train_seconds);
  if (!mb) rs_put_num(b, r->cur_loss);
  else if (r->win_n) rs_put_num(b, r->win_sum / (double)r->win_n);
  rs_put(b, ",", 1);
  double lr = nco_schedule_lr(&r->cfg.sched, t);
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
  for (size_t i = 0; i < r->ncols; i++) {
    rs_put(b, ",", 1);
    if (!col_due(&r->cols[i], t, logged)) continue;
    double v;
    if ((st = probe_value(r, &r->cols[i], xo, &v))) {
      b->n = row0; /* no half row */
      return st;
    }
    rs_put_num(b, v);
  }
  rs_putf(b, "\n");
  if (b->oom) return nco_error(NCO_ERR_NOMEM, "trace: out of memory");
  r->win_sum = 0, r->win_n = 0; /* the next row's mean starts here */
  /* rows are written in blocks (64 KiB, or a second's worth): a write(2)
   * per row would cost more than a cheap step */
  if (b->n >= 65536 || rs_now() - r->flush_wall >= 1.0) return rs_trace_flush(r);
  return NCO_OK;
}

/* ---- the loop ------------------------------------------------------------ */

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
  nco_optim_set_lr(o, nco_schedule_lr(&r->cfg.sched, r->t));
  if (r->net) nco_nn_set_step(r->pb, r->t + 1); /* the dropout masks of step t */
  int ist;
  if (r->fused) {
    r->samples += r->n;
    *batch_loss = r->cur_loss;
    ist = nco_optim_step_trusted(o, r->gfull, r->cur_loss); /* nco_problem_eval checked it */
  } else if (rs_is_full_batch(r)) {
    r->samples += r->n;
    ist = nco_optim_iterate(o, r->pb, NULL, r->n, batch_loss, NULL);
  } else {
    size_t nb = next_batch(r);
    ist = nco_optim_iterate(o, r->pb, r->idx, nb, batch_loss, NULL);
  }
  if (ist < 0) return ist;
  r->t++;
  r->have_loss = r->have_grad = 0;
  r->rgrad_t = UINT64_MAX;
  r->optim_converged = ist == NCO_CONVERGED;
  if (r->net) nco_nn_set_step(r->pb, r->t);
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

/* row_done: the row (and evaluation) of step r->t were already handled
 * (a resumed run). */
static int loop(run *r, const nco_run_hooks *hooks, nco_run_result *res, int row_done) {
  int st = NCO_OK, stop = 0;
  char msg[768] = "";
  nco_optim *o = r->o;
  double t_start = rs_now() - r->train_seconds;
  double batch_loss = NAN;
  r->ckpt_wall = rs_now();
  if (r->path_on) nco_copy(r->dim, nco_optim_x(o), r->prev);
  int logged_t = row_done;

  for (;;) {
    /* 1–2: evaluation and row of step t */
    if (!row_done) {
      if (r->fused && r->t < r->total && (st = rs_full_eval(r, 1))) goto fail;
      if (row_due(r, r->t)) {
        if ((st = log_row(r, 0, batch_loss))) goto fail;
        logged_t = 1;
      }
      row_done = 1;
    }
    /* 3: stopping rules */
    if (r->have_loss && r->cur_loss <= r->cfg.target_loss) {
      stop = NCO_TARGET_REACHED;
      snprintf(msg, sizeof msg, "loss %.6g ≤ target_loss %.6g at step %llu", r->cur_loss, r->cfg.target_loss,
               (unsigned long long)r->t);
      break;
    }
    if (r->have_grad && r->cfg.grad_tol > 0) {
      double gn = nco_nrm2(r->dim, rs_landscape_grad(r, nco_optim_output(r->o)));
      if (gn <= r->cfg.grad_tol) {
        stop = NCO_CONVERGED;
        snprintf(msg, sizeof msg, "‖∇f‖ = %.6g ≤ grad_tol %.6g at step %llu", gn, r->cfg.grad_tol, (unsigned long long)r->t);
        break;
      }
    }
    if (r->optim_converged) {
      stop = NCO_CONVERGED;
      snprintf(msg, sizeof msg, "%s converged at step %llu (its tolerances)", nco_optim_type_name(r->cfg.optim),
               (unsigned long long)r->t);
      break;
    }
    if (r->t >= r->total) {
      stop = NCO_MAX_ITER;
      snprintf(msg, sizeof msg, "completed %llu steps", (unsigned long long)r->t);
      break;
    }
    if (r->train_seconds >= r->cfg.max_seconds) {
      stop = NCO_TIME_LIMIT;
      snprintf(msg, sizeof msg, "max_seconds %.6g reached at step %llu", r->cfg.max_seconds, (unsigned long long)r->t);
      break;
    }
    /* 4: checkpoint */
    if (ckpt_due(r) && (st = timed_checkpoint(r))) goto fail;
    /* 5: progress, cancellation */
    int cancel = 0;
    progress(r, hooks, batch_loss, 0, &cancel);
    if (cancel) {
      stop = NCO_CANCELLED;
      snprintf(msg, sizeof msg, "interrupted at step %llu", (unsigned long long)r->t);
      break;
    }
    /* 6: the step */
    if ((st = rs_do_step(r, &batch_loss))) goto fail;
    row_done = logged_t = 0;
    if (!rs_is_full_batch(r)) {
      r->win_sum += batch_loss, r->win_n++;
      uint64_t ep = (r->samples - 1) / r->n; /* the epoch of this step's batch */
      if (ep != r->ep_cur) r->ep_cur = ep, r->ep_sum = 0, r->ep_n = 0;
      r->ep_sum += batch_loss, r->ep_n++;
    }
    /* prev holds x_t; after this, x_{t+1} */
    if (r->path_on) r->path_length += dist_copy(r->dim, nco_optim_x(o), r->prev);
    r->train_seconds = rs_now() - t_start;
  }
  /* the last state always has its row, except when interrupted (the resumed
   * run then writes exactly the rows an uninterrupted one would) */
  if (stop != NCO_CANCELLED && !logged_t && (st = log_row(r, 1, batch_loss))) goto fail;
  if ((st = rs_checkpoint_write(r))) goto fail;
  if (r->cfg.probe_every[NCO_PROBE_regularity] && stop != NCO_CANCELLED) {
    nco_problem_counters keep = r->pb->counters; /* summary.json counts the run's evaluations */
    int rst = rs_regularity_replay(r, hooks);
    r->pb->counters = keep;
    if (rst == NCO_CANCELLED) {
      stop = NCO_CANCELLED;
      snprintf(msg, sizeof msg, "interrupted during the regularity replay (the run itself finished at step %llu)",
               (unsigned long long)r->t);
    } else if (rst < 0) {
      snprintf(r->reg_error, sizeof r->reg_error, "%s", nco_last_error());
    }
  }
  if ((st = rs_write_outputs(r, stop, msg))) goto fail;
  if (r->reg_error[0]) {
    st = nco_error(NCO_ERR_NUMERIC, "probes.regularity: %s", r->reg_error);
    snprintf(msg, sizeof msg, "%s", nco_last_error());
    fill_result(r, st, msg, res);
    return st;
  }
  int dummy = 0;
  progress(r, hooks, batch_loss, 1, &dummy);
  fill_result(r, stop, msg, res);
  return stop;
fail:
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

static int spec_text_of(const nco_config *cfg, char **out) {
  char *text = NULL;
  size_t len = 0;
  FILE *fp = open_memstream(&text, &len);
  if (!fp) return nco_error(NCO_ERR_NOMEM, "spec: out of memory");
  int st = nco_config_write(cfg, fp);
  fclose(fp);
  if (st) {
    free(text);
    return st;
  }
  *out = text;
  return NCO_OK;
}

int nco_run_write_spec(const nco_config *cfg, const char *dir) {
  char *text = NULL, path[4400];
  int st = spec_text_of(cfg, &text);
  if (st) return st;
  snprintf(path, sizeof path, "%s/spec.ini", dir);
  st = nco_write_file_atomic(path, text, strlen(text));
  free(text);
  return st;
}

int nco_run_check(const nco_config *cfg, nco_run_result *res) {
  int spec_error = 0, st;
  run *r = calloc(1, sizeof *r);
  if (res) memset(res, 0, sizeof *res);
  if (!r) return nco_error(NCO_ERR_NOMEM, "run: out of memory");
  r->cfg = *cfg;
  r->trace_fd = r->lock_fd = -1;
  st = run_setup(r, NULL, 0, &spec_error);
  if (st < 0 && res) {
    res->spec_error = spec_error;
    snprintf(res->message, sizeof res->message, "%s", nco_last_error());
  }
  run_free(r);
  return st;
}


int nco_run_train(const nco_config *cfg, const char *out_dir, const nco_run_hooks *hooks, nco_run_result *res) {
  int st, spec_error = 0;
  run *r = calloc(1, sizeof *r);
  if (res) memset(res, 0, sizeof *res);
  if (!r) return nco_error(NCO_ERR_NOMEM, "run: out of memory");
  r->cfg = *cfg;
  r->trace_fd = r->lock_fd = -1;
  snprintf(r->dir, sizeof r->dir, "%s", out_dir);
  /* everything that can be wrong with the spec or the data is found
   * before the output folder is touched */
  if ((st = spec_text_of(cfg, &r->spec_text))) goto done;
  if ((st = run_setup(r, NULL, 0, &spec_error))) goto done;
  /* the data files' fingerprint: only a run that checkpoints needs it
   * (nco_run_check, which a sweep calls for every point, does not) */
  if ((st = data_fingerprint(r))) goto done;
  if ((st = nco_mkdirs(out_dir))) goto done;
  /* one writer per folder: a second process into the same folder is
   * refused before it touches anything */
  if ((st = nco_dir_lock(out_dir, &r->lock_fd))) goto done;
  /* a fresh run replaces an earlier run's files in this folder (the CLI
   * asks for --force first) */
  nco_run_remove_outputs(out_dir);
  char path[4200];
  snprintf(path, sizeof path, "%s/spec.ini", r->dir);
  if ((st = nco_write_file_atomic(path, r->spec_text, strlen(r->spec_text)))) goto done;
  buf_t h = {0};
  trace_header(r, &h);
  snprintf(path, sizeof path, "%s/trace.csv", r->dir);
  st = h.oom ? nco_error(NCO_ERR_NOMEM, "trace: out of memory") : nco_write_file_atomic(path, h.p, h.n);
  free(h.p);
  if (st) goto done;
  if ((r->trace_fd = open(path, O_WRONLY | O_APPEND)) < 0) {
    st = nco_error(NCO_ERR_IO, "%s: cannot open for appending: %s", path, strerror(errno));
    goto done;
  }
  st = loop(r, hooks, res, 0);
done:
  if (st < 0 && res) {
    res->spec_error = spec_error;
    if (!res->message[0]) snprintf(res->message, sizeof res->message, "%s", nco_last_error());
  }
  run_free(r);
  return st;
}

/* Keeps the header and the rows with iter ≤ t (a row cut by a kill is
 * dropped), atomically. The header must be the one this run writes (a
 * damaged or foreign trace.csv is not continued). */
static int trace_truncate(const char *path, uint64_t t, const char *header) {
  FILE *fp = fopen(path, "r");
  if (!fp) return nco_error(NCO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  buf_t b = {0};
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  int first = 1;
  while ((errno = 0, n = getline(&line, &cap, fp)) > 0) {
    if (line[n - 1] != '\n') break; /* incomplete last row */
    if (first) {
      if (strcmp(line, header)) {
        free(line), fclose(fp), free(b.p);
        return nco_error(NCO_ERR_FORMAT, "%s: its header is not this run's columns (%.*s): the trace was changed or "
                         "damaged, and is not continued", path, (int)strcspn(header, "\n"), header);
      }
      rs_put(&b, line, (size_t)n);
      first = 0;
      continue;
    }
    char *end;
    unsigned long long it = strtoull(line, &end, 10);
    if (end == line || *end != ',') break;
    if (it > t) break;
    rs_put(&b, line, (size_t)n);
  }
  /* getline's −1 is the end of the file or an error: no row may be
   * dropped for want of memory */
  int rerr = n < 0 && errno && !feof(fp) ? errno : 0;
  free(line);
  fclose(fp);
  if (rerr) {
    free(b.p);
    return (rerr == ENOMEM ? nco_error(NCO_ERR_NOMEM, "%s: out of memory while reading it", path) : nco_error(NCO_ERR_IO, "%s: cannot read: %s", path, strerror(rerr)));
  }
  if (first) {
    free(b.p);
    return nco_error(NCO_ERR_FORMAT, "%s: no header line", path);
  }
  int st = b.oom ? nco_error(NCO_ERR_NOMEM, "trace: out of memory") : nco_write_file_atomic(path, b.p, b.n);
  free(b.p);
  return st;
}

/* The keys `ncopt resume DIR --set` may change: how long the run goes on,
 * when it stops, what it logs and checkpoints. Any other key would make the
 * continued run another experiment than the one checkpointed. */
static const char *const resume_keys[] = {"iterations", "epochs", "max_seconds", "target_loss", "grad_tol", "log_every",
                                          "full_loss_every", "checkpoint_every", "checkpoint_seconds"};

static int resume_sets(nco_spec *spec, const char *const *sets, size_t nsets) {
  for (size_t i = 0; i < nsets; i++) {
    const char *eq = strchr(sets[i], '='), *dot = strchr(sets[i], '.');
    int ok = 0;
    if (eq && dot && dot < eq && !strncmp(sets[i], "run.", 4))
      for (size_t k = 0; k < sizeof resume_keys / sizeof *resume_keys; k++)
        ok |= (size_t)(eq - dot - 1) == strlen(resume_keys[k]) && !strncmp(dot + 1, resume_keys[k], strlen(resume_keys[k]));
    if (!ok)
      return nco_error(NCO_ERR_INVALID, "--set:%zu: %.*s: resume can change only run.iterations, run.epochs, "
                       "run.max_seconds, run.target_loss, run.grad_tol, run.log_every, run.full_loss_every, "
                       "run.checkpoint_every, run.checkpoint_seconds (anything else would make it another run: "
                       "train a new one)", i + 1, (int)(eq ? (size_t)(eq - sets[i]) : strlen(sets[i])), sets[i]);
    int st = nco_spec_set(spec, sets[i]);
    if (st) return st;
  }
  /* a length given replaces the other kind of length */
  for (size_t i = 0; i < nsets; i++) {
    if (!strncmp(sets[i], "run.epochs=", 11)) nco_spec_set(spec, "run.iterations=0");
    if (!strncmp(sets[i], "run.iterations=", 15)) nco_spec_set(spec, "run.epochs=0");
  }
  return NCO_OK;
}

int nco_run_resume(const char *dir, const nco_run_hooks *hooks, nco_run_result *res) {
  return nco_run_resume_with(dir, NULL, 0, hooks, res);
}

int nco_run_resume_with(const char *dir, const char *const *sets, size_t nsets, const nco_run_hooks *hooks,
                        nco_run_result *res) {
  int st, spec_error = 0;
  ckpt c;
  char path[4200], prev[4200];
  if (res) memset(res, 0, sizeof *res);
  struct stat sb;
  if (stat(dir, &sb) || !S_ISDIR(sb.st_mode)) return nco_error(NCO_ERR_IO, "%s: no such run folder", dir);
  snprintf(path, sizeof path, "%s/checkpoint.bin", dir);
  snprintf(prev, sizeof prev, "%s/checkpoint.prev.bin", dir);
  char first_err[1024] = "";
  const char *used = path;
  if ((st = rs_checkpoint_read(path, &c))) {
    if (st == NCO_ERR_NOMEM) return st; /* the checkpoint may be fine: no fallback */
    snprintf(first_err, sizeof first_err, "%s", nco_last_error());
    if ((st = rs_checkpoint_read(prev, &c))) {
      if (access(path, F_OK) && access(prev, F_OK))
        return nco_error(NCO_ERR_IO, "%s: no checkpoint to resume from (run.checkpoint_every writes them; a finished or "
                         "interrupted run always has one)", dir);
      char second[1024];
      snprintf(second, sizeof second, "%s", nco_last_error());
      return nco_error(st, "%s: no usable checkpoint: %.500s; %.500s", dir, first_err, second);
    }
    used = prev;
    if (res)
      snprintf(res->notice, sizeof res->notice, "%.500s; resuming from %.400s (step %llu)", first_err, prev,
               (unsigned long long)c.t);
  }
  run *r = calloc(1, sizeof *r);
  nco_spec *spec = NULL;
  if (!r) {
    rs_ckpt_free(&c);
    return nco_error(NCO_ERR_NOMEM, "resume: out of memory");
  }
  r->trace_fd = r->lock_fd = -1;
  snprintf(r->dir, sizeof r->dir, "%s", dir);
  if ((st = nco_dir_lock(dir, &r->lock_fd))) goto done;
  char name[4300];
  snprintf(name, sizeof name, "%s (its spec)", used);
  if ((st = nco_spec_parse_string(c.spec_text, name, "/", &spec))) goto done;
  if ((st = resume_sets(spec, sets, nsets))) {
    spec_error = 1;
    goto done;
  }
  if ((st = nco_config_from_spec(spec, &r->cfg))) {
    spec_error = nsets > 0;
    goto done;
  }
  if (nsets) {
    /* the continued run's resolved spec: checkpoints and spec.ini */
    if ((st = spec_text_of(&r->cfg, &r->spec_text))) goto done;
  } else {
    r->spec_text = c.spec_text;
    c.spec_text = NULL;
  }
  if ((st = run_setup(r, c.theta0, c.dim, &spec_error)) || (st = data_fingerprint(r))) goto done;
  if (r->total < c.t) {
    spec_error = nsets > 0;
    st = nco_error(NCO_ERR_RANGE, "%s%s: the run would be %llu steps long, it is already at step %llu", nsets ? "--set: " : "",
                   used, (unsigned long long)r->total, (unsigned long long)c.t);
    goto done;
  }
  if (r->n != c.n) {
    st = nco_error(NCO_ERR_FORMAT, "%s: checkpoint does not match its spec (dim %zu vs %llu, n %zu vs %llu)", used, r->dim,
                   (unsigned long long)c.dim, r->n, (unsigned long long)c.n);
    goto done;
  }
  if ((st = rs_ckpt_validate(&c, r, used))) goto done;
  if (c.data_crc != r->data_crc) {
    st = nco_error(NCO_ERR_STATE, "%s: the data files changed since the run was checkpointed (%s): the continued run "
                   "would not be the run that was started; train a new one", used, r->data_files);
    goto done;
  }
  if ((st = nco_optim_load(r->o, c.optim, c.optim_len))) goto done;
  r->t = c.t, r->samples = c.samples, r->pos = c.pos;
  memcpy(r->perm, c.perm, r->n * sizeof *r->perm);
  memcpy(r->gfull, c.gfull, r->dim * sizeof *r->gfull);
  r->batch_rng = c.batch_rng;
  r->path_length = c.path_length, r->best_loss = c.best_loss, r->train_seconds = c.train_seconds;
  r->last_loss = c.last_loss, r->best_iter = c.best_iter, r->cur_loss = c.cur_loss;
  r->win_sum = c.win_sum, r->win_n = c.win_n;
  r->have_loss = (int)(c.flags & 1), r->have_grad = (int)(c.flags >> 1 & 1), r->optim_converged = (int)(c.flags >> 2 & 1);
  r->pb->counters = c.counters;
  r->last_ckpt = c.t;
  if (r->net) nco_nn_set_step(r->pb, r->t);
  nco_run_clean_tmp(dir);
  if (nsets && (st = nco_write_file_atomic_in(dir, "spec.ini", r->spec_text))) goto done;
  snprintf(path, sizeof path, "%s/trace.csv", dir);
  buf_t h = {0};
  trace_header(r, &h);
  rs_put(&h, "", 1); /* NUL */
  st = h.oom ? nco_error(NCO_ERR_NOMEM, "trace: out of memory") : trace_truncate(path, r->t, (const char *)h.p);
  free(h.p);
  if (st) goto done;
  if ((r->trace_fd = open(path, O_WRONLY | O_APPEND)) < 0) {
    st = nco_error(NCO_ERR_IO, "%s: cannot open for appending: %s", path, strerror(errno));
    goto done;
  }
  st = loop(r, hooks, res, 1);
done:
  if (st < 0 && res) {
    res->spec_error = spec_error;
    if (!res->message[0]) snprintf(res->message, sizeof res->message, "%s", nco_last_error());
  }
  nco_spec_free(spec);
  rs_ckpt_free(&c);
  run_free(r);
  return st;
}
