/* ncopt — command-line entry point. A thin layer over the library: it
 * parses arguments, calls libncopt and turns a status into one clear line
 * on stderr and an exit code:
 *   0 done · 1 runtime error · 2 usage or spec error · 3 non-finite loss
 *   130 interrupted by SIGINT · 143 by SIGTERM */
#include <cblas.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ncopt/config.h"
#include "ncopt/diag.h"
#include "ncopt/ncopt.h"
#include "ncopt/outputs.h"
#include "ncopt/run.h"
#include "ncopt/spec.h"
#include "ncopt/sweep.h"
#include "ncopt/threads.h"

#ifndef NCO_EXPERIMENTS_DIR
#define NCO_EXPERIMENTS_DIR "experiments"
#endif
#ifndef NCO_INSTALLED_EXPERIMENTS_DIR
#define NCO_INSTALLED_EXPERIMENTS_DIR "/usr/local/share/ncopt/experiments"
#endif

static const char usage[] =
    "usage: ncopt <command> [args]     (ncopt <command> --help for details)\n"
    "\n"
    "commands:\n"
    "  train SPEC [--set k=v]... [--out DIR] [--force]   run an experiment\n"
    "  resume DIR [--set run.k=v]... [--quiet]           continue (or extend) a run\n"
    "  show SPEC [--set k=v]...                          print the resolved spec\n"
    "  eval SPEC --params FILE.npy [--aux FILE.npy]      loss and gradient at a point\n"
    "  probe hessian SPEC --params FILE.npy [--k K] [--density]\n"
    "                                                    Hessian extremes, classification\n"
    "  certify SPEC [--run DIR] [--json FILE]            Oymak & Soltanolkotabi's assumptions\n"
    "  list [problems|sources|optimizers|schedules|regularizers|probes|experiments]\n"
    "  reproduce NAME [--out DIR] [--force]              run a built-in experiment\n"
    "  --version, --help\n";

static const char *const help_train =
    "usage: ncopt train SPEC [--set section.key=value]... [--out DIR] [--force] [--quiet]\n"
    "\n"
    "Runs the experiment described by SPEC (an INI file; see docs/SPEC.md and\n"
    "`ncopt list`). Writes spec.ini, trace.csv, summary.json, params.npy\n"
    "(aux.npy for the invex lifting's p), checkpoints and plots into DIR\n"
    "(default: runs/<spec name>). A [sweep] section runs a grid, one folder per\n"
    "point, plus an overlay plot and sweep.csv. Progress goes to stderr unless\n"
    "--quiet. A DIR that holds an earlier run is refused unless --force (or\n"
    "--overwrite): then its outputs are replaced. One process at a time writes\n"
    "a folder (a second one is refused: DIR/.ncopt.lock).\n"
    "SIGINT/SIGTERM finish the current step, checkpoint and exit (130/143);\n"
    "`ncopt resume DIR` continues. Exit status: 0 done, 1 an error while\n"
    "running, 2 a usage or spec error (one line FILE:LINE: section.key: what),\n"
    "3 non-finite loss or gradient (the last good checkpoint is kept).\n";
static const char *const help_resume =
    "usage: ncopt resume DIR [--set run.KEY=VALUE]... [--quiet]\n"
    "\n"
    "Continues the run in DIR from its last good checkpoint (the previous one\n"
    "if the last is damaged). The continued run writes the same trace (timing\n"
    "aside) and parameters as an uninterrupted one, at the same thread count\n"
    "(OPENBLAS_NUM_THREADS). DIR may be a sweep's folder: its finished runs are\n"
    "kept, the interrupted one continues, the others run. It works from any\n"
    "folder: the checkpoint holds the resolved spec with absolute data paths.\n"
    "--set changes how long the run goes on and what it logs: run.iterations,\n"
    "run.epochs, run.max_seconds, run.target_loss, run.grad_tol, run.log_every,\n"
    "run.full_loss_every, run.checkpoint_every, run.checkpoint_seconds; e.g.\n"
    "`ncopt resume DIR --set run.epochs=20` extends a finished 10-epoch run (a\n"
    "schedule whose horizon is the run's length follows the new length from\n"
    "the current step on). By default a run checkpoints every 30 s of training\n"
    "(run.checkpoint_every = auto), so a killed run resumes too.\n"
    "Exit status as for train.\n";
static const char *const help_show =
    "usage: ncopt show SPEC [--set section.key=value]...\n"
    "\n"
    "Prints the fully resolved spec: every key that applies, defaults filled.\n"
    "With a [sweep], prints every point.\n";
static const char *const help_eval =
    "usage: ncopt eval SPEC --params FILE.npy [--aux FILE.npy] [--set k=v]...\n"
    "\n"
    "Prints the loss, the non-regularised loss and the gradient norm of the\n"
    "spec's problem (full batch) at the parameters in FILE.npy; for networks\n"
    "also the accuracy on the training samples and, where the data have a\n"
    "held-out set, its mean loss and accuracy. For the invex lifting, FILE.npy\n"
    "holds x (or x and p) and --aux the run's p (RUN/aux.npy); `--aux zeros`\n"
    "evaluates at p = 0. run.iterations/epochs are not needed.\n";
