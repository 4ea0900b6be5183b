/* bench/bench_hessian.c — 20 Lanczos iterations for the top Hessian
 * eigenvalue of an MLP (issue 6, "Cost"), the ncopt side of
 * bench/run_hessian.sh.
 *
 *   bench_hessian [ITERS] [REPS] [THETA.npy]
 *
 * Model: MLP 784-256-256-10, ReLU, cross-entropy (MEAN, as PyTorch's
 * nn.CrossEntropyLoss), PyTorch's default initialisation drawn from seed 1,
 * on the first 1 000 Fashion-MNIST training images scaled to [0, 1]. The
 * Hessian is the full-batch Hessian of those 1 000 samples; each
 * Hessian-vector product is the network engine's exact fused HVP
 * (Pearlmutter's R-op: forward, tangent, backward and R-backward passes).
 * Lanczos: nco_hessian_extremes with max_iter = ITERS (default 20), full
 * reorthogonalisation, tol tiny so that all ITERS iterations run, k = 1,
 * start vector (1, …, 1) as on the PyTorch side: both build the same
 * Krylov space, so their λ_max agree to float rounding (a check of the
 * HVPs) even before Lanczos has converged.
 *
 * Timing: CLOCK_MONOTONIC around the whole call (all HVPs, the
 * reorthogonalisation and the tridiagonal eigen-solves), best of REPS
 * (default 3) after one untimed warm-up; also the time of one HVP alone.
 * θ is written to THETA.npy (float32, PyTorch's parameter order) so that
 * the PyTorch side computes the same Hessian; both print λ_max.
 * Threads: OPENBLAS_NUM_THREADS / OMP_NUM_THREADS from the environment
 * (run_hessian.sh sets 2, as torch.set_num_threads(2)).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "ncopt/data.h"
#include "ncopt/diag.h"
#include "ncopt/ncopt.h"
#include "ncopt/nn.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void die(const char *what, int st) {
  fprintf(stderr, "bench_hessian: %s: %s: %s\n", what, nco_status_name(st), nco_last_error());
  exit(1);
}

#define TRY(what, expr)      \
  do {                       \
    int st_ = (expr);        \
    if (st_) die(what, st_); \
  } while (0)

int main(int argc, char **argv) {
  int iters = argc > 1 ? atoi(argv[1]) : 20, reps = argc > 2 ? atoi(argv[2]) : 3;
  const char *theta_path = argc > 3 ? argv[3] : NULL;
  if (iters < 1 || reps < 1) {
    fprintf(stderr, "usage: bench_hessian [ITERS ≥ 1] [REPS ≥ 1] [THETA.npy]\n");
    return 2;
  }
  const size_t nsamp = 1000;
  nco_array x = {0}, y = {0};
  TRY("load Fashion-MNIST", nco_data_load_named("fashion-mnist", "train", &x, &y));
  TRY("scale", nco_data_scale_u8(&x));
  size_t w[2] = {256, 256};
  nco_act relu = nco_act_make(NCO_ACT_RELU);
  nco_nn_model *m = NULL;
  TRY("mlp", nco_nn_mlp(784, w, 2, 10, &relu, &m));
  nco_nn_opts o = nco_nn_defaults(NCO_NN_LOSS_CROSS_ENTROPY);
  o.max_batch = nsamp;
  o.borrow = 1;
  nco_problem *pb = NULL;
  TRY("problem", nco_nn_problem_create(m, &x, &y, &o, &pb));
  size_t d = pb->dim;
  float *th = calloc(d, sizeof *th), *v = calloc(d, sizeof *v), *hv = calloc(d, sizeof *hv);
  size_t *idx = calloc(nsamp, sizeof *idx);
  if (!th || !v || !hv || !idx) die("alloc", NCO_ERR_NOMEM);
  for (size_t i = 0; i < nsamp; i++) idx[i] = i;
  nco_rng rng;
  nco_rng_seed(&rng, 1);
  TRY("init", nco_nn_init(m, NCO_NN_INIT_TORCH, 0, &rng, th));
  if (theta_path) TRY("write θ", nco_npy_write_f32(theta_path, th, 1, &d));
  if (!nco_problem_has_exact_hvp(pb)) die("HVP", NCO_ERR_UNSUPPORTED);

  /* one HVP alone */
  nco_rng_normal_fill(&rng, v, d, 0, 1);
  TRY("hvp", nco_problem_hvp(pb, th, idx, nsamp, v, hv));
  double t_hvp = 1e30;
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    TRY("hvp", nco_problem_hvp(pb, th, idx, nsamp, v, hv));
    double dt = now() - t0;
    if (dt < t_hvp) t_hvp = dt;
  }

  /* start vector of ones (both sides): the same Krylov space, so after
   * ITERS iterations both report the same Ritz value up to float rounding
   * — a cross-check of the HVPs, not only of the timing */
  for (size_t j = 0; j < d; j++) v[j] = 1;
  nco_lanczos_opts lz = nco_lanczos_defaults();
  lz.start = v;
  lz.max_iter = (size_t)iters;
  lz.tol = 1e-300; /* never converged early: exactly ITERS iterations */
  double best = 1e30, lam = 0;
  nco_lanczos_info info = {0};
  for (int r = 0; r <= reps; r++) { /* r = 0: warm-up */
    double t0 = now();
    TRY("lanczos", nco_hessian_extremes(pb, th, idx, nsamp, &lz, 1, &lam, NULL, &info));
    double dt = now() - t0;
    if (r > 0 && dt < best) best = dt;
  }
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  printf("impl=ncopt iters=%zu seconds=%.4f hvp_seconds=%.4f lambda_max=%.8g matvecs=%zu residual=%.3g d=%zu n=%zu "
         "peak_rss_mb=%.1f\n",
         info.iterations, best, t_hvp, lam, info.matvecs, info.max_residual, d, nsamp, (double)u.ru_maxrss / 1024.0);
  free(th), free(v), free(hv), free(idx);
  nco_problem_free(pb);
  nco_nn_model_free(m);
  nco_array_free(&x), nco_array_free(&y);
  return 0;
}
