/* Looking at a point of a spec's problem: ncopt probe hessian (the
 * Hessian's extreme eigenvalues, the point's kind, the spectral density)
 * and ncopt certify (Oymak & Soltanolkotabi's assumptions at θ₀). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* --k and --grad-tol into co; 0 or the exit status of a usage error. */
static int probe_options(const cli_args *a, nco_classify_opts *co) {
  if (a->k) {
    long k = cli_opt_int(a->k);
    if (k < 1 || k > NCO_DIAG_MAXK) {
      char m[120];
      snprintf(m, sizeof m, "--k must be an integer in [1, %d]", NCO_DIAG_MAXK);
      return cli_usage_fail("probe", m);
    }
    co->k = (size_t)k;
  }
  if (a->grad_tol) {
    co->grad_tol = cli_opt_num(a->grad_tol);
    if (!(co->grad_tol >= 0)) return cli_usage_fail("probe", "--grad-tol must be a number ≥ 0");
  }
  return 0;
}

static void print_classification(const nco_problem *pb, const nco_classification *c, const nco_classify_opts *co) {
  printf("problem     %s\n", pb->label);
  printf("loss        %.17g\ngrad_norm   %.17g%s\n", c->loss, c->grad_norm,
         pb->manifold == NCO_MANIFOLD_SPHERE ? " (Riemannian)" : "");
  printf("hessian     %s%s, %zu parameters\n", c->exact_hvp ? "exact Hessian-vector products" : "finite-difference products",
         pb->manifold == NCO_MANIFOLD_SPHERE ? ", Riemannian (Ma eq. 5.5)" : "", pb->dim);
  printf("lanczos     %zu iterations, %zu products, converged: %s, max residual %.3g\n", c->info.iterations,
         c->info.matvecs, c->info.converged ? "yes" : "no", c->info.max_residual);
  printf("largest    ");
  for (size_t i = 0; i < c->k; i++) printf(" %.9g", c->hi[i]);
  printf("\nsmallest   ");
  for (size_t i = 0; i < c->k; i++) printf(" %.9g", c->lo[i]);
  printf("\nthresholds  tau %.3g, beta %.3g, grad_tol %.3g\n", c->tau, c->beta, co->grad_tol);
  printf("curvature   %s\nkind        %s\n", nco_point_kind_name(c->curvature), nco_point_kind_name(c->kind));
}

static int write_density_csv(FILE *mem, const void *ctx) {
  const nco_slq_result *res = ctx;
  fprintf(mem, "eigenvalue,density\n");
  for (size_t i = 0; i < res->n_grid; i++) fprintf(mem, "%.17g,%.17g\n", res->grid[i], res->density[i]);
  return NCO_OK;
}

/* --density: the spectral density at theta, written into --out (default:
 * the folder of --params) as hessian_density.{png,svg,csv}. Exit status. */
static int probe_density(const cli_args *a, const nco_config *cfg, nco_problem *pb, const float *theta) {
  char dir[4096];
  if (a->out) {
    snprintf(dir, sizeof dir, "%s", a->out);
  } else {
    snprintf(dir, sizeof dir, "%s", a->params);
    char *sl = strrchr(dir, '/');
    if (sl) *sl = '\0';
    else snprintf(dir, sizeof dir, ".");
  }
  int st;
  if ((st = nco_mkdirs(dir))) return cli_fail(st, "cannot create the output folder");
  nco_slq_opts so = nco_slq_defaults();
  so.seed = cfg->lz_seed;
  nco_slq_result res;
  memset(&res, 0, sizeof res);
  if (isatty(2))
    fprintf(stderr, "probe: spectral density by stochastic Lanczos quadrature (%zu probes × %zu steps)...\n", so.n_probes,
            so.n_iter);
  if ((st = nco_hessian_density(pb, theta, NULL, pb->n, &so, &res))) {
    nco_slq_free(&res);
    return cli_fail(st, "spectral density failed");
  }
  char path[4300];
  snprintf(path, sizeof path, "%s/hessian_density.csv", dir);
  st = cli_write_atomic(path, write_density_csv, &res);
  char title[200];
  snprintf(title, sizeof title, "Hessian spectral density (SLQ, %zu probes × %zu steps)", res.n_probes, res.n_iter);
  snprintf(path, sizeof path, "%s/hessian_density", dir);
  if (!st) st = nco_plot_density(path, res.grid, res.density, res.n_grid, title);
  printf("density     %s.{png,svg,csv}: nodes in [%.6g, %.6g], σ = %.3g, %zu products\n", path, res.lam_min, res.lam_max,
         res.sigma, res.matvecs);
  nco_slq_free(&res);
  return st ? cli_fail(st, "cannot write the density") : 0;
}

