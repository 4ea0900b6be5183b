/* bench/bench_conv.c — LeNet-5's convolutions, forward and backward, ncopt
 * (src/nn/conv.c) against PyTorch in the same run.
 *
 * Layers (batch N, default 100; float32):
 *   conv1  x (N, 1, 28, 28) → 6 filters 5×5, padding 2 → (N, 6, 28, 28);
 *          backward without dx (the input needs no gradient in training)
 *   conv2  x (N, 6, 14, 14) → 16 filters 5×5          → (N, 16, 10, 10);
 *          backward with dx, dw, db
 * For each: the best (and median) of REPS timed calls of the forward and of
 * forward + backward, and GFLOP/s counting 2·N·K·C·kh·kw·OH·OW flops per
 * GEMM-shaped product (forward 1, backward 2 for conv1 (dw; db free) and 3
 * for conv2 (dw, dx)), i.e. the same count for both sides.
 *
 * PyTorch side: a Python snippet (below) run through /usr/bin/python3
 * (Debian's python3-torch) with torch.set_num_threads(T): forward under
 * no_grad, and forward + autograd backward of (y·dy).sum() with the same
 * requires_grad pattern (conv1: w, b only; conv2: x, w, b). The two sides
 * alternate layer by layer for ROUNDS rounds; the summary reports each
 * side's best time and the median over rounds of the ratio of the round's
 * best times torch/ncopt (> 1: ncopt faster). Best times, because on a
 * shared 2-core machine other processes stretch a 2-thread call by whole
 * scheduler slices (medians of 20 ms for a 1 ms call were seen).
 *
 * Before timing, ncopt's forward + backward is run on 1 and on T threads
 * (OpenMP and OpenBLAS) and the outputs compared bitwise.
 *
 * Then ncopt's 2×2 stride-2 max pooling (nco_maxpool_forward_f32, and
 * forward + backward) on the two conv outputs after ReLU (half the entries
 * 0, many ties, as in training), (N, 6, 28, 28) and (N, 16, 10, 10): best
 * and median of REPS calls, ncopt only (one line per layer, "pool1"/"pool2").
 *
 * OpenBLAS picks its kernels from the CPU at load time and prints which in
 * the header line. Debian 12's OpenBLAS 0.3.21 takes an AVX-512 AMD Zen 4
 * for "Haswell" (AVX2); OPENBLAS_CORETYPE=SkylakeX selects its AVX-512
 * kernels, including the small-matrix ones, which run these per-sample
 * GEMMs 2–5× faster (see src/nn/conv.c).
 *
 * Usage: bench_conv [N] [REPS] [ROUNDS] [THREADS]   (defaults 100 50 3 2)
 *        PYTHON (default /usr/bin/python3) selects the interpreter;
 *        NCO_BENCH_NO_TORCH=1 skips the torch side.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "ncopt/ncopt.h"
#include "nn/conv.h"

/* OpenBLAS's own thread control and kernel name (declared in its cblas.h) */
void openblas_set_num_threads(int num_threads);
char *openblas_get_corename(void);

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
#endif
  openblas_set_num_threads(t);
}

typedef struct layer {
  const char *name;
  size_t C, H, W, K, k, pad;
  int need_dx;
  nco_conv_shape s;
  float *x, *w, *b, *y, *dy, *dx, *dw, *db, *ws;
  size_t nx, nw, ny;
  double flop_fwd, flop_bwd;
} layer;

static int layer_init(layer *L, size_t N, nco_rng *rng) {
  int st = nco_conv_shape_init(&L->s, N, L->C, L->H, L->W, L->K, L->k, L->k, 1, L->pad);
  if (st) return st;
  L->nx = N * L->C * L->H * L->W;
  L->nw = L->K * L->C * L->k * L->k;
  L->ny = N * L->K * L->s.OH * L->s.OW;
  L->x = calloc(L->nx, 4), L->dx = calloc(L->nx, 4), L->w = calloc(L->nw, 4);
  L->dw = calloc(L->nw, 4), L->b = calloc(L->K, 4), L->db = calloc(L->K, 4);
  L->y = calloc(L->ny, 4), L->dy = calloc(L->ny, 4);
  L->ws = calloc(nco_conv_workspace(&L->s), 4);
  if (!L->x || !L->dx || !L->w || !L->dw || !L->b || !L->db || !L->y || !L->dy || !L->ws)
    return NCO_ERR_NOMEM;
  nco_rng_normal_fill(rng, L->x, L->nx, 0, 1);
  nco_rng_uniform_fill(rng, L->w, L->nw, -0.2, 0.2);
  nco_rng_uniform_fill(rng, L->b, L->K, -0.2, 0.2);
  nco_rng_normal_fill(rng, L->dy, L->ny, 0, 1);
  const double g = 2.0 * (double)N * (double)L->K * (double)(L->C * L->k * L->k) *
                   (double)(L->s.OH * L->s.OW);
  L->flop_fwd = g;
  L->flop_bwd = g * (L->need_dx ? 2 : 1);
  return NCO_OK;
}

