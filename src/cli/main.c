/* ncopt — command-line entry point. A thin layer over the library: it
 * parses arguments, calls libncopt and turns a status into one clear line
 * on stderr and an exit code:
 *   0 done · 1 runtime error · 2 usage or spec error · 3 non-finite loss
 *   130 interrupted by SIGINT · 143 by SIGTERM */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ncopt/config.h"
#include "ncopt/ncopt.h"
#include "ncopt/run.h"
#include "ncopt/spec.h"
#include "ncopt/sweep.h"

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
    "  train SPEC [--set k=v]... [--out DIR] [--quiet]   run an experiment\n"
    "  resume DIR [--quiet]                              continue an interrupted run\n"
    "  show SPEC [--set k=v]...                          print the resolved spec\n"
    "  eval SPEC --params FILE.npy [--aux FILE.npy]      loss and gradient at a point\n"
    "  list [problems|optimizers|schedules|regularizers|probes|experiments]\n"
    "  reproduce NAME [--out DIR] [--quiet]              run a built-in experiment\n"
    "  --version, --help\n";

static const char *const help_train =
    "usage: ncopt train SPEC [--set section.key=value]... [--out DIR] [--quiet]\n"
    "\n"
    "Runs the experiment described by SPEC (an INI file; see docs/SPEC.md and\n"
    "`ncopt list`). Writes spec.ini, trace.csv, summary.json, params.npy\n"
    "(aux.npy for the invex lifting's p), checkpoints and plots into DIR\n"
    "(default: runs/<spec name>). A [sweep] section runs a grid, one folder per\n"
    "point, plus an overlay plot. Progress goes to stderr unless --quiet.\n"
    "SIGINT/SIGTERM finish the current step, checkpoint and exit (130/143);\n"
    "`ncopt resume DIR` continues. Exit status: 0 done, 1 an error while\n"
    "running, 2 a usage or spec error (one line FILE:LINE: section.key: what),\n"
    "3 non-finite loss or gradient (the last good checkpoint is kept).\n";
static const char *const help_resume =
    "usage: ncopt resume DIR [--quiet]\n"
    "\n"
    "Continues the run in DIR from its last good checkpoint (the previous one\n"
    "if the last is damaged). The continued run writes the same trace (timing\n"
    "aside) and parameters as an uninterrupted one, at the same thread count\n"
    "(OPENBLAS_NUM_THREADS). DIR may be a sweep's folder: its finished runs are\n"
    "kept, the interrupted one continues, the others run. It works from any\n"
    "folder: the checkpoint holds the resolved spec with absolute data paths.\n"
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
    "spec's problem (full batch) at the parameters in FILE.npy. For the invex\n"
    "lifting, FILE.npy holds x (or x and p); p comes from --aux or is 0.\n";
static const char *const help_list =
    "usage: ncopt list [problems|optimizers|schedules|regularizers|probes|experiments]\n"
    "\n"
    "Lists what a spec can name, one line each with its keys.\n";
static const char *const help_reproduce =
    "usage: ncopt reproduce NAME [--out DIR] [--quiet] [--set k=v]...\n"
    "\n"
    "Runs a built-in experiment (its spec is shipped in experiments/NAME.ini;\n"
    "`ncopt list experiments`). Default DIR: runs/NAME.\n";

static volatile sig_atomic_t got_signal = 0;
static void on_signal(int sig) { got_signal = sig; }

static int fail(int st, const char *fallback) {
  const char *m = nco_last_error();
  fprintf(stderr, "ncopt: %s\n", *m ? m : fallback);
  if (st == NCO_ERR_NONFINITE) return 3;
  return 1;
}

/* spec errors (config/parse) exit with 2; their message is already
 * "FILE:LINE: section.key: what is wrong" */
static int spec_fail(void) {
  fprintf(stderr, "%s\n", nco_last_error());
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
  char line[256], etas[32];
  if (sps > 0 && eta < 1e7) snprintf(etas, sizeof etas, "%.0fs", eta);
  else snprintf(etas, sizeof etas, "--");
  snprintf(line, sizeof line, "step %llu/%llu  epoch %llu  loss %.6g  %.0f steps/s  ETA %s", (unsigned long long)p->iter,
           (unsigned long long)p->total, (unsigned long long)p->epoch, p->loss, sps, etas);
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
  const char *spec, *out, *params, *aux;
  const char *sets[64];
  int nsets, quiet, help;
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
    } else if (!strncmp(s, "--", 2) && has_opt(opts, s + 2) && strcmp(s + 2, "quiet")) {
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
      fprintf(stderr, "%s\n", m);
      return 2;
    }
    fprintf(stderr, "ncopt: %s\n", m);
    return st == NCO_ERR_NONFINITE ? 3 : 1;
  }
  if (!quiet) {
    if (sweep)
      fprintf(stderr, "ncopt: sweep finished; outputs in %s (one folder per run, listed in points.txt)\n", out);
    else
      fprintf(stderr, "ncopt: %s; loss %.6g after %llu steps (%.3f s); outputs in %s\n", res->message, res->final_loss,
              (unsigned long long)res->iterations, res->train_seconds, out);
  }
  return 0;
}