/* The extreme eigenvalues and the kind of the point theta, printed (and
 * --density). Exit status. */
static int probe_point(const cli_args *a, const nco_config *cfg, nco_problem *pb, const float *theta,
                       nco_classify_opts *co) {
  co->lanczos = nco_config_lanczos(cfg);
  size_t cap = pb->manifold == NCO_MANIFOLD_SPHERE ? pb->dim - 1 : pb->dim;
  if (co->lanczos.max_iter > cap) co->lanczos.max_iter = cap;
  if (co->k > co->lanczos.max_iter) {
    fprintf(stderr, "ncopt: probe: --k %zu is more than the Lanczos iterations (%zu: lanczos.max_iter, capped at the "
                    "dimension)\n", co->k, co->lanczos.max_iter);
    return 2;
  }
  nco_classification c;
  if (isatty(2))
    fprintf(stderr, "probe: Lanczos on the Hessian of %s (%zu parameters, %zu samples): up to %zu iterations, one "
                    "Hessian-vector product each...\n", pb->label, pb->dim, pb->n, co->lanczos.max_iter);
  int st = nco_classify_point(pb, theta, NULL, pb->n, co, &c);
  if (st) return cli_fail(st, "classification failed");
  print_classification(pb, &c, co);
  return a->density ? probe_density(a, cfg, pb, theta) : 0;
}

/* ncopt probe hessian: the extreme eigenvalues and the classification
 * (nco_classify_point), and optionally the spectral density (nco_hessian_density). */