static const char *const help_probe =
    "usage: ncopt probe hessian SPEC --params FILE.npy [--aux FILE.npy] [--k K] [--density]\n"
    "                          [--grad-tol G] [--out DIR] [--set section.key=value]...\n"
    "\n"
    "Prints the K (default 1) largest and smallest eigenvalues of the Hessian of\n"
    "the spec's problem (full batch) at the parameters in FILE.npy, by Lanczos on\n"
    "Hessian-vector products (exact where the problem has them; the [lanczos]\n"
    "keys of the spec set max_iter and tol), and classifies the point (Ma\n"
    "Definition 2.1; Cevher lecture 9): noncritical (‖∇f‖ > G, default 1e-4),\n"
    "minimum (λ_min ≥ τ), strict_saddle (λ_min ≤ −τ), maximum (λ_max ≤ −τ) or\n"
    "degenerate, with τ = 1e-5·max|λ| (1e-3 for finite-difference products). On\n"
    "the sphere (tensor) the Hessian is the Riemannian one (Ma eq. 5.5). For\n"
    "the invex lifting FILE.npy holds x (or x and p), --aux the run's p (or zeros).\n"
    "--density also estimates the spectral density by stochastic Lanczos\n"
    "quadrature (10 Rademacher probes, 80 steps) and writes\n"
    "hessian_density.{png,svg,csv} into DIR (default: FILE.npy's folder).\n"
    "Exit status: 0 done, 1 an error, 2 a usage or spec error.\n";
static const char *const help_certify =
    "usage: ncopt certify SPEC [--run DIR] [--json FILE] [--set section.key=value]...\n"
    "\n"
    "Evaluates at θ₀ (the spec's starting point) the assumptions of Oymak &\n"
    "Soltanolkotabi (2019) Theorem 2.1 (α ≤ σ_min(J) ≤ ‖J‖ ≤ β over the ball of\n"
    "radius R = 4‖r₀‖/α, sampled; the Jacobian's Lipschitz constant L; the step\n"
    "bound on η = c·optimizer.lr) and Theorem 2.2 (α₂² ≥ 4L‖r₀‖), and for the\n"
    "invex lifting the PL constant λ² and the path bound R(x₀, λ) of Crane &\n"
    "Roosta. Prints the report; with --run DIR (a finished run of SPEC with the\n"
    "misfit and distance probes) also compares the predicted rate, radius and\n"
    "path length with the observed ones (and λ² with the smallest pl_ratio),\n"
    "writes DIR/certificate.json and redraws DIR/misfit_distance with the\n"
    "bounds. --json FILE writes the JSON report there instead. Needs a\n"
    "least-squares problem. Exit status: 0 done (whatever the verdicts), 1 an\n"
    "error, 2 a usage or spec error.\n";
static const char *const help_list =
    "usage: ncopt list [problems|sources|optimizers|schedules|regularizers|probes|experiments]\n"
    "\n"
    "Lists what a spec can name, one line each with its keys.\n";
static const char *const help_reproduce =
    "usage: ncopt reproduce NAME [--out DIR] [--force] [--quiet] [--set k=v]...\n"
    "\n"
    "Runs a built-in experiment (its spec is shipped in experiments/NAME.ini;\n"
    "`ncopt list experiments`). Default DIR: runs/NAME; an earlier run there is\n"
    "replaced only with --force.\n";

static volatile sig_atomic_t got_signal = 0;
/* The first SIGINT/SIGTERM asks the run to stop at its next step
 * (checkpoint, outputs, exit 130/143); a second one, or STOP_GRACE seconds
 * without the run stopping (a step that never returns), ends the process
 * with the signal's default action. Outputs are written atomically, so
 * either way no file is left half-written. */
#define STOP_GRACE 30
static void on_signal(int sig) {
  got_signal = sig;
  alarm(STOP_GRACE);
}
static void on_alarm(int sig) {
  (void)sig;
  signal(got_signal ? got_signal : SIGTERM, SIG_DFL);
  raise(got_signal ? got_signal : SIGTERM);
}

/* prefix + msg + newline on stderr, control bytes of msg (other than the
 * newlines between several spec errors) shown as \xNN: a spec or a file
 * name must not move the terminal's cursor or change its colours */
static void put_msg(const char *prefix, const char *msg) {
  fputs(prefix, stderr);
  for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
    if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f) fprintf(stderr, "\\x%02x", *p);
    else fputc(*p, stderr);
  }
  fputc('\n', stderr);
}

static int fail(int st, const char *fallback) {
  const char *m = nco_last_error();
  put_msg("ncopt: ", *m ? m : fallback);
  if (st == NCO_ERR_NONFINITE) return 3;
  return 1;
}

/* spec errors (config/parse) exit with 2; their message is already
 * "FILE:LINE: section.key: what is wrong" */
static int spec_fail(void) {
  put_msg("", nco_last_error());
  return 2;
}

/* A usage error: one line, exit 2. */
static int usage_fail(const char *cmd, const char *what) {
  fprintf(stderr, "ncopt: %s: %s (see ncopt %s --help)\n", cmd, what, cmd);
  return 2;
}

typedef struct {
  int quiet, tty, drawn;
  double last;
} progress_ctx;

static double wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* On a terminal the progress line is redrawn in place (10 times a second
 * at most); otherwise (a log file, a pipe) a line every 5 seconds. */
static int on_progress(void *ctx, const nco_progress *p) {
  progress_ctx *c = ctx;
  if (got_signal && !p->done) return 1;
  if (c->quiet) return 0;
  if (p->done) {
    if (c->tty && c->drawn) fputs("\r\033[K", stderr);
    c->drawn = 0;
    return 0;
  }
  double now = wall();
  if (now - c->last < (c->tty ? 0.1 : 5.0)) return 0;
  c->last = now;
  double sps = p->seconds > 0 ? (double)p->iter / p->seconds : 0;
  double eta = sps > 0 ? (double)(p->total - p->iter) / sps : 0;
  char line[768], etas[32];
  if (sps > 0 && eta < 1e7) snprintf(etas, sizeof etas, "%.0fs", eta);
  else snprintf(etas, sizeof etas, "--");
  char point[200] = "", loss[48] = "";
  if (p->npoints) snprintf(point, sizeof point, "[%zu/%zu %.160s] ", p->point, p->npoints, p->label ? p->label : "");
  if (isfinite(p->loss)) snprintf(loss, sizeof loss, "  loss %.6g", p->loss);
  if (p->replay)
    snprintf(line, sizeof line, "%sregularity replay (γ_k of every step): step %llu/%llu  %.0f steps/s  ETA %s", point,
             (unsigned long long)p->iter, (unsigned long long)p->total, sps, etas);
  else
    snprintf(line, sizeof line, "%sstep %llu/%llu  epoch %llu%s  %.3g steps/s  ETA %s", point, (unsigned long long)p->iter,
             (unsigned long long)p->total, (unsigned long long)p->epoch, loss, sps, etas);
  if (c->tty)
    fprintf(stderr, "\r\033[K%s", line);
  else
    fprintf(stderr, "%s\n", line);
  fflush(stderr);
  c->drawn = 1;
  return 0;
}