static void layer_free(layer *L) {
  free(L->x), free(L->dx), free(L->w), free(L->dw), free(L->b), free(L->db), free(L->y);
  free(L->dy), free(L->ws);
}

static void run_fwd(layer *L) { nco_conv2d_forward_f32(&L->s, L->x, L->w, L->b, L->y, L->ws); }
static void run_fwdbwd(layer *L) {
  nco_conv2d_forward_f32(&L->s, L->x, L->w, L->b, L->y, L->ws);
  nco_conv2d_backward_f32(&L->s, L->x, L->w, L->dy, L->need_dx ? L->dx : NULL, L->dw, L->db, L->ws);
}

/* best and median seconds over reps calls */
static void timeit(void (*f)(layer *), layer *L, int reps, double *best, double *med) {
  double *t = malloc((size_t)reps * sizeof *t);
  if (!t) {
    *best = *med = -1;
    return;
  }
  for (int i = 0; i < 3; i++) f(L);
  for (int i = 0; i < reps; i++) {
    double t0 = now();
    f(L);
    t[i] = now() - t0;
  }
  qsort(t, (size_t)reps, sizeof *t, cmp_double);
  *best = t[0];
  *med = t[reps / 2];
  free(t);
}

/* 2×2 stride-2 max pooling of a ReLU'd conv output (N, C, H, W) */
typedef struct pool {
  const char *name;
  size_t N, C, H, W;
  float *x, *y, *dy, *dx;
  int32_t *am;
} pool;

static int pool_init(pool *P, nco_rng *rng) {
  const size_t nx = P->N * P->C * P->H * P->W, ny = P->N * P->C * (P->H / 2) * (P->W / 2);
  P->x = malloc(nx * 4), P->dx = malloc(nx * 4), P->y = malloc(ny * 4), P->dy = malloc(ny * 4);
  P->am = malloc(ny * 4);
  if (!P->x || !P->dx || !P->y || !P->dy || !P->am) return NCO_ERR_NOMEM;
  nco_rng_normal_fill(rng, P->x, nx, 0, 1);
  for (size_t i = 0; i < nx; i++) P->x[i] = P->x[i] > 0 ? P->x[i] : 0;
  nco_rng_normal_fill(rng, P->dy, ny, 0, 1);
  return NCO_OK;
}

static void pool_free(pool *P) { free(P->x), free(P->dx), free(P->y), free(P->dy), free(P->am); }

/* best and median seconds over reps calls of forward (bwd = 0) or forward + backward */
static void pool_time(pool *P, int bwd, int reps, double *best, double *med) {
  double *t = malloc((size_t)reps * sizeof *t);
  if (!t) {
    *best = *med = -1;
    return;
  }
  for (int i = 0; i < reps + 3; i++) {
    double t0 = now();
    nco_maxpool_forward_f32(P->N, P->C, P->H, P->W, 2, 2, P->x, P->y, P->am);
    if (bwd) nco_maxpool_backward_f32(P->N, P->C, P->H, P->W, 2, 2, P->dy, P->am, P->dx);
    if (i >= 3) t[i - 3] = now() - t0;
  }
  qsort(t, (size_t)reps, sizeof *t, cmp_double);
  *best = t[0];
  *med = t[reps / 2];
  free(t);
}

static const char *torch_snippet =
    "import sys, time, torch\n"
    "import torch.nn.functional as F\n"
    "N, reps, thr, C, H, K, k, pad, need_dx = map(int, sys.argv[1:10])\n"
    "torch.set_num_threads(thr)\n"
    "torch.manual_seed(0)\n"
    "x = torch.randn(N, C, H, H); w = (torch.rand(K, C, k, k) - 0.5) * 0.4\n"
    "b = (torch.rand(K) - 0.5) * 0.4; w.requires_grad_(True); b.requires_grad_(True)\n"
    "x.requires_grad_(bool(need_dx))\n"
    "y0 = F.conv2d(x, w, b, padding=pad); dy = torch.randn_like(y0)\n"
    "def fwd():\n"
    "    with torch.no_grad(): F.conv2d(x, w, b, padding=pad)\n"
    "def fb():\n"
    "    w.grad = None; b.grad = None; x.grad = None\n"
    "    y = F.conv2d(x, w, b, padding=pad); y.backward(dy)\n"
    "for name, f in (('fwd', fwd), ('fwdbwd', fb)):\n"
    "    for _ in range(3): f()\n"
    "    t = []\n"
    "    for _ in range(reps):\n"
    "        t0 = time.perf_counter(); f(); t.append(time.perf_counter() - t0)\n"
    "    t.sort(); print(name, t[0], t[len(t) // 2])\n";

