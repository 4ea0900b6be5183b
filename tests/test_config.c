/* Spec resolution (config.h): the key table's ranges against the methods'
 * own validation, torch's names and aliases, lenient type changes, the
 * schedule's horizon and unit against torch's CosineAnnealingLR closed
 * form, run.init = zeros, and the resolved spec's numbers reading back to
 * the same doubles. */
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/config.h"
#include "ncopt/problem.h"
#include "ncopt/run.h"
#include "ncopt/status.h"
#include "ncopt/sweep.h"
#include "run/config_int.h"
#include "run/problems.h"
#include "testlib.h"

#define PI 3.14159265358979323846

static int parse(const char *text, nco_spec **s) { return nco_spec_parse_string(text, "t.ini", ".", s); }

static int resolve_text(const char *text, nco_config *cfg, unsigned flags) {
  nco_spec *s = NULL;
  int st = parse(text, &s);
  if (!st) st = nco_config_from_spec_flags(s, cfg, flags);
  nco_spec_free(s);
  return st;
}

/* config → INI text → config */
static char *write_text(const nco_config *cfg) {
  char *text = NULL;
  size_t n = 0;
  FILE *fp = open_memstream(&text, &n);
  if (!fp) return NULL;
  int st = nco_config_write(cfg, fp);
  fclose(fp);
  if (st) free(text), text = NULL;
  return text;
}

/* Every name in an applicability list of the key table is a registered
 * problem (problems.c), optimizer or schedule; the table fits
 * nco_config.key_line; every [optimizer] hyper-parameter row is generated
 * from the optimizer's table (one declaration of its range). */
static void test_tables_agree(void) {
  CHECK(cfg_nkeys_total <= NCO_CONFIG_MAX_KEYS);
  size_t np, nopt, nhp = 0;
  const nco_prob_info *pr = nco_prob_table(&np);
  CHECK(nco_optim_param_table(&nopt) != NULL);
  for (size_t i = 0; i < np; i++) {
    CHECK(nco_prob_find(pr[i].name) == &pr[i]);
    CHECK((pr[i].kind == NCO_PROB_ZOO) == (pr[i].build != NULL));
    CHECK(pr[i].help && strchr(pr[i].help, ' '));
  }
  for (size_t i = 0; i < NKEYS; i++) {
    const key *k = &keys[i];
    if (k->base == IN_HP && k->type != T_ALIAS) {
      const nco_optim_param *p = nco_optim_param_find(k->name);
      CHECK(p && p->offset == k->off && p->lo == k->lo && p->hi == k->hi && p->open == k->open);
      nhp++;
    }
    for (const char *w = k->applies; w && *w;) {
      size_t L = strcspn(w, " ");
      char name[64];
      snprintf(name, sizeof name, "%.*s", (int)L, w);
      nco_schedule_kind sk;
      int known = !strcmp(k->section, "optimizer") ? nco_optim_find(name) != NULL
                  : !strcmp(k->section, "schedule") ? !nco_schedule_parse(name, &sk)
                                                    : nco_prob_find(name) != NULL;
      if (!known) fprintf(stderr, "  %s.%s applies to unknown '%s'\n", k->section, k->name, name);
      CHECK(known);
      w += L + (w[L] == ' ');
    }
  }
  CHECK(nhp == nopt);
}

/* The probe registry (NCO_PROBE_TABLE): every probe declared once, with
 * its needs, columns, cost, applicability and help. */
