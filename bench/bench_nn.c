/* bench/bench_nn.c — training speed of the network engine (issue 5).
 *
 *   bench_nn mlp   [EPOCHS]   MLP 784-256-256-10, ReLU, cross-entropy, SGD
 *                             (momentum 0.9, lr 0.05), batch 128
 *   bench_nn lenet [EPOCHS]   LeNet-5, least squares on one-hot targets,
 *                             Adam (lr 1e-3), batch 100
 *   bench_nn dense            GFLOP/s of the MLP's dense layers, forward +
 *                             backward at batch 128, against cblas_sgemm
 *
 * Data: Fashion-MNIST's 60 000 training images (nco_data_load_named),
 * scaled to [0, 1], in memory before the clock starts; each epoch is one
 * seeded permutation in minibatches (the last one smaller), timed with
 * CLOCK_MONOTONIC from the first gradient to the last step. Prints one line
 * of key=value pairs per epoch and a summary line with the best epoch,
 * the test accuracy after training (a sanity check) and the peak RSS.
 * Threads: OPENBLAS_NUM_THREADS / OMP_NUM_THREADS from the environment
 * (run_nn.sh sets both to 2, as torch.set_num_threads(2)).
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "ncopt/ncopt.h"
#include "ncopt/data.h"
#include "ncopt/nn.h"
#include "ncopt/optim.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double peak_rss_mb(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)u.ru_maxrss / 1024.0;
}

static void die(const char *what, int st) {
  fprintf(stderr, "bench_nn: %s: %s: %s\n", what, nco_status_name(st), nco_last_error());
  exit(1);
}

#define TRY(what, expr)          \
  do {                           \
    int st_ = (expr);            \
    if (st_) die(what, st_);     \
  } while (0)

static void load(const char *split, nco_array *x, nco_array *y) {
  TRY("load Fashion-MNIST", nco_data_load_named("fashion-mnist", split, x, y));
  TRY("scale", nco_data_scale_u8(x));
}

static int train(const char *model_name, int epochs) {
  int lenet = !strcmp(model_name, "lenet");
  nco_array x = {0}, y = {0}, t = {0}, xt = {0}, yt = {0};
  load("train", &x, &y);
  load("test", &xt, &yt);
  nco_nn_model *m = NULL;
  nco_nn_opts o = nco_nn_defaults(lenet ? NCO_NN_LOSS_LEAST_SQUARES : NCO_NN_LOSS_CROSS_ENTROPY);
  size_t batch = lenet ? 100 : 128;
  if (lenet) {
    TRY("lenet", nco_nn_lenet5(1, 28, 28, 10, &m));
    TRY("one-hot", nco_data_one_hot(&y, 10, &t));
  } else {
    size_t w[2] = {256, 256};
    nco_act relu = nco_act_make(NCO_ACT_RELU);
    TRY("mlp", nco_nn_mlp(784, w, 2, 10, &relu, &m));
  }
  o.max_batch = batch;
  o.borrow = 1;
  nco_problem *pb = NULL, *tp = NULL;
  TRY("problem", nco_nn_problem_create(m, &x, lenet ? &t : &y, &o, &pb));
  o.max_batch = 500;
  TRY("test problem", nco_nn_problem_create(m, &xt, &yt, &o, &tp));
  size_t d = pb->dim, n = pb->n;
  float *x0 = calloc(d, sizeof *x0), *g = calloc(d, sizeof *g);
  size_t *perm = calloc(n, sizeof *perm);
  if (!x0 || !g || !perm) die("alloc", NCO_ERR_NOMEM);
  nco_rng rng;
  nco_rng_seed(&rng, 1);
  TRY("init", nco_problem_init(pb, &rng, x0));
  const nco_optim_type *ot = lenet ? nco_optim_adam : nco_optim_sgd;
  nco_optim_params hp = nco_optim_defaults(ot);
  if (lenet) {
    hp.lr = 1e-3;
  } else {
    hp.lr = 0.05, hp.momentum = 0.9;
  }
  nco_optim *opt = NULL;
  TRY("optimizer", nco_optim_create(ot, d, &hp, x0, &opt));
  double best = 1e30, last_loss = 0;
  for (int e = 0; e < epochs; e++) {
    nco_rng_permutation(&rng, perm, n);
    double t0 = now(), sum = 0;
    size_t steps = 0;
    for (size_t s = 0; s < n; s += batch) {
      size_t nb = n - s < batch ? n - s : batch;
      double loss;
      TRY("eval", nco_problem_eval(pb, nco_optim_query(opt), perm + s, nb, &loss, g));
      TRY("step", nco_optim_step(opt, g, loss));
      sum += loss, steps++;
    }
    double dt = now() - t0;
    last_loss = sum / (double)steps;
    if (dt < best) best = dt;
    printf("impl=ncopt model=%s epoch=%d train_seconds=%.3f steps=%zu mean_batch_loss=%.5f\n", model_name, e + 1,
           dt, steps, last_loss);
    fflush(stdout);
  }
  nco_nn_metrics met;
  TRY("evaluate", nco_nn_evaluate(tp, nco_optim_x(opt), NULL, tp->n, &met));
  printf("impl=ncopt model=%s summary best_epoch_seconds=%.3f test_acc=%.4f test_loss=%.5f peak_rss_mb=%.1f d=%zu\n",
         model_name, best, met.accuracy, met.loss_mean, peak_rss_mb(), d);
  nco_optim_free(opt);
  nco_problem_free(pb), nco_problem_free(tp);
  nco_nn_model_free(m);
  free(x0), free(g), free(perm);
  nco_array_free(&x), nco_array_free(&y), nco_array_free(&t), nco_array_free(&xt), nco_array_free(&yt);
  return 0;
}

/* GFLOP/s of the MLP's dense layers: a loss+gradient evaluation at batch
 * 128 performs the GEMMs of the forward pass (2·N·in·out per layer), of the
 * weight gradients (2·N·in·out) and of the input gradients (2·N·in·out,
 * all layers but the first): 2·N·(3·Σ in·out − 784·256) flops. The
 * reference is cblas_sgemm on square 1024 matrices and on the exact
 * shapes of the layers (the practical peak for these sizes). */
