/* src/cli/cli.h — what the files of the `ncopt` command share (private to
 * the command; it uses only the public headers include/ncopt/).
 *
 *   main.c        the command table (name, help, usage, handler), the
 *                 dispatch and --help derived from it
 *   args.c        argument parsing, spec/config/point loading, the one-line
 *                 error messages and their exit codes
 *   progress.c    SIGINT/SIGTERM handling and the progress line
 *   cmd_train.c   train, resume, reproduce (running a spec)
 *   cmd_show.c    show, list, eval
 *   cmd_probe.c   probe hessian, certify
 *
 * Exit codes: 0 done · 1 runtime error · 2 usage or spec error · 3
 * non-finite loss · 130 interrupted by SIGINT · 143 by SIGTERM */
#ifndef NCO_CLI_H
#define NCO_CLI_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include "ncopt/ncopt.h"

/* ---- main.c: the command table ---------------------------------------- */

/* `ncopt NAME --help`: "usage: ncopt USAGE", a blank line and the details
 * of NAME's row of the command table, on stdout. Returns 0. */
int cli_help(const char *name);

/* The handlers of the command table: argc/argv after the command's name;
 * each returns the exit status. */
int cmd_train(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_reproduce(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_certify(int argc, char **argv);

/* ---- args.c: arguments, loading, messages ------------------------------ */

typedef struct {
  const char *spec, *out, *params, *aux, *run, *json, *k, *grad_tol;
  const char *sets[64];
  int nsets, quiet, help, density, force;
} cli_args;

/* prefix + msg + newline on stderr, control bytes of msg (other than the
 * newlines between several spec errors) shown as \xNN */
void cli_put_msg(const char *prefix, const char *msg);
/* A runtime error: "ncopt: " + the library's last error (else fallback);
 * returns 3 for NCO_ERR_NONFINITE, else 1. */
int cli_fail(int st, const char *fallback);
/* A spec error: the library's "FILE:LINE: section.key: what" line; 2. */
int cli_spec_fail(void);
/* A usage error: one line, exit 2. */
int cli_usage_fail(const char *cmd, const char *what);

/* The start of a command: parses the options opts names (e.g. "set out
 * quiet force") and one positional argument (a->spec). Returns 1 when the
 * command ends here with exit status *rc: a usage error (reported), --help
 * (printed), or no positional argument ("ncopt: CMD: MISSING ..."); else 0. */
int cli_start(const char *cmd, const char *opts, const char *missing, int argc, char **argv, cli_args *a, int *rc);
/* 1 for --help or -h. */
int cli_is_help(const char *s);
/* An integer / a number option; -1 / NAN when malformed. */
long cli_opt_int(const char *s);
double cli_opt_num(const char *s);

/* The spec at path with a's --set overrides; 0 or an exit status. */
int cli_load_spec(const char *path, const cli_args *a, nco_spec **spec);
/* 1 if the spec has a [sweep] section. */
int cli_has_sweep(const nco_spec *s);
/* a->spec with its --set overrides (a [sweep] is ignored) → cfg, for the
 * commands that look at a point; 0 or an exit status. */
int cli_load_config(const cli_args *a, nco_config *cfg);
/* The problem of cfg and the point of --params (and --aux): *theta[dim];
 * 0 or an exit status. */
int cli_load_point(const cli_args *a, const nco_config *cfg, nco_problem **pb, float **theta);
/* The bytes that write(mem, ctx) prints, written to path atomically;
 * NCO_OK or an error status. */
int cli_write_atomic(const char *path, int (*write)(FILE *mem, const void *ctx), const void *ctx);

/* ---- progress.c: signals and the progress line ------------------------- */

/* The first SIGINT/SIGTERM received (0 before). */
extern volatile sig_atomic_t cli_got_signal;

typedef struct {
  int quiet, tty, drawn;
  double last;
} cli_progress;

/* Installs the SIGINT/SIGTERM handlers and returns a run's hooks: the
 * progress line on stderr (unless quiet), a stop request after a signal. */
nco_run_hooks cli_run_hooks(cli_progress *c, int quiet);

/* ---- cmd_show.c -------------------------------------------------------- */

/* The folder of the built-in experiments. */
const char *cli_experiments_dir(void);

#endif
