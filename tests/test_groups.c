/* tests/test_groups.c — parameter groups ([group.NAME], src/run/groups.c)
 * through the library: a run's rounds against the same rounds written out
 * here on the whole problem (the reference: plain loops over
 * nco_problem_eval, slicing by hand, no block problems, no optimiser
 * objects):
 *   - two SGD groups with their own lr, Gauss–Seidel order (the second
 *     group's gradient is taken after the first group moved), on the
 *     invex-lifted GLM (x and p: Crane & Roosta eq. 2), full batch;
 *   - a group taking 3 steps per round, and frozen parameters (in no group);
 *   - a cosine schedule scales each group's own lr;
 *   - one group holding all of θ computes exactly the run without groups.
 * The shell test tests/test_groups.sh covers the spec syntax, errors,
 * resume and the regularity replay through the CLI. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/config.h"
#include "ncopt/npy.h"
#include "ncopt/run.h"
#include "ncopt/spec.h"
#include "testlib.h"

static const char *base = "[problem]\ntype = glm\n[data]\nn = 24\nd = 5\nseed = 3\n[regularizer]\ntype = invex\nlambda = 0.3\n"
                          "[optimizer]\ntype = sgd\nlr = 0.05\n[run]\niterations = 40\nseed = 7\nlog_every = 10\n";

static int config_of(const char *extra, nco_config *cfg) {
  char text[4096];
  snprintf(text, sizeof text, "%s%s", base, extra);
  nco_spec *s = NULL;
  int st = nco_spec_parse_string(text, "g.ini", ".", &s);
  if (!st) st = nco_config_from_spec(s, cfg);
  nco_spec_free(s);
  return st;
}

/* The run's θ_T (params.npy) for the spec base + extra. */
static float *run_params(const char *extra, const char *dir, size_t *dim) {
  nco_config cfg;
  if (config_of(extra, &cfg)) return NULL;
  nco_run_result res;
  if (nco_run_train(&cfg, nco_test_tmp_path(dir), NULL, &res) < 0) {
    fprintf(stderr, "run: %s\n", nco_last_error());
    return NULL;
  }
  /* the lifted problem's θ = (x, p): params.npy holds x, aux.npy p */
  char path[600];
  nco_array a = {0}, p = {0};
  snprintf(path, sizeof path, "%s/params.npy", nco_test_tmp_path(dir));
  if (nco_npy_read(path, &a)) return NULL;
  snprintf(path, sizeof path, "%s/aux.npy", nco_test_tmp_path(dir));
  if (nco_npy_read(path, &p)) return NULL;
  float *x = malloc((a.size + p.size) * sizeof *x);
  memcpy(x, a.data, a.size * sizeof *x);
  memcpy(x + a.size, p.data, p.size * sizeof *x);
  *dim = a.size + p.size;
  nco_array_free(&a), nco_array_free(&p);
  return x;
}

/* θ_0 and the problem of the base spec (the run's: same seeds). */
static nco_problem *problem_of(float **theta0) {
  nco_config cfg;
  nco_problem *pb = NULL;
  if (config_of("", &cfg) || nco_config_build_problem(&cfg, &pb)) return NULL;
  *theta0 = calloc(pb->dim, sizeof **theta0);
  if (nco_config_initial_point(&cfg, pb, *theta0, NULL)) return NULL;
  return pb;
}

/* θ[off..off+len) −= lr·(∇f(θ))[off..off+len), the whole gradient taken at the current θ */
static void gd_block(nco_problem *pb, float *theta, float *g, size_t off, size_t len, double lr) {
  double loss;
  REQUIRE_OK(nco_problem_eval(pb, theta, NULL, pb->n, &loss, g));
  /* SGD's update in float: x ← x − lr·g, lr rounded to float as the optimiser's step does */
  for (size_t j = off; j < off + len; j++) theta[j] = theta[j] - (float)lr * g[j];
}

static int same(size_t n, const float *a, const float *b) {
  for (size_t i = 0; i < n; i++)
    if (memcmp(&a[i], &b[i], sizeof *a)) {
      fprintf(stderr, "parameter %zu: %.9g vs %.9g\n", i, (double)a[i], (double)b[i]);
      return 0;
    }
  return 1;
}