static void test_probe_registry(void) {
  for (int p = 0; p < NCO_PROBE_COUNT; p++) {
    const nco_probe_info *in = nco_probe_info_get(p);
    CHECK(in && in->id == (nco_probe_id)p && !strcmp(in->name, nco_probe_name(p)));
    CHECK(nco_probe_find(in->name) == p);
    CHECK(in->cost[0] && in->applies[0] && in->help[0] && in->columns);
    char needs[400];
    nco_probe_needs_text(p, needs, sizeof needs);
    CHECK(!in->needs == !needs[0]);
  }
  CHECK(nco_probe_info_get(NCO_PROBE_COUNT) == NULL && nco_probe_find("nope") == -1);
  CHECK(nco_probe_unmet(NCO_PROBE_rsi, NCO_PROBE_NEEDS_LOSS | NCO_PROBE_NEEDS_GRAD) == NCO_PROBE_NEEDS_X_STAR);
  CHECK(nco_probe_unmet(NCO_PROBE_jac_smin, 0) == NCO_PROBE_NEEDS_JACOBIAN);
  CHECK(nco_probe_unmet(NCO_PROBE_dist_init, 0) == 0);
  CHECK(!nco_probe_info_get(NCO_PROBE_regularity)->columns[0]);
  CHECK(strstr(nco_probe_info_get(NCO_PROBE_hess_max)->cost, "lanczos.iter"));
  CHECK(strstr(nco_probe_need_text(NCO_PROBE_NEEDS_X_STAR), "run.x_star"));
  /* the run refuses a probe whose needs it lacks, also for a config made
   * in C (the spec check finds these first, at the key's line) */
  nco_config cfg;
  REQUIRE_OK(resolve_text("[problem]\ntype = linear_ls\n[run]\niterations = 1\n", &cfg, 0));
  cfg.probe_every[NCO_PROBE_rsi] = NCO_PROBE_AT_LOG;
  nco_run_result res;
  CHECK_ERR(nco_run_check(&cfg, &res), NCO_ERR_INVALID, "probes.rsi: needs a known minimiser");
}

/* The table's range of every numeric optimizer key is the method's own:
 * a value passes nco_config_from_spec iff nco_optim_create accepts it. */
static void test_ranges_agree(void) {
  static const struct { const char *type, *key; size_t off; } k[] = {
      {"sgd", "lr", offsetof(nco_optim_params, lr)},
      {"sgd", "weight_decay", offsetof(nco_optim_params, weight_decay)},
      {"sgd", "momentum", offsetof(nco_optim_params, momentum)},
      {"sgd", "dampening", offsetof(nco_optim_params, dampening)},
      {"rmsprop", "alpha", offsetof(nco_optim_params, alpha)},
      {"rmsprop", "eps", offsetof(nco_optim_params, eps)},
      {"adam", "eps", offsetof(nco_optim_params, eps)},
      {"adagrad", "lr_decay", offsetof(nco_optim_params, lr_decay)},
      {"adagrad", "initial_accumulator_value", offsetof(nco_optim_params, initial_accumulator_value)},
      {"psgd", "radius", offsetof(nco_optim_params, radius)},
      {"sgld", "inv_temp", offsetof(nco_optim_params, inv_temp)},
      {"accelegrad", "diameter", offsetof(nco_optim_params, diameter)},
      {"accelegrad", "G", offsetof(nco_optim_params, G)},
      {"lbfgs", "lr", offsetof(nco_optim_params, lr)},
  };
  static const char *const vals[] = {"-1", "0", "1e-300", "0.5", "0.999999", "1", "2", "inf"};
  for (size_t i = 0; i < sizeof k / sizeof *k; i++)
    for (size_t j = 0; j < sizeof vals / sizeof *vals; j++) {
      char text[256];
      snprintf(text, sizeof text, "[problem]\ntype = linear_ls\n[optimizer]\ntype = %s\n%s = %s\n[run]\niterations = 1\n",
               k[i].type, k[i].key, vals[j]);
      nco_config cfg;
      int spec_ok = resolve_text(text, &cfg, 0) == NCO_OK;
      const nco_optim_type *t = nco_optim_find(k[i].type);
      nco_optim_params hp = nco_optim_defaults(t);
      *(double *)((char *)&hp + k[i].off) = strtod(vals[j], NULL);
      float x0 = 1;
      nco_optim *o = NULL;
      int method_ok = nco_optim_create(t, 1, &hp, &x0, &o) == NCO_OK;
      nco_optim_free(o);
      CHECKF(spec_ok == method_ok, "%s.%s = %s: spec %s, method %s", k[i].type, k[i].key, vals[j], spec_ok ? "ok" : "refuses",
             method_ok ? "ok" : "refuses");
    }
  /* one message for lr = 0 and lr = -1 */
  nco_config cfg;
  CHECK(resolve_text("[optimizer]\nlr = 0\n[run]\niterations = 1\n", &cfg, 0) == NCO_ERR_RANGE);
  CHECK(strstr(nco_last_error(), "t.ini:2: optimizer.lr = 0: must be in (0, inf)") != NULL);
  CHECK(resolve_text("[optimizer]\nlr = -1\n[run]\niterations = 1\n", &cfg, 0) == NCO_ERR_RANGE);
  CHECK(strstr(nco_last_error(), "t.ini:2: optimizer.lr = -1: must be in (0, inf)") != NULL);
}