static void progress_init(progress_ctx *c, int quiet) {
  c->quiet = quiet, c->tty = isatty(2), c->drawn = 0, c->last = c->tty ? 0 : wall();
}

typedef struct {
  const char *spec, *out, *params, *aux, *run, *json, *k, *grad_tol;
  const char *sets[64];
  int nsets, quiet, help, density, force;
} args;

/* opts: the options the command takes, e.g. "set out quiet" */
static int has_opt(const char *opts, const char *o) {
  size_t L = strlen(o);
  for (const char *p = strstr(opts, o); p; p = strstr(p + 1, o))
    if ((p == opts || p[-1] == ' ') && (p[L] == ' ' || !p[L])) return 1;
  return 0;
}

static int parse_args(const char *cmd, const char *opts, int argc, char **argv, args *a, int want_spec) {
  memset(a, 0, sizeof *a);
  for (int i = 0; i < argc; i++) {
    const char *s = argv[i];
    if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
      a->help = 1;
    } else if ((!strcmp(s, "--quiet") || !strcmp(s, "-q")) && has_opt(opts, "quiet")) {
      a->quiet = 1;
    } else if ((!strcmp(s, "--force") || !strcmp(s, "--overwrite")) && has_opt(opts, "force")) {
      a->force = 1;
    } else if (!strcmp(s, "--density") && has_opt(opts, "density")) {
      a->density = 1;
    } else if (!strncmp(s, "--", 2) && has_opt(opts, s + 2) && strcmp(s + 2, "quiet") && strcmp(s + 2, "density") &&
               strcmp(s + 2, "force")) {
      if (i + 1 >= argc) {
        char m[128];
        snprintf(m, sizeof m, "%s needs a value", s);
        return usage_fail(cmd, m);
      }
      const char *v = argv[++i];
      if (!strcmp(s, "--set")) {
        if (a->nsets == 64) return usage_fail(cmd, "more than 64 --set options");
        a->sets[a->nsets++] = v;
      } else if (!strcmp(s, "--out")) {
        a->out = v;
      } else if (!strcmp(s, "--params")) {
        a->params = v;
      } else if (!strcmp(s, "--run")) {
        a->run = v;
      } else if (!strcmp(s, "--json")) {
        a->json = v;
      } else if (!strcmp(s, "--k")) {
        a->k = v;
      } else if (!strcmp(s, "--grad-tol")) {
        a->grad_tol = v;
      } else {
        a->aux = v;
      }
    } else if (s[0] == '-' && s[1]) {
      char m[300];
      snprintf(m, sizeof m, "unknown option '%.200s'", s);
      return usage_fail(cmd, m);
    } else if (!a->spec && want_spec) {
      a->spec = s;
    } else {
      char m[300];
      snprintf(m, sizeof m, "unexpected argument '%.200s'", s);
      return usage_fail(cmd, m);
    }
  }
  return 0;
}

static int load_spec(const char *path, const args *a, nco_spec **spec) {
  if (nco_spec_load(path, spec)) return spec_fail();
  for (int i = 0; i < a->nsets; i++)
    if (nco_spec_set(*spec, a->sets[i])) {
      nco_spec_free(*spec);
      *spec = NULL;
      return spec_fail();
    }
  return 0;
}

static int has_sweep(const nco_spec *s) {
  for (size_t i = 0; i < s->n; i++)
    if (!strcmp(s->e[i].section, "sweep")) return 1;
  return 0;
}

static void default_out(const char *spec_path, char *out, size_t len) {
  const char *base = strrchr(spec_path, '/');
  base = base ? base + 1 : spec_path;
  char name[512];
  snprintf(name, sizeof name, "%s", base);
  char *dot = strrchr(name, '.');
  if (dot && dot != name) *dot = '\0';
  snprintf(out, len, "runs/%s", name);
}

static void install_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESETHAND; /* a second signal ends the process at once */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
}

static int finish_run(int st, const nco_run_result *res, const char *out, int quiet, int sweep) {
  if (res->notice[0]) fprintf(stderr, "ncopt: note: %s\n", res->notice);
  if (st == NCO_CANCELLED) {
    fprintf(stderr, "ncopt: %s; checkpoint written, continue with: ncopt resume %s\n", res->message, out);
    return got_signal == SIGTERM ? 143 : 130;
  }
  if (st < 0) {
    const char *m = *res->message ? res->message : nco_last_error();
    if (res->spec_error) {
      put_msg("", m);
      return 2;
    }
    put_msg("ncopt: ", m);
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
  int sweep = has_sweep(spec), rc, lock = -1;
  if (nco_sweep_expand(spec, &pts, &np)) return spec_fail();
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
    return fail(NCO_ERR_STATE, "cannot lock the sweep's folder");
  }
  progress_ctx pc;
  progress_init(&pc, quiet);
  nco_run_hooks hooks = {on_progress, &pc};
  nco_run_result res;
  memset(&res, 0, sizeof res);
  install_signals();
  int st = nco_sweep_run_table(pts, np, sweep, out, &hooks, &res, quiet || !sweep ? NULL : stdout);
  nco_sweep_free(pts, np);
  nco_dir_unlock(lock);
  if (st < 0 && !res.message[0]) snprintf(res.message, sizeof res.message, "%s", nco_last_error());
  return finish_run(st, &res, out, quiet, sweep);
}

