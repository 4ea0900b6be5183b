/* Setting a run up (run_state.h): problem, optimiser, buffers, the
 * schedule of rows and checkpoints, x*, the probes' columns and what they
 * need, the data fingerprint; nco_run_check. */
#include "run_state.h"

/* ---- the run state ------------------------------------------------------ */


void rs_run_free(run *r) {
  if (!r) return;
  if (r->trace_fd > 0) close(r->trace_fd);
  nco_dir_unlock(r->lock_fd);
  nco_optim_free(r->o);
  rs_groups_free(r);
  free(r->theta), free(r->theta_out), free(r->state0), free(r->state);
  nco_problem_free(r->pb);
  nco_problem_free(r->test);
  nco_regularity_free(&r->reg);
  nco_misfit_free(r->misfit);
  free(r->spec_text), free(r->perm), free(r->probe_idx), free(r->theta0), free(r->prev), free(r->gfull), free(r->idx);
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
  if (r->ng) {
    /* parameter groups (groups.c): each its own optimiser; a round's
     * evaluations are the groups' own */
    if ((st = rs_groups_init(r, &rng3))) return st;
    r->fused = 0;
  } else {
    hp.seed = nco_rng_u64(&rng3);
    if ((st = nco_optim_create(r->cfg.optim, r->dim, &hp, r->theta0, &r->o))) return st;
    /* the step's own evaluation is the full-batch loss and gradient at x_t
     * when the method is first-order (plain gradient, no manifold), queries
     * at its iterate and reports its iterate */
    r->fused = rs_is_full_batch(r) && nco_optim_type_is_ask_tell(r->cfg.optim) &&
               nco_optim_type_requires(r->cfg.optim) == 0 && nco_optim_query(r->o) == nco_optim_x(r->o) &&
               nco_optim_output(r->o) == nco_optim_x(r->o);
  }
  for (size_t i = 0; i < r->n; i++) r->perm[i] = i;
  r->pos = r->n; /* the first batch starts a new epoch */
  r->t = r->samples = 0;
  r->best_loss = INFINITY;
  r->last_loss = NAN;
  r->have_loss = r->have_grad = r->optim_converged = 0;
  /* randomness tied to the step (a network's dropout masks) follows the
   * step count, not the number of evaluations, so logging, probes and
   * resume never change it */
  nco_problem_set_step(r->pb, 0);
  return NCO_OK;
}


/* The parameter groups of the problem (a network's layers) for the
 * per-group distance columns, and the norms of θ_0's slices. */
static int groups_setup(run *r) {
  nco_param_group g[MAX_LAYERS];
  int st = nco_problem_param_groups(r->pb, g, MAX_LAYERS, &r->nlayers);
  if (st) return st;
  for (size_t l = 0; l < r->nlayers; l++) {
    _Static_assert(sizeof r->layer_names[0] == sizeof g[0].name, "a group's name fits");
    memcpy(r->layer_names[l], g[l].name, sizeof g[l].name);
    r->layers[l] = (nco_slice){r->layer_names[l], g[l].offset, g[l].length};
    r->layer_norm0[l] = nco_nrm2(r->layers[l].length, r->theta0 + r->layers[l].offset);
  }
  return NCO_OK;
}

static column *add_column(run *r, int kind, int64_t every, const char *fmt, const char *a, const char *b) {
  column *c = &r->cols[r->ncols++];
  snprintf(c->name, sizeof c->name, fmt, a, b);
  c->kind = kind, c->every = every;
  return c;
}

/* The trace columns after batch_loss, in order: each probe's (a probe
 * that needs the parameter groups adds one per group), then the test
 * set's. */
