/* Running a spec: ncopt train, resume and reproduce. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void default_out(const char *spec_path, char *out, size_t len) {
  const char *base = strrchr(spec_path, '/');
  base = base ? base + 1 : spec_path;
  char name[512];
  snprintf(name, sizeof name, "%s", base);
  char *dot = strrchr(name, '.');
  if (dot && dot != name) *dot = '\0';
  snprintf(out, len, "runs/%s", name);
}

/* The run's outcome in one line on stderr, and its exit status. */
static int finish_run(int st, nco_run_result *res, const char *out, int quiet, int sweep) {
  if (st < 0 && !res->message[0]) snprintf(res->message, sizeof res->message, "%s", nco_last_error());
  if (res->notice[0]) fprintf(stderr, "ncopt: note: %s\n", res->notice);
  if (st == NCO_CANCELLED) {
    fprintf(stderr, "ncopt: %s; checkpoint written, continue with: ncopt resume %s\n", res->message, out);
    return cli_got_signal == SIGTERM ? 143 : 130;
  }
  if (st < 0) {
    const char *m = *res->message ? res->message : nco_last_error();
    if (res->spec_error) {
      cli_put_msg("", m);
      return 2;
    }
    cli_put_msg("ncopt: ", m);
    return st == NCO_ERR_NONFINITE ? 3 : 1;
  }
  if (!quiet) {
    if (sweep)
      fprintf(stderr, "ncopt: sweep finished; outputs in %s (one folder per run, listed in points.txt)\n", out);
    else
      fprintf(stderr, "ncopt: %s; full-data loss %.6g after %llu steps (%.3f s of training); outputs in %s\n", res->message,
              res->final_loss, (unsigned long long)res->iterations, res->train_seconds, out);
  }
  return 0;
}

/* train and reproduce never replace an earlier run's outputs unasked */
static int refuse_overwrite(const char *cmd, const char *out, int force) {
  const char *what = NULL;
  if (force || !nco_run_dir_has_outputs(out, &what)) return 0;
  fprintf(stderr, "ncopt: %s: %s already holds a run (%s): add --force to replace its outputs, or choose another --out\n",
          cmd, out, what);
  return 2;
}

static int run_spec(nco_spec *spec, const char *cmd, const char *out, int quiet, int force) {
  nco_sweep_point *pts = NULL;
  size_t np = 0;
  int sweep = cli_has_sweep(spec), rc, lock = -1;
  if (nco_sweep_expand(spec, &pts, &np)) return cli_spec_fail();
  if ((rc = refuse_overwrite(cmd, out, force))) {
    nco_sweep_free(pts, np);
    return rc;
  }
  if (!sweep && pts[0].cfg.ignored[0] && !quiet)
    fprintf(stderr, "ncopt: note: ignored (does not apply to the new type): %s\n", pts[0].cfg.ignored);
  /* a sweep's folder is locked here (when it exists: a spec error must
   * leave no folder behind), each run's folder by the run */
  if (sweep && !access(out, F_OK) && nco_dir_lock(out, &lock)) {
    nco_sweep_free(pts, np);
    return cli_fail(NCO_ERR_STATE, "cannot lock the sweep's folder");
  }
  cli_progress pc;
  nco_run_hooks hooks = cli_run_hooks(&pc, quiet);
  nco_run_result res;
  memset(&res, 0, sizeof res);
  int st = nco_sweep_run_table(pts, np, sweep, out, &hooks, &res, quiet || !sweep ? NULL : stdout);
  nco_sweep_free(pts, np);
  nco_dir_unlock(lock);
  return finish_run(st, &res, out, quiet, sweep);
}

/* The spec at path with a's --set overrides, run into --out (else
 * default_dir). */
static int run_spec_file(const cli_args *a, const char *cmd, const char *path, const char *default_dir) {
  nco_spec *spec;
  int rc = cli_load_spec(path, a, &spec);
  if (rc) return rc;
  char out[4096];
  snprintf(out, sizeof out, "%s", a->out ? a->out : default_dir);
  rc = run_spec(spec, cmd, out, a->quiet, a->force);
  nco_spec_free(spec);
  return rc;
}

int cmd_train(int argc, char **argv) {
  cli_args a;
  int rc;
  if (cli_start("train", "set out quiet force", "missing SPEC", argc, argv, &a, &rc)) return rc;
  char out[4096];
  default_out(a.spec, out, sizeof out);
  return run_spec_file(&a, "train", a.spec, out);
}

int cmd_resume(int argc, char **argv) {
  cli_args a;
  int rc;
  if (cli_start("resume", "set quiet", "missing DIR", argc, argv, &a, &rc)) return rc;
  cli_progress pc;
  nco_run_hooks hooks = cli_run_hooks(&pc, a.quiet);
  nco_run_result res;
  memset(&res, 0, sizeof res);
  char ck[4200];
  snprintf(ck, sizeof ck, "%s/checkpoint.bin", a.spec);
  int sweep = nco_sweep_is_folder(a.spec) && access(ck, F_OK);
  if (sweep && a.nsets) return cli_usage_fail("resume", "--set extends a single run, not a sweep's folder");
  int lock = -1;
  if (sweep && nco_dir_lock(a.spec, &lock)) return cli_fail(NCO_ERR_STATE, "cannot lock the sweep's folder");
  int st = sweep ? nco_sweep_resume_table(a.spec, &hooks, &res, a.quiet ? NULL : stdout)
                 : nco_run_resume_with(a.spec, a.sets, (size_t)a.nsets, &hooks, &res);
  nco_dir_unlock(lock);
  return finish_run(st, &res, a.spec, a.quiet, sweep);
}

int cmd_reproduce(int argc, char **argv) {
  cli_args a;
  int rc;
  if (cli_start("reproduce", "set out quiet force", "missing NAME (see ncopt list experiments)", argc, argv, &a, &rc))
    return rc;
  if (strchr(a.spec, '/') || a.spec[0] == '.')
    return cli_usage_fail("reproduce", "takes an experiment name (see ncopt list experiments), not a path");
  char path[4300];
  snprintf(path, sizeof path, "%s/%s.ini", cli_experiments_dir(), a.spec);
  if (access(path, R_OK)) {
    fprintf(stderr, "ncopt: reproduce: no experiment named '%s' (see ncopt list experiments)\n", a.spec);
    return 2;
  }
  char out[4096];
  snprintf(out, sizeof out, "runs/%s", a.spec);
  return run_spec_file(&a, "reproduce", path, out);
}

