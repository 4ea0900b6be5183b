/* Resuming a run from its checkpoint (run_state.h): the checkpoint (or
 * the previous one), the keys --set may change, the run rebuilt from the
 * checkpoint's spec and validated against it, the trace cut back to the
 * checkpoint's step. */
#include "run_state.h"

/* Keeps the header and the rows with iter ≤ t (a row cut by a kill is
 * dropped), atomically. The header must be the one this run writes (a
 * damaged or foreign trace.csv is not continued). */
static int trace_truncate(run *r, const char *path, uint64_t t, const char *header) {
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
  int st = b.oom ? nco_error(NCO_ERR_NOMEM, "trace: out of memory") : rs_out_file(r, "trace.csv", b.p, b.n);
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

/* Reads DIR/checkpoint.bin, or checkpoint.prev.bin when the last is
 * damaged (a notice in res says so); *used = the one read. */
static int read_checkpoint(const char *dir, ckpt *c, char *used, size_t cap, nco_run_result *res) {
  char path[4200], prev[4200];
  snprintf(path, sizeof path, "%s/checkpoint.bin", dir);
  snprintf(prev, sizeof prev, "%s/checkpoint.prev.bin", dir);
  snprintf(used, cap, "%s", path);
  int st = rs_checkpoint_read(path, c);
  if (!st) return NCO_OK;
  if (st == NCO_ERR_NOMEM) return st; /* the checkpoint may be fine: no fallback */
  char first_err[1024];
  snprintf(first_err, sizeof first_err, "%s", nco_last_error());
  if ((st = rs_checkpoint_read(prev, c))) {
    if (access(path, F_OK) && access(prev, F_OK))
      return nco_error(NCO_ERR_IO, "%s: no checkpoint to resume from (run.checkpoint_every writes them; a finished or "
                       "interrupted run always has one)", dir);
    char second[1024];
    snprintf(second, sizeof second, "%s", nco_last_error());
    return nco_error(st, "%s: no usable checkpoint: %.500s; %.500s", dir, first_err, second);
  }
  snprintf(used, cap, "%s", prev);
  if (res)
    snprintf(res->notice, sizeof res->notice, "%.500s; resuming from %.400s (step %llu)", first_err, prev,
             (unsigned long long)c->t);
  return NCO_OK;
}

/* The run of the checkpoint's spec (with --set applied) must be the run
 * checkpointed: length, samples, every field, the data files. */
static int check_against(const run *r, const ckpt *c, const char *used, size_t nsets, int *spec_error) {
  int st;
  if (r->total < c->t) {
    *spec_error = nsets > 0;
    return nco_error(NCO_ERR_RANGE, "%s%s: the run would be %llu steps long, it is already at step %llu", nsets ? "--set: " : "",
                     used, (unsigned long long)r->total, (unsigned long long)c->t);
  }
  if (r->n != c->n)
    return nco_error(NCO_ERR_FORMAT, "%s: checkpoint does not match its spec (dim %zu vs %llu, n %zu vs %llu)", used, r->dim,
                     (unsigned long long)c->dim, r->n, (unsigned long long)c->n);
  if ((st = rs_ckpt_validate(c, r, used))) return st;
  if (c->data_crc != r->data_crc)
    return nco_error(NCO_ERR_STATE, "%s: the data files changed since the run was checkpointed (%s): the continued run "
                     "would not be the run that was started; train a new one", used, r->data_files);
  return NCO_OK;
}

/* The loop's state from the checkpoint. */
static int restore(run *r, const ckpt *c) {
  int st = rs_optim_load(r, c->optim, c->optim_len);
  if (st || (r->ns && (st = nco_problem_set_state(r->pb, c->state, r->ns, c->stamp)))) return st;
  r->t = c->t, r->samples = c->samples, r->pos = c->pos;
  memcpy(r->perm, c->perm, r->n * sizeof *r->perm);
  memcpy(r->gfull, c->gfull, r->dim * sizeof *r->gfull);
  r->batch_rng = c->batch_rng;
  r->path_length = c->path_length, r->best_loss = c->best_loss, r->train_seconds = c->train_seconds;
  r->last_loss = c->last_loss, r->best_iter = c->best_iter, r->cur_loss = c->cur_loss;
  r->win_sum = c->win_sum, r->win_n = c->win_n;
  r->have_loss = (int)(c->flags & 1), r->have_grad = (int)(c->flags >> 1 & 1), r->optim_converged = (int)(c->flags >> 2 & 1);
  r->pb->counters = c->counters;
  r->last_ckpt = c->t;
  nco_problem_set_step(r->pb, r->t);
  return NCO_OK;
}

/* The config of the checkpoint's spec with --set applied; the resolved
 * spec text of the continued run. */
static int resumed_config(run *r, ckpt *c, const char *used, const char *const *sets, size_t nsets, nco_spec **spec,
                          int *spec_error) {
  char name[4300];
  int st;
  snprintf(name, sizeof name, "%s (its spec)", used);
  if ((st = nco_spec_parse_string(c->spec_text, name, "/", spec))) return st;
  if ((st = resume_sets(*spec, sets, nsets))) {
    *spec_error = 1;
    return st;
  }
  if ((st = nco_config_from_spec(*spec, &r->cfg))) {
    *spec_error = nsets > 0;
    return st;
  }
  /* the continued run's resolved spec: checkpoints and spec.ini */
  if (nsets) return rs_spec_text(&r->cfg, &r->spec_text);
  r->spec_text = c->spec_text;
  c->spec_text = NULL;
  return NCO_OK;
}

/* trace.csv cut back to the rows at or before the checkpoint's step, then
 * open for appending. */
static int trace_reopen(run *r) {
  char path[4200];
  snprintf(path, sizeof path, "%s/trace.csv", r->dir);
  buf_t h = {0};
  rs_trace_header(r, &h);
  rs_put(&h, "", 1); /* NUL */
  int st = h.oom ? nco_error(NCO_ERR_NOMEM, "trace: out of memory") : trace_truncate(r, path, r->t, (const char *)h.p);
  free(h.p);
  return st ? st : rs_trace_open(r);
}

int nco_run_resume(const char *dir, const nco_run_hooks *hooks, nco_run_result *res) {
  return nco_run_resume_with(dir, NULL, 0, hooks, res);
}

int nco_run_resume_with(const char *dir, const char *const *sets, size_t nsets, const nco_run_hooks *hooks,
                        nco_run_result *res) {
  int st, spec_error = 0;
  ckpt c;
  char used[4200];
  if (res) memset(res, 0, sizeof *res);
  struct stat sb;
  if (stat(dir, &sb) || !S_ISDIR(sb.st_mode)) return nco_error(NCO_ERR_IO, "%s: no such run folder", dir);
  if ((st = read_checkpoint(dir, &c, used, sizeof used, res))) return st;
  run *r = rs_run_new(NULL);
  nco_spec *spec = NULL;
  if (!r) {
    rs_ckpt_free(&c);
    return nco_error(NCO_ERR_NOMEM, "resume: out of memory");
  }
  snprintf(r->dir, sizeof r->dir, "%s", dir);
  if ((st = nco_dir_lock(dir, &r->lock_fd))) goto done;
  if ((st = resumed_config(r, &c, used, sets, nsets, &spec, &spec_error))) goto done;
  if ((st = rs_run_setup(r, c.theta0, c.dim, &spec_error)) || (st = rs_data_fingerprint(r))) goto done;
  if ((st = check_against(r, &c, used, nsets, &spec_error)) || (st = restore(r, &c))) goto done;
  nco_run_clean_tmp(dir);
  if (nsets && (st = rs_out_file(r, "spec.ini", r->spec_text, strlen(r->spec_text)))) goto done;
  if ((st = trace_reopen(r))) goto done;
  st = rs_loop(r, hooks, res, 1);
done:
  rs_result_error(res, st, spec_error);
  nco_spec_free(spec);
  rs_ckpt_free(&c);
  rs_run_free(r);
  return st;
}