static void test_torch_names(void) {
  nco_config cfg;
  REQUIRE_OK(resolve_text("[optimizer]\ntype = adam\nbetas = (0.8, 0.99)\namsgrad = True\nweight_decay = 0.01\n"
                          "eps = 1e-6\nmaximize = False\nforeach = None\nfused = False\ncapturable = False\n"
                          "differentiable = False\nbatch_size = 4\n[run]\niterations = 1\n",
                          &cfg, 0));
  CHECK(cfg.hp.beta1 == 0.8 && cfg.hp.beta2 == 0.99 && cfg.hp.amsgrad == 1 && cfg.hp.weight_decay == 0.01);
  CHECK(cfg.hp.eps == 1e-6 && cfg.hp.maximize == 0 && cfg.batch == 4);
  char *text = write_text(&cfg);
  REQUIRE(text);
  CHECK(strstr(text, "\nbetas = 0.8, 0.99\n") && strstr(text, "\nbatch = 4\n"));
  CHECK(!strstr(text, "beta1") && !strstr(text, "beta2") && !strstr(text, "batch_size") && !strstr(text, "fused"));
  free(text);
  /* the aliases set one component each */
  REQUIRE_OK(resolve_text("[optimizer]\ntype = adamw\nbeta2 = 0.95\n[run]\niterations = 1\n", &cfg, 0));
  CHECK(cfg.hp.beta1 == 0.9 && cfg.hp.beta2 == 0.95);
  REQUIRE_OK(resolve_text("[optimizer]\ntype = sgd\nmomentum = 0.9\nnesterov = True\ndampening = 0\n[run]\niterations = 1\n",
                          &cfg, 0));
  CHECK(cfg.hp.nesterov == 1 && cfg.hp.momentum == 0.9);
  REQUIRE_OK(resolve_text("[optimizer]\ntype = rmsprop\nalpha = 0.9\ncentered = True\nmomentum = 0.5\n[run]\niterations = 1\n",
                          &cfg, 0));
  CHECK(cfg.hp.centered == 1 && cfg.hp.alpha == 0.9);
  REQUIRE_OK(resolve_text("[optimizer]\ntype = adagrad\nlr_decay = 0.1\ninitial_accumulator_value = 0.5\n"
                          "[run]\niterations = 1\n",
                          &cfg, 0));
  CHECK(cfg.hp.lr_decay == 0.1 && cfg.hp.initial_accumulator_value == 0.5);
  REQUIRE_OK(resolve_text("[optimizer]\ntype = lbfgs\nline_search_fn = None\nhistory_size = 10\n[run]\niterations = 1\n", &cfg, 0));
  CHECK(cfg.hp.line_search_fn == NCO_LS_NONE && cfg.hp.history_size == 10);
  CHECK(resolve_text("[optimizer]\ntype = adam\nbetas = 0.9, 0.99\nbeta1 = 0.5\n[run]\niterations = 1\n", &cfg, 0) ==
        NCO_ERR_INVALID);
  CHECK(strstr(nco_last_error(), "t.ini:4: optimizer.beta1: set either betas or beta1, not both") != NULL);
}

/* --set optimizer.type=sgd on an adam spec */
static void test_lenient_types(void) {
  nco_spec *s = NULL;
  REQUIRE_OK(parse("[optimizer]\ntype = adam\nbetas = 0.9, 0.99\namsgrad = true\nweight_decay = 0.1\n", &s));
  REQUIRE_OK(nco_spec_set(s, "optimizer.type=sgd"));
  nco_config cfg;
  CHECK(nco_config_from_spec_flags(s, &cfg, NCO_CONFIG_NO_LENGTH) == NCO_ERR_INVALID);
  /* both errors at once, in file order */
  CHECK(strstr(nco_last_error(), "t.ini:3: optimizer.betas: does not apply here") &&
        strstr(nco_last_error(), "\nt.ini:4: optimizer.amsgrad: does not apply here"));
  CHECK(nco_config_from_spec_flags(s, &cfg, 0) == NCO_ERR_INVALID); /* and no length */
  CHECK(strstr(nco_last_error(), "missing: set run.iterations") != NULL);
  REQUIRE_OK(nco_config_from_spec_flags(s, &cfg, NCO_CONFIG_LENIENT_TYPES | NCO_CONFIG_NO_LENGTH));
  CHECK(!strcmp(cfg.ignored, "optimizer.betas, optimizer.amsgrad"));
  CHECK(cfg.optim == nco_optim_sgd && cfg.hp.weight_decay == 0.1);
  nco_spec_free(s);
}