/* Runs the snippet for layer L; fills best/median of fwd and fwd+bwd.
 * Returns 0 on success. */
static int torch_time(const layer *L, size_t N, int reps, int thr, double out[4]) {
  const char *py = getenv("PYTHON");
  if (!py || !*py) py = "/usr/bin/python3";
  char path[] = "/tmp/nco_bench_conv_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return -1;
  FILE *f = fdopen(fd, "w");
  if (!f) return -1;
  fputs(torch_snippet, f);
  fclose(f);
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "'%s' '%s' %zu %d %d %zu %zu %zu %zu %zu %d", py, path, N, reps, thr,
           L->C, L->H, L->K, L->k, L->pad, L->need_dx);
  FILE *p = popen(cmd, "r");
  int got = 0;
  if (p) {
    char name[32];
    double a, b;
    while (fscanf(p, "%31s %lf %lf", name, &a, &b) == 3) {
      if (!strcmp(name, "fwd")) out[0] = a, out[1] = b, got |= 1;
      if (!strcmp(name, "fwdbwd")) out[2] = a, out[3] = b, got |= 2;
    }
    pclose(p);
  }
  remove(path);
  return got == 3 ? 0 : -1;
}

int main(int argc, char **argv) {
  size_t N = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 100;
  int reps = argc > 2 ? atoi(argv[2]) : 50;
  int rounds = argc > 3 ? atoi(argv[3]) : 3;
  int thr = argc > 4 ? atoi(argv[4]) : 2;
  const int no_torch = getenv("NCO_BENCH_NO_TORCH") && atoi(getenv("NCO_BENCH_NO_TORCH"));
  if (N < 1 || reps < 1 || rounds < 1 || thr < 1 || rounds > 64) {
    fprintf(stderr, "usage: bench_conv [N] [REPS] [ROUNDS (<= 64)] [THREADS]\n");
    return 2;
  }
  layer Ls[2] = {
      {.name = "conv1", .C = 1, .H = 28, .W = 28, .K = 6, .k = 5, .pad = 2, .need_dx = 0},
      {.name = "conv2", .C = 6, .H = 14, .W = 14, .K = 16, .k = 5, .pad = 0, .need_dx = 1},
  };
  nco_rng rng;
  nco_rng_seed(&rng, 1);
  for (int i = 0; i < 2; i++)
    if (layer_init(&Ls[i], N, &rng)) {
      fprintf(stderr, "bench_conv: %s: %s\n", Ls[i].name, nco_last_error());
      return 1;
    }

  /* bitwise: 1 thread vs thr threads */
  int same = 1;
  for (int i = 0; i < 2; i++) {
    layer *L = &Ls[i];
    size_t tot = L->ny + L->nx + L->nw + L->K;
    float *ref = malloc(tot * 4);
    if (!ref) return 1;
    for (int pass = 0; pass < 2; pass++) {
      set_threads(pass ? thr : 1);
      memset(L->dx, 0, L->nx * 4);
      run_fwdbwd(L);
      float *o = ref;
      if (pass == 0) {
        memcpy(o, L->y, L->ny * 4), o += L->ny;
        memcpy(o, L->dx, L->nx * 4), o += L->nx;
        memcpy(o, L->dw, L->nw * 4), o += L->nw;
        memcpy(o, L->db, L->K * 4);
      } else {
        same &= !memcmp(o, L->y, L->ny * 4), o += L->ny;
        same &= !memcmp(o, L->dx, L->nx * 4), o += L->nx;
        same &= !memcmp(o, L->dw, L->nw * 4), o += L->nw;
        same &= !memcmp(o, L->db, L->K * 4);
      }
    }
    free(ref);
  }
  set_threads(thr);
  printf("bench_conv: N = %zu, %d threads (OpenMP + OpenBLAS), %d rounds x %d reps; OpenBLAS "
         "kernels %s; bitwise 1 vs %d threads: %s\n",
         N, thr, rounds, reps, openblas_get_corename(), thr, same ? "yes" : "NO");

  double best[2][2][2], ratio[2][2][64]; /* [layer][fwd, fwdbwd][ncopt, torch] */
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++) best[i][j][0] = best[i][j][1] = 1e30;
  int have_torch = !no_torch;
  for (int r = 0; r < rounds; r++) {
    for (int i = 0; i < 2; i++) {
      layer *L = &Ls[i];
      double b, m, tt[4] = {0, 0, 0, 0};
      timeit(run_fwd, L, reps, &b, &m);
      double nf = b, nfm = m;
      if (b < best[i][0][0]) best[i][0][0] = b;
      timeit(run_fwdbwd, L, reps, &b, &m);
      double nfb = b, nfbm = m;
      if (b < best[i][1][0]) best[i][1][0] = b;
      printf("round %d ncopt %s fwd %.3f ms (median %.3f)  fwd+bwd %.3f ms (median %.3f)\n", r + 1,
             L->name, nf * 1e3, nfm * 1e3, nfb * 1e3, nfbm * 1e3);
      if (have_torch) {
        if (torch_time(L, N, reps, thr, tt)) {
          fprintf(stderr, "bench_conv: the torch snippet failed (PYTHON, python3-torch?): torch side skipped\n");
          have_torch = 0;
          continue;
        }
        if (tt[0] < best[i][0][1]) best[i][0][1] = tt[0];
        if (tt[2] < best[i][1][1]) best[i][1][1] = tt[2];
        ratio[i][0][r] = tt[0] / nf;
        ratio[i][1][r] = tt[2] / nfb;
        printf("round %d torch %s fwd %.3f ms (median %.3f)  fwd+bwd %.3f ms (median %.3f)\n",
               r + 1, L->name, tt[0] * 1e3, tt[1] * 1e3, tt[2] * 1e3, tt[3] * 1e3);
      }
    }
  }

  printf("\n%-6s %-8s %11s %11s %11s %11s %8s\n", "layer", "pass", "ncopt ms", "ncopt GF/s",
         "torch ms", "torch GF/s", "ratio");
  double tot_n = 0, tot_t = 0;
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++) {
      const double fl = Ls[i].flop_fwd + (j ? Ls[i].flop_bwd : 0);
      double med = 0;
      if (have_torch) {
        qsort(ratio[i][j], (size_t)rounds, sizeof(double), cmp_double);
        med = ratio[i][j][rounds / 2];
      }
      if (j) tot_n += best[i][j][0], tot_t += best[i][j][1];
      printf("%-6s %-8s %11.3f %11.1f", Ls[i].name, j ? "fwd+bwd" : "fwd", best[i][j][0] * 1e3,
             fl / best[i][j][0] * 1e-9);
      if (have_torch)
        printf(" %11.3f %11.1f %7.2fx\n", best[i][j][1] * 1e3, fl / best[i][j][1] * 1e-9, med);
      else
        printf(" %11s %11s %8s\n", "-", "-", "-");
    }
  if (have_torch)
    printf("both layers fwd+bwd (best): ncopt %.3f ms, torch %.3f ms, torch/ncopt %.2fx\n",
           tot_n * 1e3, tot_t * 1e3, tot_t / tot_n);

  pool Ps[2] = {{.name = "pool1", .N = N, .C = 6, .H = 28, .W = 28},
                {.name = "pool2", .N = N, .C = 16, .H = 10, .W = 10}};
  for (int i = 0; i < 2; i++) {
    double bf = 0, mf = 0, bb = 0, mb = 0;
    if (pool_init(&Ps[i], &rng)) {
      fprintf(stderr, "bench_conv: %s: out of memory\n", Ps[i].name);
      pool_free(&Ps[i]);
      continue;
    }
    for (int r = 0; r < rounds; r++) {
      double b, m;
      pool_time(&Ps[i], 0, reps, &b, &m);
      if (r == 0 || b < bf) bf = b, mf = m;
      pool_time(&Ps[i], 1, reps, &b, &m);
      if (r == 0 || b < bb) bb = b, mb = m;
    }
    printf("%-6s maxpool 2x2 (%zu, %zu, %zu, %zu) ncopt fwd %.3f ms (median %.3f)  fwd+bwd %.3f ms "
           "(median %.3f)\n",
           Ps[i].name, Ps[i].N, Ps[i].C, Ps[i].H, Ps[i].W, bf * 1e3, mf * 1e3, bb * 1e3, mb * 1e3);
    pool_free(&Ps[i]);
  }
  for (int i = 0; i < 2; i++) layer_free(&Ls[i]);
  return same ? 0 : 1;
}