static int run_spec(nco_spec *spec, const char *out, int quiet) {
  nco_sweep_point *pts = NULL;
  size_t np = 0;
  int sweep = has_sweep(spec);
  if (nco_sweep_expand(spec, &pts, &np)) return spec_fail();
  progress_ctx pc;
  progress_init(&pc, quiet);
  nco_run_hooks hooks = {on_progress, &pc};
  nco_run_result res;
  memset(&res, 0, sizeof res);
  install_signals();
  int st = nco_sweep_run(pts, np, sweep, out, &hooks, &res);
  nco_sweep_free(pts, np);
  if (st < 0 && !res.message[0]) snprintf(res.message, sizeof res.message, "%s", nco_last_error());
  return finish_run(st, &res, out, quiet, sweep);
}

static int cmd_train(int argc, char **argv) {
  args a;
  int rc = parse_args("train", "set out quiet", argc, argv, &a, 1);
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
  rc = run_spec(spec, out, a.quiet);
  nco_spec_free(spec);
  return rc;
}

static int cmd_resume(int argc, char **argv) {
  args a;
  int rc = parse_args("resume", "quiet", argc, argv, &a, 1);
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
  int st = sweep ? nco_sweep_resume(a.spec, &hooks, &res) : nco_run_resume(a.spec, &hooks, &res);
  if (st < 0 && !res.message[0]) snprintf(res.message, sizeof res.message, "%s", nco_last_error());
  return finish_run(st, &res, a.spec, a.quiet, sweep);
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
  }
  nco_sweep_free(pts, np);
  nco_spec_free(spec);
  return 0;
}

static int cmd_eval(int argc, char **argv) {
  args a;
  int rc = parse_args("eval", "set params aux", argc, argv, &a, 1);
  if (rc) return rc;
  if (a.help) return fputs(help_eval, stdout), 0;
  if (!a.spec) return usage_fail("eval", "missing SPEC");
  if (!a.params) return usage_fail("eval", "missing --params FILE.npy");
  nco_spec *spec;
  if ((rc = load_spec(a.spec, &a, &spec))) return rc;
  nco_config cfg;
  nco_spec_drop_section(spec, "sweep");
  if (nco_config_from_spec(spec, &cfg)) {
    nco_spec_free(spec);
    return spec_fail();
  }
  nco_spec_free(spec);
  nco_problem *pb = NULL;
  nco_array x = {0}, p = {0};
  float *theta = NULL, *g = NULL;
  int st;
  if ((st = nco_config_build_problem(&cfg, &pb))) return fail(st, "cannot build the problem");
  size_t dim = pb->dim, dx = nco_problem_root(pb)->dim;
  rc = 1;
  if ((st = nco_npy_read(a.params, &x)) || (st = nco_array_to_f32(&x))) {
    rc = fail(st, "cannot read --params");
    goto done;
  }
  if (x.size != dim && x.size != dx) {
    fprintf(stderr, "ncopt: %s: holds %zu values, the problem has %zu parameters%s\n", a.params, x.size, dx,
            dim != dx ? " (or all of x and p)" : "");
    goto done;
  }
  theta = calloc(dim, sizeof *theta), g = calloc(dim, sizeof *g);
  if (!theta || !g) {
    rc = fail(NCO_ERR_NOMEM, "out of memory");
    goto done;
  }
  memcpy(theta, x.data, x.size * sizeof(float));
  if (a.aux) {
    if ((st = nco_npy_read(a.aux, &p)) || (st = nco_array_to_f32(&p))) {
      rc = fail(st, "cannot read --aux");
      goto done;
    }
    if (x.size != dx || p.size != dim - dx) {
      fprintf(stderr, "ncopt: %s: holds %zu values, the lifting has %zu auxiliary parameters\n", a.aux, p.size, dim - dx);
      goto done;
    }
    memcpy(theta + dx, p.data, p.size * sizeof(float));
  }
  double loss, unreg;
  if ((st = nco_problem_eval(pb, theta, NULL, pb->n, &loss, g)) || (st = nco_problem_loss_unreg(pb, theta, NULL, pb->n, &unreg))) {
    rc = fail(st, "evaluation failed");
    goto done;
  }
  printf("problem    %s\nloss       %.17g\nloss_unreg %.17g\ngrad_norm  %.17g\n", pb->label, loss, unreg, nco_nrm2(dim, g));
  rc = 0;
done:
  free(theta), free(g);
  nco_array_free(&x), nco_array_free(&p);
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
  int rc = parse_args("reproduce", "set out quiet", argc, argv, &a, 1);
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
  rc = run_spec(spec, out, a.quiet);
  nco_spec_free(spec);
  return rc;
}

int main(int argc, char **argv) {
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
  if (!strcmp(c, "list")) return cmd_list(argc - 2, argv + 2);
  if (!strcmp(c, "reproduce")) return cmd_reproduce(argc - 2, argv + 2);
  fprintf(stderr, "ncopt: unknown command '%s' (see ncopt --help)\n", c);
  return 2;
}