static int cmd_train(int argc, char **argv) {
  args a;
  int rc = parse_args("train", "set out quiet force", argc, argv, &a, 1);
  if (rc) return rc;
  if (a.help) return fputs(help_train, stdout), 0;
  if (!a.spec) return usage_fail("train", "missing SPEC");
  nco_spec *spec;
  if ((rc = load_spec(a.spec, &a, &spec))) return rc;
  char out[4096];
  if (a.out)
    snprintf(out, sizeof out, "%s", a.out);
  else
    default_out(a.spec, out, sizeof out);
  rc = run_spec(spec, "train", out, a.quiet, a.force);
  nco_spec_free(spec);
  return rc;
}

static int cmd_resume(int argc, char **argv) {
  args a;
  int rc = parse_args("resume", "set quiet", argc, argv, &a, 1);
  if (rc) return rc;
  if (a.help) return fputs(help_resume, stdout), 0;
  if (!a.spec) return usage_fail("resume", "missing DIR");
  progress_ctx pc;
  progress_init(&pc, a.quiet);
  nco_run_hooks hooks = {on_progress, &pc};
  nco_run_result res;
  memset(&res, 0, sizeof res);
  install_signals();
  char ck[4200];
  snprintf(ck, sizeof ck, "%s/checkpoint.bin", a.spec);
  int sweep = nco_sweep_is_folder(a.spec) && access(ck, F_OK);
  if (sweep && a.nsets) return usage_fail("resume", "--set extends a single run, not a sweep's folder");
  int lock = -1;
  if (sweep && nco_dir_lock(a.spec, &lock)) return fail(NCO_ERR_STATE, "cannot lock the sweep's folder");
  int st = sweep ? nco_sweep_resume_table(a.spec, &hooks, &res, a.quiet ? NULL : stdout)
                 : nco_run_resume_with(a.spec, a.sets, (size_t)a.nsets, &hooks, &res);
  nco_dir_unlock(lock);
  if (st < 0 && !res.message[0]) snprintf(res.message, sizeof res.message, "%s", nco_last_error());
  return finish_run(st, &res, a.spec, a.quiet, sweep);
}

/* The graph of a [network] spec as comment lines after the spec (so that
 * the output still reads back as the same spec): node, op, output shape,
 * parameters, as torchinfo's summary. */
static void show_network(const nco_config *cfg) {
  nco_nn_model *m = NULL;
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  if (!mem || nco_config_network(cfg, 0, NULL, &m) || nco_nn_summary(m, mem)) {
    if (mem) fclose(mem);
    free(text), nco_nn_model_free(m);
    return;
  }
  fclose(mem);
  printf("\n");
  for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
    nl = strchr(line, '\n');
    printf("; %.*s\n", nl ? (int)(nl - line) : (int)strlen(line), line);
  }
  free(text), nco_nn_model_free(m);
}

static int cmd_show(int argc, char **argv) {
  args a;
  int rc = parse_args("show", "set", argc, argv, &a, 1);
  if (rc) return rc;
  if (a.help) return fputs(help_show, stdout), 0;
  if (!a.spec) return usage_fail("show", "missing SPEC");
  nco_spec *spec;
  if ((rc = load_spec(a.spec, &a, &spec))) return rc;
  nco_sweep_point *pts = NULL;
  size_t np = 0;
  int sweep = has_sweep(spec);
  if (nco_sweep_expand(spec, &pts, &np)) {
    nco_spec_free(spec);
    return spec_fail();
  }
  for (size_t i = 0; i < np; i++) {
    if (sweep) printf("%s# sweep point %zu/%zu: %s\n", i ? "\n" : "", i + 1, np, pts[i].name);
    nco_config_write(&pts[i].cfg, stdout);
    if (pts[i].cfg.nnet) show_network(&pts[i].cfg);
  }
  nco_sweep_free(pts, np);
  nco_spec_free(spec);
  return 0;
}

/* SPEC with its --set overrides (a [sweep] is ignored) → cfg. Returns an
 * exit status, 0 when fine. */
static int load_config(const args *a, nco_config *cfg) {
  nco_spec *spec;
  int rc = load_spec(a->spec, a, &spec);
  if (rc) return rc;
  nco_spec_drop_section(spec, "sweep");
  /* eval, probe and certify look at a point: no run length needed; a
   * --set of a type drops the keys of the old type */
  unsigned flags = NCO_CONFIG_NO_LENGTH;
  for (int i = 0; i < a->nsets; i++)
    if (strstr(a->sets[i], ".type=")) flags |= NCO_CONFIG_LENIENT_TYPES;
  if (nco_config_from_spec_flags(spec, cfg, flags)) {
    nco_spec_free(spec);
    return spec_fail();
  }
  nco_spec_free(spec);
  if (cfg->ignored[0]) fprintf(stderr, "ncopt: note: ignored (does not apply to the new type): %s\n", cfg->ignored);
  return 0;
}

/* The problem of cfg and the point of --params (and --aux): *theta[dim].
 * Returns an exit status, 0 when fine. */