static int columns_setup(run *r) {
  const nco_config *cfg = &r->cfg;
  /* every probe could have per-layer columns; hess_topk its k − 1 more */
  size_t cap = NCO_PROBE_COUNT * (1 + MAX_LAYERS) + 2 + 2 * NCO_MAX_GROUPS + NCO_DIAG_MAXK;
  r->cols = nco_calloc(cap, sizeof *r->cols);
  if (!r->cols) return nco_error(NCO_ERR_NOMEM, "run: out of memory");
  r->ncols = 0;
  r->nlayers = 0;
  int st;
  if (rs_probes_need(r, NCO_PROBE_NEEDS_GROUPS) && (st = groups_setup(r))) return st;
  for (int p = 0; p < NCO_PROBE_COUNT; p++) {
    if (!cfg->probe_every[p] || !rs_probe_has_column(p)) continue;
    const char *name = nco_probe_name(p);
    add_column(r, COL_PROBE, cfg->probe_every[p], "%s%s", name, "")->probe = p;
    if (rs_probe_needs(p) & NCO_PROBE_NEEDS_GROUPS)
      for (size_t l = 0; l < r->nlayers; l++)
      {
        column *cl = add_column(r, COL_LAYER, cfg->probe_every[p], "%s.%s", name, r->layer_names[l]);
        cl->layer = l, cl->probe = p;
      }
    /* hess_topk: the 2nd … k-th eigenvalues */
    if (p == NCO_PROBE_hess_topk)
      for (size_t k = 2; k <= cfg->lz_topk; k++) {
        char kk[24];
        snprintf(kk, sizeof kk, "%zu", k);
        add_column(r, COL_TOPK, cfg->probe_every[p], "%s.%s", name, kk)->layer = k - 1;
      }
    /* parameter groups: each group's part of the gradient */
    if (p == NCO_PROBE_grad_norm)
      for (size_t g = 0; g < r->ng; g++)
        add_column(r, COL_GROUP_GRAD, cfg->probe_every[p], "%s.%s", name, r->grp[g].name)->layer = g;
  }
  if (r->test) {
    add_column(r, COL_TEST_LOSS, (int64_t)cfg->eval_every, "%s%s", "test_loss", "");
    add_column(r, COL_TEST_ACC, (int64_t)cfg->eval_every, "%s%s", "test_acc", "");
  }
  /* parameter groups: each group's step size (the lr column is the first's) */
  for (size_t g = 0; g < r->ng; g++) add_column(r, COL_GROUP_LR, NCO_PROBE_AT_LOG, "lr.%s%s", r->grp[g].name, "")->layer = g;
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
int rs_data_fingerprint(run *r) {
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

/* The run's length: batch against the data, steps per epoch, the
 * schedule's horizon. */
static int setup_length(run *r, int *spec_error) {
  nco_config *cfg = &r->cfg;
  int st;
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
  uint64_t per_epoch = rs_is_full_batch(r) ? 1 : cfg->drop_last ? r->n / r->batch : (r->n + r->batch - 1) / r->batch;
  if (!cfg->iterations && cfg->epochs > UINT64_MAX / 4 / per_epoch) {
    *spec_error = 1;
    return spec_err(r, NCO_ERR_OVERFLOW, "run", "epochs", "%llu epochs of %llu steps each overflow the step counter",
                    (unsigned long long)cfg->epochs, (unsigned long long)per_epoch);
  }
  r->total = cfg->iterations ? cfg->iterations : cfg->epochs * per_epoch;
  r->per_epoch = per_epoch;
  /* a schedule's horizon (T = auto) is the run's length; unit = epoch
   * counts epochs */
  if ((st = nco_config_resolve_schedule(cfg, r->total, per_epoch))) {
    *spec_error = 1;
    return st;
  }
  return NCO_OK;
}

static int cmp_size(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return (x > y) - (x < y);
}

/* The loop's buffers and θ_0 (x0, or the spec's init, or the problem's). */
static int setup_buffers(run *r, const float *x0, size_t x0_len, int *spec_error) {
  r->theta0 = nco_calloc(r->dim, sizeof(float));
  r->prev = nco_calloc(r->dim, sizeof(float));
  r->gfull = nco_calloc(r->dim, sizeof(float));
  r->perm = nco_calloc(r->n, sizeof(size_t));
  r->idx = nco_calloc(r->batch ? r->batch : 1, sizeof(size_t));
  if (!r->theta0 || !r->prev || !r->gfull || !r->perm || !r->idx)
    return nco_error(NCO_ERR_NOMEM, "run: out of memory (dim = %zu, n = %zu)", r->dim, r->n);
  r->probe_nb = r->n;
  if (r->cfg.lz_batch && r->cfg.lz_batch < r->n) {
    /* lanczos.batch: the first N of a permutation from lanczos.seed (its
     * own stream), in ascending order; the same for a resumed run */
    nco_rng root, rng;
    nco_rng_seed(&root, r->cfg.lz_seed);
    nco_rng_derive(&root, 0x70726f6265ULL, &rng);
    if (!(r->probe_idx = nco_calloc(r->n, sizeof(size_t))))
      return nco_error(NCO_ERR_NOMEM, "run: out of memory (n = %zu)", r->n);
    for (size_t i = 0; i < r->n; i++) r->probe_idx[i] = i;
    nco_rng_shuffle(&rng, r->probe_idx, r->n);
    r->probe_nb = r->cfg.lz_batch;
    qsort(r->probe_idx, r->probe_nb, sizeof(size_t), cmp_size);
  }
  if (x0 && x0_len != r->dim)
    return nco_error(NCO_ERR_SHAPE, "the checkpoint holds %zu parameters, the problem built from its spec has %zu "
                     "(did the data change since the run started?)", x0_len, r->dim);
  if (x0) {
    nco_copy(r->dim, x0, r->theta0);
    return NCO_OK;
  }
  return nco_config_initial_point(&r->cfg, r->pb, r->theta0, spec_error);
}

/* run.x_star: the x part (p = 0) or all parameters, finite. */
static int setup_x_star(run *r, int *spec_error) {
  const nco_config *cfg = &r->cfg;
  if (!cfg->x_star[0]) return NCO_OK;
  nco_array a = {0};
  char where[1200];
  int st;
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
  return NCO_OK;
}

/* probes.misfit: ‖r(θ_0)‖, and the residual evaluator where the loss is
 * not c·½‖r‖². */
static int setup_misfit(run *r) {
  const nco_config *cfg = &r->cfg;
  int st;
  r->r0 = NAN;
  if (!cfg->probe_every[NCO_PROBE_misfit]) return NCO_OK;
  if (cfg->reg == NCO_REG_L2 && cfg->reduction == NCO_REDUCE_MEAN) {
    /* the ℓ2 penalty is not scaled by the reduction (reg.h): the loss is
     * not c·½‖r‖², so the rows evaluate the residual */
    if ((st = nco_misfit_create(r->pb, 0, r->theta0, NULL, r->n, &r->misfit)))
      return nco_error_context(st, "probes.misfit");
    r->r0 = nco_misfit_r0(r->misfit);
    return NCO_OK;
  }
  /* ‖r(θ_0)‖ from the loss c·½‖r‖² (problem.h): the rows then need no
   * residual evaluation of their own */
  double f0;
  if ((st = nco_problem_eval(r->pb, r->theta0, NULL, r->n, &f0, NULL)))
    return nco_error_context(st, "misfit: the loss at θ_0");
  r->r0 = sqrt(2 * f0 / nco_problem_scale(r->pb, r->n));
  if (!(r->r0 > 0))
    return nco_error(NCO_ERR_RANGE, "probes.misfit: ‖r_0‖ = %g: θ_0 already interpolates the data, the ratio "
                     "‖r_t‖/‖r_0‖ is undefined", r->r0);
  return NCO_OK;
}

/* What the probes need besides their columns: Lanczos options, ‖θ_0‖, the
 * path length, the Riemannian gradient's scratch, x*, misfit's r_0. */
static int setup_probes(run *r, int *spec_error) {
  int st;
  r->lz = nco_config_lanczos(&r->cfg);
  r->theta0_norm = nco_nrm2(r->dim, r->theta0);
  r->path_on = rs_probes_need(r, NCO_PROBE_NEEDS_PATH);
  r->upd_on = r->cfg.probe_every[NCO_PROBE_update_ratio] != 0;
  /* the Riemannian gradient (grad_norm, grad_tol, the summary, landscape
   * probes) needs a scratch vector on the sphere */
  if (r->pb->manifold == NCO_MANIFOLD_SPHERE) {
    r->rgrad = nco_calloc(r->dim, sizeof(float));
    if (!r->rgrad) return nco_error(NCO_ERR_NOMEM, "run: out of memory");
  }
  if ((st = setup_x_star(r, spec_error)) || (st = rs_probes_check(r)) || (st = setup_misfit(r))) return st;
  return columns_setup(r);
}

/* Builds problem, optimiser and buffers for cfg; x0 NULL = the spec's
 * init or the problem's. *spec_error is set for errors in the spec's
 * values (a batch larger than the data, an init of the wrong size). */
int rs_run_setup(run *r, const float *x0, size_t x0_len, int *spec_error) {
  int st;
  r->last_ckpt = UINT64_MAX;
  r->hess_t = r->jac_t = r->test_t = r->layer_t = r->d0_t = r->rgrad_t = r->trace_t = r->topk_t = r->lparam_t = r->lgrad_t = UINT64_MAX;
  if ((st = nco_config_build_problems(&r->cfg, 0, &r->pb, &r->test, spec_error))) return st;
  r->dim = r->pb->dim;
  r->dim_x = nco_problem_root(r->pb)->dim;
  /* non-trainable state (batch-norm statistics): its value now is the
   * run's start, where the replay restarts it */
  if ((r->ns = nco_problem_state_size(r->pb))) {
    r->state0 = nco_calloc(r->ns, sizeof(float)), r->state = nco_calloc(r->ns, sizeof(float));
    if (!r->state0 || !r->state) return nco_error(NCO_ERR_NOMEM, "run: out of memory (state of %zu entries)", r->ns);
    if ((st = nco_problem_get_state(r->pb, r->state0, r->ns, &r->stamp0))) return st;
  }
  r->n = r->pb->n;
  r->batch = r->cfg.batch;
  if ((st = setup_length(r, spec_error)) || (st = setup_buffers(r, x0, x0_len, spec_error)) ||
      (st = rs_groups_resolve(r, spec_error)) || (st = rs_state_init(r)))
    return st;
  resolve_every(r);
  r->trace_fd = -1;
  return setup_probes(r, spec_error);
}

/* An error of the run's setup or loop into res (with whether the spec is
 * to blame). */
void rs_result_error(nco_run_result *res, int st, int spec_error) {
  if (st >= 0 || !res) return;
  res->spec_error = spec_error;
  if (!res->message[0]) snprintf(res->message, sizeof res->message, "%s", nco_last_error());
}

/* A run for cfg with nothing built yet (fds closed). */
run *rs_run_new(const nco_config *cfg) {
  run *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  if (cfg) r->cfg = *cfg;
  r->trace_fd = r->lock_fd = -1;
  return r;
}

int rs_spec_text(const nco_config *cfg, char **out) {
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
  int st = rs_spec_text(cfg, &text);
  if (st) return st;
  snprintf(path, sizeof path, "%s/spec.ini", dir);
  st = nco_write_file_atomic(path, text, strlen(text));
  free(text);
  return st;
}

int nco_run_check(const nco_config *cfg, nco_run_result *res) {
  int spec_error = 0, st;
  run *r = rs_run_new(cfg);
  if (res) memset(res, 0, sizeof *res);
  if (!r) return nco_error(NCO_ERR_NOMEM, "run: out of memory");
  st = rs_run_setup(r, NULL, 0, &spec_error);
  rs_result_error(res, st, spec_error);
  rs_run_free(r);
  return st;
}
