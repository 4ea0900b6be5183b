/* Looking at a spec without running it: ncopt show, list and eval. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#ifndef NCO_EXPERIMENTS_DIR
#define NCO_EXPERIMENTS_DIR "experiments"
#endif
#ifndef NCO_INSTALLED_EXPERIMENTS_DIR
#define NCO_INSTALLED_EXPERIMENTS_DIR "/usr/local/share/ncopt/experiments"
#endif

/* m's summary (node, op, output shape, parameters, as torchinfo's) as
 * comment lines after the spec, so that the output still reads back as
 * the same spec. */
static void print_summary(const nco_nn_model *m) {
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  if (!mem) return;
  int st = nco_nn_summary(m, mem);
  fclose(mem);
  if (!st) {
    printf("\n");
    for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
      nl = strchr(line, '\n');
      printf("; %.*s\n", nl ? (int)(nl - line) : (int)strlen(line), line);
    }
  }
  free(text);
}

/* The network a spec trains: a [network] graph from its lines alone; the
 * other network types (mlp, lenet, resnet, vgg, unet) built as `ncopt
 * train` builds them, from the data (their shapes and classes size the
 * network), so the table is the trained one. A spec whose data cannot be
 * read says why in a comment line. */
static void show_network(const nco_config *cfg) {
  nco_nn_model *m = NULL;
  if (cfg->nnet) {
    if (!nco_config_network(cfg, 0, NULL, &m)) print_summary(m);
    nco_nn_model_free(m);
    return;
  }
  nco_problem *pb = NULL;
  if (nco_config_build_problem(cfg, &pb)) {
    printf("\n; (no network summary: %s)\n", nco_last_error());
    return;
  }
  const nco_nn_model *bm = nco_nn_problem_model(pb);
  if (bm) print_summary(bm);
  nco_problem_free(pb);
}

int cmd_show(int argc, char **argv) {
  cli_args a;
  int rc;
  if (cli_start("show", "set", "missing SPEC", argc, argv, &a, &rc)) return rc;
  nco_spec *spec;
  if ((rc = cli_load_spec(a.spec, &a, &spec))) return rc;
  nco_sweep_point *pts = NULL;
  size_t np = 0;
  int sweep = cli_has_sweep(spec);
  if (nco_sweep_expand(spec, &pts, &np)) {
    nco_spec_free(spec);
    return cli_spec_fail();
  }
  for (size_t i = 0; i < np; i++) {
    if (sweep) printf("%s# sweep point %zu/%zu: %s\n", i ? "\n" : "", i + 1, np, pts[i].name);
    nco_config_write(&pts[i].cfg, stdout);
    if (nco_config_is_network(&pts[i].cfg)) show_network(&pts[i].cfg);
  }
  nco_sweep_free(pts, np);
  nco_spec_free(spec);
  return 0;
}

/* The built-in experiments: $NCOPT_EXPERIMENTS, else the source tree's
 * experiments/ this binary was built from (a build never picks up an older
 * installed copy), else the installed ones. */
const char *cli_experiments_dir(void) {
  const char *env = getenv("NCOPT_EXPERIMENTS");
  struct stat sb;
  if (env && *env) return env;
  if (!stat(NCO_EXPERIMENTS_DIR, &sb) && S_ISDIR(sb.st_mode)) return NCO_EXPERIMENTS_DIR;
  return NCO_INSTALLED_EXPERIMENTS_DIR;
}

static int list_experiments(FILE *fp) {
  FILE *idx;
  char path[4300];
  snprintf(path, sizeof path, "%s/INDEX", cli_experiments_dir());
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

int cmd_list(int argc, char **argv) {
  if (argc > 0 && cli_is_help(argv[0])) return cli_help("list");
  if (argc > 1) return cli_usage_fail("list", "takes at most one topic");
  if (argc == 1 && !strcmp(argv[0], "experiments")) return list_experiments(stdout);
  /* `ncopt list keys` (not advertised) prints the key table as Markdown:
   * the reference part of docs/SPEC.md */
  if (nco_config_list(argc ? argv[0] : NULL, stdout)) return cli_fail(NCO_ERR_INVALID, "list failed"), 2;
  if (!argc) {
    printf("experiments:\n");
    return list_experiments(stdout);
  }
  return 0;
}

/* Networks: accuracy on the training samples, and loss and accuracy on the
 * held-out set where the data have one (dropout off). Exit status. */
static int eval_network(const nco_config *cfg, nco_problem *pb, const float *theta) {
  nco_nn_metrics m;
  int st = nco_nn_evaluate(pb, theta, NULL, pb->n, &m);
  if (st) return cli_fail(st, "evaluation failed");
  if (isfinite(m.accuracy)) printf("accuracy   %.6g (%zu training samples)\n", m.accuracy, m.n);
  nco_problem *train = NULL, *test = NULL;
  int se = 0;
  if ((st = nco_config_build_problems(cfg, 1, &train, &test, &se)))
    return se ? cli_spec_fail() : cli_fail(st, "cannot build the test set");
  if (test && !(st = nco_nn_evaluate(test, theta, NULL, test->n, &m))) {
    printf("test_loss  %.17g (mean over %zu held-out samples)\n", m.loss_mean, m.n);
    if (isfinite(m.accuracy)) printf("test_acc   %.6g\n", m.accuracy);
  }
  nco_problem_free(train), nco_problem_free(test);
  return st ? cli_fail(st, "evaluation of the test set failed") : 0;
}

int cmd_eval(int argc, char **argv) {
  cli_args a;
  int rc;
  if (cli_start("eval", "set params aux", "missing SPEC", argc, argv, &a, &rc)) return rc;
  if (!a.params) return cli_usage_fail("eval", "missing --params FILE.npy");
  nco_config cfg;
  if ((rc = cli_load_config(&a, &cfg))) return rc;
  nco_problem *pb;
  float *theta, *g = NULL;
  if ((rc = cli_load_point(&a, &cfg, &pb, &theta))) return rc;
  size_t dim = pb->dim;
  int st;
  rc = 1;
  if (!(g = calloc(dim, sizeof *g))) {
    rc = cli_fail(NCO_ERR_NOMEM, "out of memory");
    goto done;
  }
  double loss, unreg;
  if ((st = nco_problem_eval(pb, theta, NULL, pb->n, &loss, g)) ||
      (st = nco_problem_loss_unreg(pb, theta, NULL, pb->n, &unreg))) {
    rc = cli_fail(st, "evaluation failed");
    goto done;
  }
  printf("problem    %s\nloss       %.17g\nloss_unreg %.17g\ngrad_norm  %.17g\n", pb->label, loss, unreg,
         nco_nrm2(dim, g));
  if (nco_nn_is_nn(pb) && (rc = eval_network(&cfg, pb, theta))) goto done;
  rc = 0;
done:
  free(theta), free(g);
  nco_problem_free(pb);
  return rc;
}