/* torch.optim.lr_scheduler.CosineAnnealingLR(T_max = T, eta_min):
 * η_e = η_min + (η₀ − η_min)(1 + cos(π e/T))/2 at scheduler step e. */
static double torch_cosine(double c, double lr_min, double e, double T) { return lr_min + (c - lr_min) * (1 + cos(PI * e / T)) / 2; }

static void test_schedule_horizon(void) {
  nco_config cfg;
  REQUIRE_OK(resolve_text("[optimizer]\nlr = 0.1\n[schedule]\ntype = cosine\nlr_min = 0.01\n[run]\niterations = 50\n", &cfg, 0));
  CHECK(cfg.sched.T == 0); /* auto until the run knows its length */
  char *text = write_text(&cfg);
  REQUIRE(text);
  CHECK(strstr(text, "\nT = auto\n") && strstr(text, "\nunit = step\n"));
  free(text);
  REQUIRE_OK(nco_config_resolve_schedule(&cfg, 50, 7));
  CHECK(cfg.sched.T == 50);
  /* 1e-15: the closed form and the library evaluate the same formula in
   * double; only the rounding of the operations can differ */
  for (uint64_t k = 0; k < 50; k++) CHECK_CLOSE(nco_schedule_lr(&cfg.sched, k), torch_cosine(0.1, 0.01, (double)k, 50), 1e-15, 0);
  /* unit = epoch: 10 epochs of 7 steps (the last one short), k counts
   * completed epochs, T = ⌈64/7⌉ = 10 epochs */
  REQUIRE_OK(resolve_text("[optimizer]\nlr = 0.1\n[schedule]\ntype = cosine\nunit = epoch\n[run]\niterations = 64\n", &cfg, 0));
  REQUIRE_OK(nco_config_resolve_schedule(&cfg, 64, 7));
  CHECK(cfg.sched.T == 10);
  for (uint64_t k = 0; k < 64; k++) CHECK_CLOSE(nco_schedule_lr(&cfg.sched, k), torch_cosine(0.1, 0, (double)(k / 7), 10), 1e-15, 0);
  CHECK(nco_schedule_lr(&cfg.sched, 7) == nco_schedule_lr(&cfg.sched, 13)); /* constant within an epoch */
  /* an explicit T stays; step and warm-up count epochs */
  REQUIRE_OK(resolve_text("[optimizer]\nlr = 1\n[schedule]\ntype = step\nstep_size = 2\ngamma = 0.5\nwarmup = 1\nunit = epoch\n"
                          "[run]\nepochs = 6\n",
                          &cfg, 0));
  REQUIRE_OK(nco_config_resolve_schedule(&cfg, 30, 5));
  CHECK(nco_schedule_lr(&cfg.sched, 9) == 1 && nco_schedule_lr(&cfg.sched, 10) == 0.5 && nco_schedule_lr(&cfg.sched, 29) == 0.25);
}

static void test_init_zeros(void) {
  nco_config cfg;
  REQUIRE_OK(resolve_text("[data]\nn = 8\nd = 3\n[problem]\ntype = glm\n[regularizer]\ntype = invex\nlambda = 0.5\n"
                          "[run]\niterations = 1\ninit = zeros\n",
                          &cfg, 0));
  nco_problem *pb = NULL;
  REQUIRE_OK(nco_config_build_problem(&cfg, &pb));
  float *t = calloc(pb->dim, sizeof *t);
  REQUIRE(t);
  for (size_t i = 0; i < pb->dim; i++) t[i] = 1;
  CHECK_OK(nco_config_initial_point(&cfg, pb, t, NULL));
  int zero = 1;
  for (size_t i = 0; i < pb->dim; i++) zero &= t[i] == 0;
  CHECK(zero); /* (x, p) = (0, 0): Crane & Roosta, Theorem 1 */
  cfg.init[0] = '\0';
  snprintf(cfg.init, sizeof cfg.init, "default");
  CHECK_OK(nco_config_initial_point(&cfg, pb, t, NULL));
  zero = 1;
  for (size_t i = 0; i < nco_problem_root(pb)->dim; i++) zero &= t[i] == 0;
  CHECK(!zero); /* the problem's own random init */
  free(t);
  nco_problem_free(pb);
}