static int load_point(const args *a, const nco_config *cfg, nco_problem **pbo, float **thetao) {
  nco_problem *pb = NULL;
  nco_array x = {0}, p = {0};
  float *theta = NULL;
  int st, rc = 1;
  int se = 0;
  *pbo = NULL, *thetao = NULL;
  if ((st = nco_config_build_problems(cfg, 0, &pb, NULL, &se))) return se ? spec_fail() : fail(st, "cannot build the problem");
  size_t dim = pb->dim, dx = nco_problem_root(pb)->dim;
  if ((st = nco_npy_read(a->params, &x)) || (st = nco_array_to_f32(&x))) {
    rc = fail(st, "cannot read --params");
    goto done;
  }
  if (x.size != dim && x.size != dx) {
    fprintf(stderr, "ncopt: %s: holds %zu values, the problem has %zu parameters%s\n", a->params, x.size, dx,
            dim != dx ? " (or all of x and p)" : "");
    goto done;
  }
  if (!(theta = calloc(dim, sizeof *theta))) {
    rc = fail(NCO_ERR_NOMEM, "out of memory");
    goto done;
  }
  memcpy(theta, x.data, x.size * sizeof(float));
  /* the lifted loss ½‖g(x) + λp‖² depends on p: a point without it would
   * be another point than the run's (p = 0 only when asked for) */
  if (dim != dx && x.size == dx && !a->aux) {
    fprintf(stderr, "ncopt: %s: holds x only; the invex lifting's loss also depends on p: add --aux RUN/aux.npy "
                    "(the run's p), or --aux zeros for p = 0\n", a->params);
    goto done;
  }
  if (a->aux && !strcmp(a->aux, "zeros")) {
    if (x.size != dx || dim == dx) {
      fprintf(stderr, "ncopt: --aux zeros: %s\n", dim == dx ? "the problem has no auxiliary parameters (no invex lifting)"
                                                             : "--params already holds x and p");
      goto done;
    }
  } else if (a->aux) {
    if ((st = nco_npy_read(a->aux, &p)) || (st = nco_array_to_f32(&p))) {
      rc = fail(st, "cannot read --aux");
      goto done;
    }
    if (x.size != dx || p.size != dim - dx) {
      fprintf(stderr, "ncopt: %s: holds %zu values, the lifting has %zu auxiliary parameters\n", a->aux, p.size, dim - dx);
      goto done;
    }
    memcpy(theta + dx, p.data, p.size * sizeof(float));
  }
  rc = 0;
  *pbo = pb, *thetao = theta;
  pb = NULL, theta = NULL;
done:
  free(theta);
  nco_array_free(&x), nco_array_free(&p);
  nco_problem_free(pb);
  return rc;
}

/* Networks: accuracy on the training samples, and loss and accuracy on the
 * held-out set where the data have one (dropout off). Exit status. */
static int eval_network(const nco_config *cfg, nco_problem *pb, const float *theta) {
  nco_nn_metrics m;
  int st = nco_nn_evaluate(pb, theta, NULL, pb->n, &m);
  if (st) return fail(st, "evaluation failed");
  if (isfinite(m.accuracy)) printf("accuracy   %.6g (%zu training samples)\n", m.accuracy, m.n);
  nco_problem *train = NULL, *test = NULL;
  int se = 0;
  if ((st = nco_config_build_problems(cfg, 1, &train, &test, &se))) return se ? spec_fail() : fail(st, "cannot build the test set");
  if (test && !(st = nco_nn_evaluate(test, theta, NULL, test->n, &m))) {
    printf("test_loss  %.17g (mean over %zu held-out samples)\n", m.loss_mean, m.n);
    if (isfinite(m.accuracy)) printf("test_acc   %.6g\n", m.accuracy);
  }
  nco_problem_free(train), nco_problem_free(test);
  return st ? fail(st, "evaluation of the test set failed") : 0;
}

static int cmd_eval(int argc, char **argv) {
  args a;
  int rc = parse_args("eval", "set params aux", argc, argv, &a, 1);
  if (rc) return rc;
  if (a.help) return fputs(help_eval, stdout), 0;
  if (!a.spec) return usage_fail("eval", "missing SPEC");
  if (!a.params) return usage_fail("eval", "missing --params FILE.npy");
  nco_config cfg;
  if ((rc = load_config(&a, &cfg))) return rc;
  nco_problem *pb;
  float *theta, *g = NULL;
  if ((rc = load_point(&a, &cfg, &pb, &theta))) return rc;
  size_t dim = pb->dim;
  int st;
  rc = 1;
  if (!(g = calloc(dim, sizeof *g))) {
    rc = fail(NCO_ERR_NOMEM, "out of memory");
    goto done;
  }
  double loss, unreg;
  if ((st = nco_problem_eval(pb, theta, NULL, pb->n, &loss, g)) || (st = nco_problem_loss_unreg(pb, theta, NULL, pb->n, &unreg))) {
    rc = fail(st, "evaluation failed");
    goto done;
  }
  printf("problem    %s\nloss       %.17g\nloss_unreg %.17g\ngrad_norm  %.17g\n", pb->label, loss, unreg, nco_nrm2(dim, g));
  if (nco_nn_is_nn(pb) && (rc = eval_network(&cfg, pb, theta))) goto done;
  rc = 0;
done:
  free(theta), free(g);
  nco_problem_free(pb);
  return rc;
}

/* A positive integer or number option; -1 / NAN when malformed. */
static long opt_int(const char *s) {
  char *e;
  long v = s ? strtol(s, &e, 10) : -1;
  return s && *s && !*e ? v : -1;
}
static double opt_num(const char *s) {
  char *e;
  double v = s ? strtod(s, &e) : NAN;
  return s && *s && !*e ? v : NAN;
}

/* ncopt probe hessian: the extreme eigenvalues and the classification
 * (nco_classify_point), and optionally the spectral density (nco_hessian_density). */