static void test_gauss_seidel(void) {
  float *th = NULL;
  nco_problem *pb = problem_of(&th);
  REQUIRE(pb);
  const size_t D = pb->dim, d = 5;
  float *g = calloc(D, sizeof *g);
  /* two groups: x at lr 0.1, then p at lr 0.02 */
  for (int t = 0; t < 40; t++) gd_block(pb, th, g, 0, d, 0.1), gd_block(pb, th, g, d, D - d, 0.02);
  size_t n = 0;
  float *run = run_params("[group.x]\nparams = x\nlr = 0.1\n[group.p]\nparams = p\nlr = 0.02\n", "gs", &n);
  REQUIRE(run && n == D);
  CHECK(same(D, run, th));
  free(run), free(th), free(g);
  nco_problem_free(pb);
}

/* p in two groups' worth: the first 10 entries of p take 3 steps a round,
 * x is frozen (in no group), the rest of p 1 step. */
static void test_steps_and_frozen(void) {
  float *th = NULL, *th0;
  nco_problem *pb = problem_of(&th);
  REQUIRE(pb);
  const size_t D = pb->dim, d = 5;
  th0 = malloc(D * sizeof *th0);
  memcpy(th0, th, D * sizeof *th);
  float *g = calloc(D, sizeof *g);
  for (int t = 0; t < 40; t++) {
    for (int j = 0; j < 3; j++) gd_block(pb, th, g, d, 10, 0.05);
    gd_block(pb, th, g, d + 10, D - d - 10, 0.05);
  }
  size_t n = 0;
  char extra[300];
  snprintf(extra, sizeof extra, "[group.a]\nparams = %zu:%zu\nsteps = 3\n[group.b]\nparams = %zu:%zu\n", d, d + 10, d + 10, D);
  float *run = run_params(extra, "steps", &n);
  REQUIRE(run && n == D);
  CHECK(same(D, run, th));
  CHECK(same(d, run, th0)); /* frozen: θ_0 */
  free(run), free(th), free(th0), free(g);
  nco_problem_free(pb);
}

/* schedule = cosine with T = 40: lr_g(t) = lr_min + ½(c_g − lr_min)(1 + cos(πt/T)), c_g the group's lr */
static void test_schedule_per_group(void) {
  float *th = NULL;
  nco_problem *pb = problem_of(&th);
  REQUIRE(pb);
  const size_t D = pb->dim, d = 5;
  float *g = calloc(D, sizeof *g);
  nco_schedule sx = nco_schedule_defaults(NCO_SCHED_COSINE, 0.1), sp = nco_schedule_defaults(NCO_SCHED_COSINE, 0.02);
  sx.T = sp.T = 40;
  for (int t = 0; t < 40; t++) {
    /* the formula itself, against the library's schedule (so the loop below tests the run, not the schedule) */
    double want = 0.5 * 0.1 * (1 + cos(3.14159265358979323846 * t / 40.0));
    CHECKF(fabs(nco_schedule_lr(&sx, (uint64_t)t) - want) <= 1e-15, "cosine lr at %d", t);
    gd_block(pb, th, g, 0, d, nco_schedule_lr(&sx, (uint64_t)t));
    gd_block(pb, th, g, d, D - d, nco_schedule_lr(&sp, (uint64_t)t));
  }
  size_t n = 0;
  float *run = run_params("[schedule]\ntype = cosine\nT = 40\n[group.x]\nparams = x\nlr = 0.1\n[group.p]\nparams = p\nlr = 0.02\n",
                          "cos", &n);
  REQUIRE(run && n == D);
  CHECK(same(D, run, th));
  free(run), free(th), free(g);
  nco_problem_free(pb);
}

/* One group of all of θ with [optimizer]'s settings is the run without
 * groups: full batch and minibatch, momentum (optimiser state). */
static void test_one_group_is_the_run(void) {
  static const char *modes[] = {"", "[optimizer]\nbatch = 5\nmomentum = 0.9\n"};
  for (int k = 0; k < 2; k++) {
    char extra[300];
    size_t n1 = 0, n2 = 0;
    float *a = run_params(modes[k], k ? "plain1" : "plain0", &n1);
    snprintf(extra, sizeof extra, "%s[group.all]\nparams = all\n", modes[k]);
    float *b = run_params(extra, k ? "one1" : "one0", &n2);
    REQUIRE(a && b && n1 == n2);
    CHECKF(same(n1, a, b), "%s", k ? "minibatch with momentum" : "full batch");
    free(a), free(b);
  }
}

int main(void) {
  RUN(test_gauss_seidel);
  RUN(test_steps_and_frozen);
  RUN(test_schedule_per_group);
  RUN(test_one_group_is_the_run);
  return nco_test_summary();
}