int cmd_probe(int argc, char **argv) {
  if (argc > 0 && cli_is_help(argv[0])) return cli_help("probe");
  if (argc == 0) return cli_usage_fail("probe", "missing what to probe (hessian)");
  if (strcmp(argv[0], "hessian")) {
    char m[300];
    snprintf(m, sizeof m, "unknown probe '%.200s' (hessian)", argv[0]);
    return cli_usage_fail("probe", m);
  }
  cli_args a;
  int rc;
  if (cli_start("probe", "set params aux k density grad-tol out", "missing SPEC", argc - 1, argv + 1, &a, &rc))
    return rc;
  if (!a.params) return cli_usage_fail("probe", "missing --params FILE.npy");
  nco_classify_opts co = nco_classify_defaults();
  if ((rc = probe_options(&a, &co))) return rc;
  nco_config cfg;
  if ((rc = cli_load_config(&a, &cfg))) return rc;
  nco_problem *pb;
  float *theta;
  if ((rc = cli_load_point(&a, &cfg, &pb, &theta))) return rc;
  rc = probe_point(&a, &cfg, pb, theta, &co);
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

/* certify's refusals before any work: a problem without residuals, a
 * --run folder without a trace. Exit status (0: go on). */
static int certify_applies(const cli_args *a, const nco_config *cfg) {
  if (!nco_config_is_least_squares(cfg)) {
    char where[1200];
    nco_config_where(cfg, "problem", "type", where, sizeof where);
    fprintf(stderr, "%s: problem.type: certify needs a least-squares problem ½‖f(θ) − y‖² (Oymak & Soltanolkotabi); %s has no "
                    "residuals\n", where, nco_config_is_network(cfg) ? "a network with loss = cross_entropy" : cfg->problem_type);
    return 2;
  }
  if (a->run) {
    char ck[4200];
    snprintf(ck, sizeof ck, "%s/trace.csv", a->run);
    if (access(ck, R_OK)) {
      fprintf(stderr, "ncopt: certify: %s: no trace.csv (a run folder of this spec is needed)\n", a->run);
      return 2;
    }
  }
  return 0;
}

/* The problem of cfg and its starting point θ₀: *theta0[dim]. Exit status. */
static int certify_start(const nco_config *cfg, nco_problem **pbo, float **theta0o) {
  nco_problem *pb = NULL;
  float *theta0 = NULL;
  int st, spec_error = 0, rc;
  *pbo = NULL, *theta0o = NULL;
  if ((st = nco_config_build_problems(cfg, 0, &pb, NULL, &spec_error)))
    return spec_error ? cli_spec_fail() : cli_fail(st, "cannot build the problem");
  if (!(theta0 = calloc(pb->dim, sizeof *theta0))) {
    rc = cli_fail(NCO_ERR_NOMEM, "out of memory");
  } else if ((st = nco_config_initial_point(cfg, pb, theta0, &spec_error))) {
    rc = spec_error ? cli_spec_fail() : cli_fail(st, "cannot set the starting point");
  } else {
    *pbo = pb, *theta0o = theta0;
    return 0;
  }
  free(theta0);
  nco_problem_free(pb);
  return rc;
}

/* --run DIR: the run's observed rate, radius and path length (and the
 * smallest pl_ratio) into c, after checking that DIR starts at θ₀. Exit
 * status. */
static int certify_compare_run(const cli_args *a, const nco_problem *pb, const float *theta0, nco_certificate *c) {
  char ck[4200];
  snprintf(ck, sizeof ck, "%s/trace.csv", a->run);
  double th0 = nco_nrm2(pb->dim, theta0), th_run = summary_number(a->run, "theta0_norm");
  if (isfinite(th_run) && fabs(th_run - th0) > 1e-6 * fmax(1, th0)) {
    fprintf(stderr, "ncopt: certify: %s does not start where %s does (‖θ₀‖ = %.9g vs %.9g): not a run of this spec\n",
            a->run, a->spec, th_run, th0);
    return 1;
  }
  trace_cols tc;
  if (read_trace_cols(ck, &tc)) {
    fprintf(stderr, "ncopt: certify: %s: cannot read the trace: %s\n", ck, nco_last_error());
    return 1;
  }
  if (!tc.misfit)
    fprintf(stderr, "ncopt: certify: note: %s has no misfit column (probes.misfit): the rate and (2.4) are not compared\n",
            ck);
  if (tc.dist)
    for (size_t i = 0; i < tc.n; i++) tc.dist[i] *= th0; /* absolute ‖θ_τ − θ₀‖ */
  double plmin = NAN;
  for (size_t i = 0; tc.pl && i < tc.n; i++)
    if (isfinite(tc.pl[i]) && !(tc.pl[i] >= plmin)) plmin = tc.pl[i];
  nco_cert_observed obs = {tc.misfit ? tc.n : 0, tc.iter, tc.misfit, tc.dist, summary_number(a->run, "path_length"), plmin};
  int st = nco_certificate_compare(c, &obs);
  trace_cols_free(&tc);
  return st ? cli_fail(st, "compare failed") : 0;
}

static int write_certificate_json(FILE *mem, const void *ctx) { return nco_certificate_write_json(ctx, mem); }

/* The report on stdout; the JSON report into --json FILE, else (with --run
 * DIR) DIR/certificate.json and DIR's plots redrawn. Exit status. */
static int certify_report(const cli_args *a, const nco_certificate *c) {
  int st;
  if ((st = nco_certificate_write_text(c, stdout))) return cli_fail(st, "cannot write the report");
  if (!a->json && !a->run) return 0;
  char path[4300];
  if (a->json) snprintf(path, sizeof path, "%s", a->json);
  else snprintf(path, sizeof path, "%s/certificate.json", a->run);
  if ((st = cli_write_atomic(path, write_certificate_json, c))) return cli_fail(st, "cannot write the JSON report");
  /* the misfit–distance plot with the bounds */
  if (a->run && !a->json && (st = nco_plot_run(a->run))) return cli_fail(st, "cannot redraw the plots");
  return 0;
}

int cmd_certify(int argc, char **argv) {
  cli_args a;
  int rc;
  if (cli_start("certify", "set run json", "missing SPEC", argc, argv, &a, &rc)) return rc;
  nco_config cfg;
  if ((rc = cli_load_config(&a, &cfg)) || (rc = certify_applies(&a, &cfg))) return rc;
  nco_problem *pb;
  float *theta0;
  if ((rc = certify_start(&cfg, &pb, &theta0))) return rc;
  nco_cert_opts co = nco_cert_defaults();
  co.lr = cfg.hp.lr;
  co.lanczos = nco_config_lanczos(&cfg);
  co.lanczos.tol = fmin(co.lanczos.tol, 1e-6);
  if (isatty(2))
    fprintf(stderr, "certify: σ_min and σ_max of the Jacobian (Golub–Kahan–Lanczos) at θ₀ and %zu points × %zu rounds of "
                    "the ball, and the Jacobian's Lipschitz constant from %zu pairs...\n",
            co.n_points, co.rounds, co.n_pairs);
  nco_certificate c;
  int st = nco_certify(pb, theta0, NULL, pb->n, &co, &c);
  if (st) rc = cli_fail(st, "certify failed");
  else if (!a.run || !(rc = certify_compare_run(&a, pb, theta0, &c))) rc = certify_report(&a, &c);
  free(theta0);
  nco_problem_free(pb);
  return rc;
}