static int cmd_probe(int argc, char **argv) {
  if (argc > 0 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) return fputs(help_probe, stdout), 0;
  if (argc == 0) return usage_fail("probe", "missing what to probe (hessian)");
  if (strcmp(argv[0], "hessian")) {
    char m[300];
    snprintf(m, sizeof m, "unknown probe '%.200s' (hessian)", argv[0]);
    return usage_fail("probe", m);
  }
  args a;
  int rc = parse_args("probe", "set params aux k density grad-tol out", argc - 1, argv + 1, &a, 1);
  if (rc) return rc;
  if (a.help) return fputs(help_probe, stdout), 0;
  if (!a.spec) return usage_fail("probe", "missing SPEC");
  if (!a.params) return usage_fail("probe", "missing --params FILE.npy");
  nco_classify_opts co = nco_classify_defaults();
  if (a.k) {
    long k = opt_int(a.k);
    if (k < 1 || k > NCO_DIAG_MAXK) {
      char m[120];
      snprintf(m, sizeof m, "--k must be an integer in [1, %d]", NCO_DIAG_MAXK);
      return usage_fail("probe", m);
    }
    co.k = (size_t)k;
  }
  if (a.grad_tol) {
    co.grad_tol = opt_num(a.grad_tol);
    if (!(co.grad_tol >= 0)) return usage_fail("probe", "--grad-tol must be a number ≥ 0");
  }
  nco_config cfg;
  if ((rc = load_config(&a, &cfg))) return rc;
  nco_problem *pb;
  float *theta;
  if ((rc = load_point(&a, &cfg, &pb, &theta))) return rc;
  co.lanczos = nco_config_lanczos(&cfg);
  size_t cap = pb->manifold == NCO_MANIFOLD_SPHERE ? pb->dim - 1 : pb->dim;
  if (co.lanczos.max_iter > cap) co.lanczos.max_iter = cap;
  if (co.k > co.lanczos.max_iter) {
    fprintf(stderr, "ncopt: probe: --k %zu is more than the Lanczos iterations (%zu: lanczos.max_iter, capped at the "
                    "dimension)\n", co.k, co.lanczos.max_iter);
    free(theta), nco_problem_free(pb);
    return 2;
  }
  nco_classification c;
  if (isatty(2))
    fprintf(stderr, "probe: Lanczos on the Hessian of %s (%zu parameters, %zu samples): up to %zu iterations, one "
                    "Hessian-vector product each...\n", pb->label, pb->dim, pb->n, co.lanczos.max_iter);
  int st = nco_classify_point(pb, theta, NULL, pb->n, &co, &c);
  rc = 1;
  if (st) {
    rc = fail(st, "classification failed");
    goto done;
  }
  printf("problem     %s\n", pb->label);
  printf("loss        %.17g\ngrad_norm   %.17g%s\n", c.loss, c.grad_norm,
         pb->manifold == NCO_MANIFOLD_SPHERE ? " (Riemannian)" : "");
  printf("hessian     %s%s, %zu parameters\n", c.exact_hvp ? "exact Hessian-vector products" : "finite-difference products",
         pb->manifold == NCO_MANIFOLD_SPHERE ? ", Riemannian (Ma eq. 5.5)" : "", pb->dim);
  printf("lanczos     %zu iterations, %zu products, converged: %s, max residual %.3g\n", c.info.iterations,
         c.info.matvecs, c.info.converged ? "yes" : "no", c.info.max_residual);
  printf("largest    ");
  for (size_t i = 0; i < c.k; i++) printf(" %.9g", c.hi[i]);
  printf("\nsmallest   ");
  for (size_t i = 0; i < c.k; i++) printf(" %.9g", c.lo[i]);
  printf("\nthresholds  tau %.3g, beta %.3g, grad_tol %.3g\n", c.tau, c.beta, co.grad_tol);
  printf("curvature   %s\nkind        %s\n", nco_point_kind_name(c.curvature), nco_point_kind_name(c.kind));
  if (a.density) {
    char dir[4096];
    if (a.out) {
      snprintf(dir, sizeof dir, "%s", a.out);
    } else {
      snprintf(dir, sizeof dir, "%s", a.params);
      char *sl = strrchr(dir, '/');
      if (sl) *sl = '\0';
      else snprintf(dir, sizeof dir, ".");
    }
    if ((st = nco_mkdirs(dir))) {
      rc = fail(st, "cannot create the output folder");
      goto done;
    }
    nco_slq_opts so = nco_slq_defaults();
    so.seed = cfg.lz_seed;
    nco_slq_result res;
    memset(&res, 0, sizeof res);
    if (isatty(2))
      fprintf(stderr, "probe: spectral density by stochastic Lanczos quadrature (%zu probes × %zu steps)...\n", so.n_probes,
              so.n_iter);
    if ((st = nco_hessian_density(pb, theta, NULL, pb->n, &so, &res))) {
      nco_slq_free(&res);
      rc = fail(st, "spectral density failed");
      goto done;
    }
    char path[4300], *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem) {
      fprintf(mem, "eigenvalue,density\n");
      for (size_t i = 0; i < res.n_grid; i++) fprintf(mem, "%.17g,%.17g\n", res.grid[i], res.density[i]);
      fclose(mem);
    }
    snprintf(path, sizeof path, "%s/hessian_density.csv", dir);
    st = text ? nco_write_file_atomic(path, text, len) : NCO_ERR_NOMEM;
    free(text);
    char title[200];
    snprintf(title, sizeof title, "Hessian spectral density (SLQ, %zu probes × %zu steps)", res.n_probes, res.n_iter);
    snprintf(path, sizeof path, "%s/hessian_density", dir);
    if (!st) st = nco_plot_density(path, res.grid, res.density, res.n_grid, title);
    printf("density     %s.{png,svg,csv}: nodes in [%.6g, %.6g], σ = %.3g, %zu products\n", path, res.lam_min, res.lam_max,
           res.sigma, res.matvecs);
    nco_slq_free(&res);
    if (st) {
      rc = fail(st, "cannot write the density");
      goto done;
    }
  }
  rc = 0;
done:
  free(theta);
  nco_problem_free(pb);
  return rc;
}

/* The columns of a run's trace.csv that the certificate compares. */
typedef struct {
  size_t n;
  double *iter, *misfit, *dist, *pl;
} trace_cols;

static void trace_cols_free(trace_cols *t) { free(t->iter), free(t->misfit), free(t->dist), free(t->pl); }

/* The trace columns the certificate compares (nco_table_read, the one
 * reader of ncopt's CSV outputs). */