/* Every double key, and the pair, reads back bit for bit. */
static void test_numbers_round_trip(void) {
  nco_config a, b;
  REQUIRE_OK(resolve_text("[optimizer]\ntype = adam\nlr = 0.30000000000000004\nweight_decay = 1e-7\n"
                          "betas = 0.123456789012345678, 0.9990000000000001\neps = 2.2250738585072014e-308\n"
                          "[run]\niterations = 1\ncheckpoint_seconds = 30\nmax_seconds = 1e300\ntarget_loss = -0.1\n",
                          &a, 0));
  char *text = write_text(&a);
  REQUIRE(text);
  CHECK(strstr(text, "\ncheckpoint_seconds = 30\n") && strstr(text, "\nweight_decay = 1e-07\n"));
  nco_spec *s = NULL;
  CHECK_OK(parse(text, &s));
  if (s) CHECK_OK(nco_config_from_spec(s, &b));
  nco_spec_free(s);
  CHECK(!memcmp(&a.hp, &b.hp, sizeof a.hp));
  CHECK(a.checkpoint_seconds == b.checkpoint_seconds && a.max_seconds == b.max_seconds && a.target_loss == b.target_loss);
  free(text);
}

typedef struct seen { size_t calls, bad; char label[3][64]; } seen;

static int on_progress(void *ctx, const nco_progress *p) {
  seen *s = ctx;
  s->calls++;
  if (!p->label || p->npoints != 3 || p->point < 1 || p->point > 3) {
    s->bad++;
    return 0;
  }
  snprintf(s->label[p->point - 1], sizeof s->label[0], "%s", p->label);
  return 0;
}

/* The progress hook knows the point; the sweep ends with its table. */
static void test_sweep_table(void) {
  char dir[] = "/tmp/ncopt-config-XXXXXX";
  REQUIRE(mkdtemp(dir));
  nco_spec *s = NULL;
  REQUIRE_OK(parse("[data]\nn = 8\nd = 2\n[problem]\ntype = linear_ls\n[run]\niterations = 3\ncheckpoint_every = 0\n"
                   "[sweep]\noptimizer.lr = 0.1, , 0.01\n",
                   &s));
  nco_sweep_point *pts = NULL;
  size_t np = 0;
  REQUIRE_OK(nco_sweep_expand(s, &pts, &np));
  REQUIRE(np == 3);
  CHECK(!strcmp(pts[1].name, "lr=default") && pts[1].cfg.hp.lr == nco_optim_defaults(nco_optim_sgd).lr);
  seen sn = {0};
  nco_run_hooks hooks = {on_progress, &sn};
  char *text = NULL;
  size_t n = 0;
  FILE *fp = open_memstream(&text, &n);
  REQUIRE(fp);
  char out[64];
  snprintf(out, sizeof out, "%s/sw", dir);
  CHECK(nco_sweep_run_table(pts, np, 1, out, &hooks, NULL, fp) >= 0);
  fclose(fp);
  CHECK(sn.calls > 0 && sn.bad == 0);
  CHECK(!strcmp(sn.label[0], "lr=0.1") && !strcmp(sn.label[1], "lr=default") && !strcmp(sn.label[2], "lr=0.01"));
  /* a header and three rows, in point order */
  CHECK(text && !strncmp(text, "lr ", 3) && strstr(text, "\n0.1 ") && strstr(text, "\ndefault ") && strstr(text, "\n0.01 "));
  CHECK(text && strstr(text, "max_iter\n"));
  free(text);
  text = NULL;
  fp = open_memstream(&text, &n);
  REQUIRE(fp);
  CHECK_OK(nco_sweep_table(out, fp)); /* the same table from the folder */
  fclose(fp);
  CHECK(text && strstr(text, "\ndefault "));
  free(text);
  nco_sweep_free(pts, np);
  nco_spec_free(s);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
}

int main(void) {
  RUN(test_sweep_table);
  RUN(test_probe_registry);
  RUN(test_ranges_agree);
  RUN(test_tables_agree);
  RUN(test_torch_names);
  RUN(test_lenient_types);
  RUN(test_schedule_horizon);
  RUN(test_init_zeros);
  RUN(test_numbers_round_trip);
  return nco_test_summary();
}