static int dense(void) {
  const size_t N = 128, n = 1024;
  size_t w[2] = {256, 256};
  nco_act relu = nco_act_make(NCO_ACT_RELU);
  nco_nn_model *m = NULL;
  TRY("mlp", nco_nn_mlp(784, w, 2, 10, &relu, &m));
  size_t sx[2] = {N, 784};
  nco_array X = {0}, Y = {0};
  TRY("alloc", nco_array_alloc(&X, NCO_DTYPE_F32, 2, sx, "random"));
  TRY("alloc", nco_array_alloc(&Y, NCO_DTYPE_I32, 1, &N, "random"));
  nco_rng rng;
  nco_rng_seed(&rng, 1);
  nco_rng_uniform_fill(&rng, X.data, N * 784, 0, 1);
  for (size_t i = 0; i < N; i++) ((int32_t *)Y.data)[i] = (int32_t)nco_rng_below(&rng, 10);
  nco_nn_opts o = nco_nn_defaults(NCO_NN_LOSS_CROSS_ENTROPY);
  nco_problem *pb = NULL;
  TRY("problem", nco_nn_problem_create(m, &X, &Y, &o, &pb));
  size_t d = pb->dim;
  float *x = calloc(d, 4), *g = calloc(d, 4);
  nco_problem_init(pb, &rng, x);
  double loss, flops = 2.0 * N * (3.0 * (784 * 256 + 256 * 256 + 256 * 10) - 784 * 256);
  int reps = 400;
  for (int r = 0; r < 20; r++) nco_problem_eval(pb, x, NULL, N, &loss, g);
  double best = 1e30;
  for (int k = 0; k < 5; k++) {
    double t0 = now();
    for (int r = 0; r < reps; r++) nco_problem_eval(pb, x, NULL, N, &loss, g);
    double dt = (now() - t0) / reps;
    if (dt < best) best = dt;
  }
  /* sgemm references */
  float *A = calloc(n * n, 4), *B = calloc(n * n, 4), *C = calloc(n * n, 4);
  nco_rng_uniform_fill(&rng, A, n * n, -1, 1);
  nco_rng_uniform_fill(&rng, B, n * n, -1, 1);
  double bsq = 1e30;
  for (int k = 0; k < 5; k++) {
    double t0 = now();
    for (int r = 0; r < 5; r++)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n, (int)n, 1, A, (int)n, B, (int)n, 0, C,
                  (int)n);
    double dt = (now() - t0) / 5;
    if (dt < bsq) bsq = dt;
  }
  /* the same GEMM shapes as the layers, back to back */
  double bsh = 1e30;
  for (int k = 0; k < 5; k++) {
    double t0 = now();
    for (int r = 0; r < reps; r++) {
      /* forward Y = X Wᵀ; dW = dYᵀ X; dX = dY W for 784-256, 256-256, 256-10 */
      static const int dims[3][2] = {{784, 256}, {256, 256}, {256, 10}};
      for (int l = 0; l < 3; l++) {
        int in = dims[l][0], out = dims[l][1];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, out, in, 1, A, in, B, in, 0, C, out);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, (int)N, 1, A, out, B, in, 0, C, in);
        if (l > 0) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, in, out, 1, A, out, B, in, 0, C, in);
      }
    }
    double dt = (now() - t0) / reps;
    if (dt < bsh) bsh = dt;
  }
  printf("impl=ncopt dense batch=%zu eval_us=%.1f gflops=%.1f sgemm_1024_gflops=%.1f sgemm_same_shapes_gflops=%.1f "
         "frac_of_1024=%.2f frac_of_shapes=%.2f\n",
         N, best * 1e6, flops / best * 1e-9, 2.0 * n * n * n / bsq * 1e-9, flops / bsh * 1e-9,
         (flops / best) / (2.0 * n * n * n / bsq), bsh / best);
  free(A), free(B), free(C), free(x), free(g);
  nco_problem_free(pb);
  nco_nn_model_free(m);
  nco_array_free(&X), nco_array_free(&Y);
  return 0;
}

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "mlp";
  int epochs = argc > 2 ? atoi(argv[2]) : 2;
  if (epochs < 1) epochs = 1;
  if (!strcmp(what, "mlp") || !strcmp(what, "lenet")) return train(what, epochs);
  if (!strcmp(what, "dense")) return dense();
  fprintf(stderr, "usage: bench_nn mlp|lenet|dense [EPOCHS]\n");
  return 2;
}