static int read_trace_cols(const char *path, trace_cols *t) {
  memset(t, 0, sizeof *t);
  nco_table tb;
  int st = nco_table_read(path, &tb);
  if (st) return st;
  const double *src[4] = {nco_table_col(&tb, "iter"), nco_table_col(&tb, "misfit"), nco_table_col(&tb, "distance"),
                          nco_table_col(&tb, "pl_ratio")};
  double **dst[4] = {&t->iter, &t->misfit, &t->dist, &t->pl};
  if (!src[0]) {
    nco_table_free(&tb);
    return nco_error(NCO_ERR_FORMAT, "%s: no iter column", path);
  }
  for (int c = 0; c < 4; c++) {
    if (!src[c]) continue;
    if (!(*dst[c] = malloc((tb.nrow ? tb.nrow : 1) * sizeof(double)))) {
      nco_table_free(&tb), trace_cols_free(t);
      return nco_error(NCO_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(*dst[c], src[c], tb.nrow * sizeof(double));
  }
  t->n = tb.nrow;
  nco_table_free(&tb);
  return NCO_OK;
}

/* A number of a run's summary.json (top level); NAN if absent or null. */
static double summary_number(const char *dir, const char *key) {
  char path[4200];
  snprintf(path, sizeof path, "%s/summary.json", dir);
  return nco_json_number(path, key);
}

static int cmd_certify(int argc, char **argv) {
  args a;
  int rc = parse_args("certify", "set run json", argc, argv, &a, 1);
  if (rc) return rc;
  if (a.help) return fputs(help_certify, stdout), 0;
  if (!a.spec) return usage_fail("certify", "missing SPEC");
  nco_config cfg;
  if ((rc = load_config(&a, &cfg))) return rc;
  if (!nco_config_is_least_squares(&cfg)) {
    char where[1200];
    nco_config_where(&cfg, "problem", "type", where, sizeof where);
    fprintf(stderr, "%s: problem.type: certify needs a least-squares problem ½‖f(θ) − y‖² (Oymak & Soltanolkotabi); %s has no "
                    "residuals\n", where, nco_config_is_network(&cfg) ? "a network with loss = cross_entropy" : cfg.problem_type);
    return 2;
  }
  char ck[4200];
  if (a.run) {
    snprintf(ck, sizeof ck, "%s/trace.csv", a.run);
    if (access(ck, R_OK)) {
      fprintf(stderr, "ncopt: certify: %s: no trace.csv (a run folder of this spec is needed)\n", a.run);
      return 2;
    }
  }
  nco_problem *pb = NULL;
  float *theta0 = NULL;
  int st, spec_error = 0;
  nco_certificate c;
  trace_cols tc;
  memset(&tc, 0, sizeof tc);
  if ((st = nco_config_build_problems(&cfg, 0, &pb, NULL, &spec_error)))
    return spec_error ? spec_fail() : fail(st, "cannot build the problem");
  rc = 1;
  if (!(theta0 = calloc(pb->dim, sizeof *theta0))) {
    rc = fail(NCO_ERR_NOMEM, "out of memory");
    goto done;
  }
  if ((st = nco_config_initial_point(&cfg, pb, theta0, &spec_error))) {
    if (spec_error) {
      rc = spec_fail();
      goto done;
    }
    rc = fail(st, "cannot set the starting point");
    goto done;
  }
  nco_cert_opts co = nco_cert_defaults();
  co.lr = cfg.hp.lr;
  co.lanczos = nco_config_lanczos(&cfg);
  co.lanczos.tol = fmin(co.lanczos.tol, 1e-6);
  if (isatty(2))
    fprintf(stderr, "certify: σ_min and σ_max of the Jacobian (Golub–Kahan–Lanczos) at θ₀ and %zu points × %zu rounds of "
                    "the ball, and the Jacobian's Lipschitz constant from %zu pairs...\n",
            co.n_points, co.rounds, co.n_pairs);
  if ((st = nco_certify(pb, theta0, NULL, pb->n, &co, &c))) {
    rc = fail(st, "certify failed");
    goto done;
  }
  if (a.run) {
    double th0 = nco_nrm2(pb->dim, theta0), th_run = summary_number(a.run, "theta0_norm");
    if (isfinite(th_run) && fabs(th_run - th0) > 1e-6 * fmax(1, th0)) {
      fprintf(stderr, "ncopt: certify: %s does not start where %s does (‖θ₀‖ = %.9g vs %.9g): not a run of this spec\n",
              a.run, a.spec, th_run, th0);
      goto done;
    }
    if (read_trace_cols(ck, &tc)) {
      fprintf(stderr, "ncopt: certify: %s: cannot read the trace: %s\n", ck, nco_last_error());
      goto done;
    }
    if (!tc.misfit)
      fprintf(stderr, "ncopt: certify: note: %s has no misfit column (probes.misfit): the rate and (2.4) are not compared\n",
              ck);
    if (tc.dist)
      for (size_t i = 0; i < tc.n; i++) tc.dist[i] *= th0; /* absolute ‖θ_τ − θ₀‖ */
    double plmin = NAN;
    for (size_t i = 0; tc.pl && i < tc.n; i++)
      if (isfinite(tc.pl[i]) && !(tc.pl[i] >= plmin)) plmin = tc.pl[i];
    nco_cert_observed obs = {tc.misfit ? tc.n : 0, tc.iter, tc.misfit, tc.dist, summary_number(a.run, "path_length"), plmin};
    if ((st = nco_certificate_compare(&c, &obs))) {
      rc = fail(st, "compare failed");
      goto done;
    }
  }
  if ((st = nco_certificate_write_text(&c, stdout))) {
    rc = fail(st, "cannot write the report");
    goto done;
  }
  if (a.json || a.run) {
    char path[4300], *text = NULL;
    size_t len = 0;
    if (a.json) snprintf(path, sizeof path, "%s", a.json);
    else snprintf(path, sizeof path, "%s/certificate.json", a.run);
    FILE *mem = open_memstream(&text, &len);
    if (!mem) {
      rc = fail(NCO_ERR_NOMEM, "out of memory");
      goto done;
    }
    st = nco_certificate_write_json(&c, mem);
    fclose(mem);
    if (!st) st = nco_write_file_atomic(path, text, len);
    free(text);
    if (st) {
      rc = fail(st, "cannot write the JSON report");
      goto done;
    }
    /* the misfit–distance plot with the bounds */
    if (a.run && !a.json && (st = nco_plot_run(a.run))) {
      rc = fail(st, "cannot redraw the plots");
      goto done;
    }
  }
  rc = 0;
done:
  trace_cols_free(&tc);
  free(theta0);
  nco_problem_free(pb);
  return rc;
}

/* The built-in experiments: $NCOPT_EXPERIMENTS, else the source tree's
 * experiments/ this binary was built from (a build never picks up an older
 * installed copy), else the installed ones. */
static const char *experiments_dir(void) {
  const char *env = getenv("NCOPT_EXPERIMENTS");
  struct stat sb;
  if (env && *env) return env;
  if (!stat(NCO_EXPERIMENTS_DIR, &sb) && S_ISDIR(sb.st_mode)) return NCO_EXPERIMENTS_DIR;
  return NCO_INSTALLED_EXPERIMENTS_DIR;
}

static int list_experiments(FILE *fp) {
  const char *dir = experiments_dir();
  char cmd[4200];
  /* a fixed, small listing: read the directory */
  snprintf(cmd, sizeof cmd, "%s", dir);
  FILE *idx;
  char path[4300];
  snprintf(path, sizeof path, "%s/INDEX", cmd);
  if (!(idx = fopen(path, "r"))) {
    fprintf(stderr, "ncopt: %s: cannot open the experiments index\n", path);
    return 1;
  }
  char line[512];
  while (fgets(line, sizeof line, idx))
    if (line[0] != '#' && line[0] != '\n') fprintf(fp, "  %s", line);
  fclose(idx);
  return 0;
}

static int cmd_list(int argc, char **argv) {
  if (argc > 0 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) return fputs(help_list, stdout), 0;
  if (argc > 1) return usage_fail("list", "takes at most one topic");
  if (argc == 1 && !strcmp(argv[0], "experiments")) return list_experiments(stdout);
  /* `ncopt list keys` (not advertised) prints the key table as Markdown:
   * the reference part of docs/SPEC.md */
  if (nco_config_list(argc ? argv[0] : NULL, stdout)) return fail(NCO_ERR_INVALID, "list failed"), 2;
  if (!argc) {
    printf("experiments:\n");
    return list_experiments(stdout);
  }
  return 0;
}

static int cmd_reproduce(int argc, char **argv) {
  args a;
  int rc = parse_args("reproduce", "set out quiet force", argc, argv, &a, 1);
  if (rc) return rc;
  if (a.help) return fputs(help_reproduce, stdout), 0;
  if (!a.spec) return usage_fail("reproduce", "missing NAME (see ncopt list experiments)");
  if (strchr(a.spec, '/') || a.spec[0] == '.')
    return usage_fail("reproduce", "takes an experiment name (see ncopt list experiments), not a path");
  char path[4300];
  snprintf(path, sizeof path, "%s/%s.ini", experiments_dir(), a.spec);
  if (access(path, R_OK)) {
    fprintf(stderr, "ncopt: reproduce: no experiment named '%s' (see ncopt list experiments)\n", a.spec);
    return 2;
  }
  nco_spec *spec;
  if ((rc = load_spec(path, &a, &spec))) return rc;
  char out[4096];
  if (a.out)
    snprintf(out, sizeof out, "%s", a.out);
  else
    snprintf(out, sizeof out, "runs/%s", a.spec);
  rc = run_spec(spec, "reproduce", out, a.quiet, a.force);
  nco_spec_free(spec);
  return rc;
}

int main(int argc, char **argv) {
  /* Threads that wait must not spin while another program needs the core
   * (ncopt/threads.h): unless OMP_WAIT_POLICY or GOMP_SPINCOUNT is given,
   * run again with a short GOMP_SPINCOUNT (libgomp reads it only at load). */
  (void)nco_threads_setup(argv);
  /* ncopt's parallelism is one OpenMP team (the network engine splits each
   * batch over it; optimiser steps use it too). OpenBLAS's own thread pool
   * would spin between calls and fight that team for the cores (Lanczos on
   * an MLP: 0.37 s instead of 0.28 s on 2 cores), so unless the user asks
   * for OpenBLAS threads explicitly, OpenBLAS runs single-threaded. */
  if (!getenv("OPENBLAS_NUM_THREADS")) openblas_set_num_threads(1);
  if (argc < 2) {
    fputs(usage, stderr);
    return 2;
  }
  const char *c = argv[1];
  if (!strcmp(c, "--version") || !strcmp(c, "-V") || !strcmp(c, "version")) {
    printf("ncopt %s\n", NCO_VERSION_STRING);
    return 0;
  }
  if (!strcmp(c, "--help") || !strcmp(c, "-h") || !strcmp(c, "help")) {
    fputs(usage, stdout);
    return 0;
  }
  if (!strcmp(c, "train")) return cmd_train(argc - 2, argv + 2);
  if (!strcmp(c, "resume")) return cmd_resume(argc - 2, argv + 2);
  if (!strcmp(c, "show")) return cmd_show(argc - 2, argv + 2);
  if (!strcmp(c, "eval")) return cmd_eval(argc - 2, argv + 2);
  if (!strcmp(c, "probe")) return cmd_probe(argc - 2, argv + 2);
  if (!strcmp(c, "certify")) return cmd_certify(argc - 2, argv + 2);
  if (!strcmp(c, "list")) return cmd_list(argc - 2, argv + 2);
  if (!strcmp(c, "reproduce")) return cmd_reproduce(argc - 2, argv + 2);
  fprintf(stderr, "ncopt: unknown command '%s' (see ncopt --help)\n", c);
  return 2;
}
