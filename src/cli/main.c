/* ncopt — command-line entry point. A thin layer over the library: it
 * parses arguments, calls libncopt and turns a status into one clear line
 * on stderr and an exit code:
 *   0 done · 1 runtime error · 2 usage or spec error · 3 non-finite loss
 *   130 interrupted by SIGINT · 143 by SIGTERM
 * This file holds the command table, the one place that names a command:
 * the dispatch, `ncopt --help` and `ncopt COMMAND --help` are read from it.
 * The commands themselves are in cmd_*.c (cli.h lists the files). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct {
  const char *name;
  const char *synopsis; /* its line in `ncopt --help` */
  const char *summary;  /* what it does, after the synopsis ("" for none) */
  const char *usage;    /* `ncopt NAME --help`: "usage: ncopt " USAGE, */
  const char *details;  /* a blank line and DETAILS */
  int (*run)(int argc, char **argv);
} command;

/* In the order of `ncopt --help`. */
static const command commands[] = {
    {"train", "train SPEC [--set k=v]... [--out DIR] [--force]", "run an experiment",
     "train SPEC [--set section.key=value]... [--out DIR] [--force] [--quiet]",
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
     "3 non-finite loss or gradient (the last good checkpoint is kept).\n",
     cmd_train},
    {"resume", "resume DIR [--set run.k=v]... [--quiet]", "continue (or extend) a run",
     "resume DIR [--set run.KEY=VALUE]... [--quiet]",
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
     "Exit status as for train.\n",
     cmd_resume},
    {"show", "show SPEC [--set k=v]...", "print the resolved spec",
     "show SPEC [--set section.key=value]...",
     "Prints the fully resolved spec: every key that applies, defaults filled.\n"
     "With a [sweep], prints every point. For a network (mlp, lenet, resnet,\n"
     "vgg, unet, [network]) the network follows as comment lines: node, op,\n"
     "output shape and parameters of each node, as `ncopt train` builds it\n"
     "(the data are read for their shapes).\n",
     cmd_show},
    {"eval", "eval SPEC --params FILE.npy [--aux FILE.npy]", "loss and gradient at a point",
     "eval SPEC --params FILE.npy [--aux FILE.npy] [--set k=v]...",
     "Prints the loss, the non-regularised loss and the gradient norm of the\n"
     "spec's problem (full batch) at the parameters in FILE.npy; for networks\n"
     "also the accuracy on the training samples and, where the data have a\n"
     "held-out set, its mean loss and accuracy. For the invex lifting, FILE.npy\n"
     "holds x (or x and p) and --aux the run's p (RUN/aux.npy); `--aux zeros`\n"
     "evaluates at p = 0. run.iterations/epochs are not needed.\n",
     cmd_eval},
    {"probe", "probe hessian SPEC --params FILE.npy [--k K] [--density]", "Hessian extremes, classification",
     "probe hessian SPEC --params FILE.npy [--aux FILE.npy] [--k K] [--density]\n"
     "                          [--grad-tol G] [--out DIR] [--set section.key=value]...",
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
     "Exit status: 0 done, 1 an error, 2 a usage or spec error.\n",
     cmd_probe},
    {"certify", "certify SPEC [--run DIR] [--json FILE]", "Oymak & Soltanolkotabi's assumptions",
     "certify SPEC [--run DIR] [--json FILE] [--set section.key=value]...",
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
     "error, 2 a usage or spec error.\n",
     cmd_certify},
    {"list", "list [problems|sources|optimizers|schedules|regularizers|probes|experiments]", "",
     "list [problems|sources|optimizers|schedules|regularizers|probes|experiments]",
     "Lists what a spec can name, one line each with its keys.\n",
     cmd_list},
    {"reproduce", "reproduce NAME [--out DIR] [--force]", "run a built-in experiment",
     "reproduce NAME [--out DIR] [--force] [--quiet] [--set k=v]...",
     "Runs a built-in experiment (its spec is shipped in experiments/NAME.ini;\n"
     "`ncopt list experiments`). Default DIR: runs/NAME; an earlier run there is\n"
     "replaced only with --force.\n",
     cmd_reproduce},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* The summary's column in `ncopt --help`; a longer synopsis puts the
 * summary on a line of its own. */
#define SUMMARY_COLUMN 52

static void print_usage(FILE *fp) {
  fputs("usage: ncopt <command> [args]     (ncopt <command> --help for details)\n\ncommands:\n", fp);
  for (size_t i = 0; i < NCOMMANDS; i++) {
    const command *c = &commands[i];
    int w = SUMMARY_COLUMN - 2;
    if (!*c->summary) fprintf(fp, "  %s\n", c->synopsis);
    else if (strlen(c->synopsis) + 2 <= (size_t)w) fprintf(fp, "  %-*s%s\n", w, c->synopsis, c->summary);
    else fprintf(fp, "  %s\n%*s%s\n", c->synopsis, SUMMARY_COLUMN, "", c->summary);
  }
  fputs("  --version, --help\n", fp);
}

static const command *find_command(const char *name) {
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (!strcmp(commands[i].name, name)) return &commands[i];
  return NULL;
}

int cli_help(const char *name) {
  const command *c = find_command(name);
  if (c) printf("usage: ncopt %s\n\n%s", c->usage, c->details);
  return 0;
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
    print_usage(stderr);
    return 2;
  }
  const char *name = argv[1];
  if (!strcmp(name, "--version") || !strcmp(name, "-V") || !strcmp(name, "version")) {
    printf("ncopt %s\n", NCO_VERSION_STRING);
    return 0;
  }
  if (cli_is_help(name) || !strcmp(name, "help")) {
    print_usage(stdout);
    return 0;
  }
  const command *c = find_command(name);
  if (c) return c->run(argc - 2, argv + 2);
  fprintf(stderr, "ncopt: unknown command '%s' (see ncopt --help)\n", name);
  return 2;
}
