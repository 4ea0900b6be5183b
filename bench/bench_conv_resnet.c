/* bench/bench_conv_resnet.c — ResNet-8's convolutions (bench/resnet8.ini,
 * Fashion-MNIST 28×28, batch 128): ncopt's float32 kernels against sgemm
 * on the same products and against PyTorch in the same run.
 *
 * For each of the eight conv shapes: the best of REPS calls of ncopt's
 * forward and backward (dx and dw; the stem has no dx, as in training), and
 * GFLOP/s counting 2·N·K·C·kh·kw·OH·OW per product (forward 1, backward 2;
 * the stem's backward 1). The sgemm line times one OpenBLAS call of the
 * forward's product as one batch-sized matrix (M = K filters, N = batch ·
 * OH·OW, K = C·kh·kw) on the same threads: what im2col + GEMM could reach
 * at best, before im2col itself. The step total weighs the shapes by how
 * often they occur (16→16 twice).
 *
 * Which kernels ncopt ran is printed (nco_conv_backend_name: oneDNN when
 * built with it; NCO_CONV_BACKEND=im2col forces im2col + OpenBLAS). The
 * torch side (conv2d under autograd, the same shapes and flop count) is
 * bench/bench_conv_resnet_torch.py; bench/run_conv_resnet.sh runs all three.
 *
 * Usage: bench_conv_resnet [N] [REPS] [THREADS] [resnet8|lenet]
 *        (defaults 128 20 2 resnet8; lenet: LeNet-5's two convolutions)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "nn/conv.h"
#include "nn/conv_dnnl.h"

void openblas_set_num_threads(int num_threads);
char *openblas_get_corename(void);

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct shape {
  const char *name;
  size_t C, H, K, k, stride, pad, count;
} shape;

/* bench/resnet8.ini's convolutions */
static const shape RESNET8[] = {
    {"stem 1->16 3x3", 1, 28, 16, 3, 1, 1, 1},    {"b1 16->16 3x3", 16, 28, 16, 3, 1, 1, 2},
    {"b2c1 16->32 s2", 16, 28, 32, 3, 2, 1, 1},   {"b2c2 32->32 3x3", 32, 14, 32, 3, 1, 1, 1},
    {"b2s 16->32 1x1 s2", 16, 28, 32, 1, 2, 0, 1}, {"b3c1 32->64 s2", 32, 14, 64, 3, 2, 1, 1},
    {"b3c2 64->64 3x3", 64, 7, 64, 3, 1, 1, 1},   {"b3s 32->64 1x1 s2", 32, 14, 64, 1, 2, 0, 1},
    {NULL, 0, 0, 0, 0, 0, 0, 0},
};
/* LeNet-5's (src/nn/model.c) */
static const shape LENET[] = {
    {"conv1 1->6 5x5 p2", 1, 28, 6, 5, 1, 2, 1}, {"conv2 6->16 5x5", 6, 14, 16, 5, 1, 0, 1},
    {NULL, 0, 0, 0, 0, 0, 0, 0},
};

static float *filled(size_t n, unsigned seed) {
  float *p = malloc(n * sizeof *p);
  if (!p) exit(1);
  for (size_t i = 0; i < n; i++) p[i] = (float)(((i + seed) * 2654435761u) % 2001) / 1000.0f - 1.0f;
  return p;
}

int main(int argc, char **argv) {
  const size_t N = argc > 1 ? (size_t)atol(argv[1]) : 128;
  const int reps = argc > 2 ? atoi(argv[2]) : 20, threads = argc > 3 ? atoi(argv[3]) : 2;
  const shape *SHAPES = argc > 4 && strcmp(argv[4], "lenet") == 0 ? LENET : RESNET8;
#ifdef _OPENMP
  omp_set_num_threads(threads);
#endif
  double step_nc = 0, step_flop = 0, step_gemm = 0;
  for (size_t l = 0; SHAPES[l].name; l++) {
    const shape *c = &SHAPES[l];
    nco_conv_shape s;
    if (nco_conv_shape_init(&s, N, c->C, c->H, c->H, c->K, c->k, c->k, c->stride, c->pad)) return 1;
    const size_t nx = N * c->C * c->H * c->H, nw = c->K * c->C * c->k * c->k, ny = N * c->K * s.OH * s.OW;
    float *x = filled(nx, 1), *w = filled(nw, 2), *dy = filled(ny, 3), *y = filled(ny, 4), *dx = filled(nx, 5);
    float *dw = filled(nw, 6), *ws = filled(nco_conv_workspace(&s), 7);
    const int first = l == 0;
    double tf = 1e9, tb = 1e9, tg = 1e9;
    openblas_set_num_threads(1); /* inside ncopt's team, as `ncopt train` runs it */
    for (int r = 0; r < reps + 1; r++) {
      double t0 = now();
      nco_conv2d_forward_f32(&s, x, w, NULL, y, ws);
      double t1 = now();
      nco_conv2d_backward_f32(&s, x, w, dy, first ? NULL : dx, dw, NULL, ws);
      double t2 = now();
      if (r) tf = t1 - t0 < tf ? t1 - t0 : tf, tb = t2 - t1 < tb ? t2 - t1 : tb; /* r = 0: warm-up */
    }
    const size_t P = s.OH * s.OW, CKK = c->C * c->k * c->k;
    float *A = filled(c->K * CKK, 8), *B = filled(CKK * N * P, 9), *Cm = filled(c->K * N * P, 10);
    openblas_set_num_threads(threads);
    for (int r = 0; r < reps + 1; r++) {
      double t0 = now();
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)c->K, (int)(N * P), (int)CKK, 1, A,
                  (int)CKK, B, (int)(N * P), 0, Cm, (int)(N * P));
      double t = now() - t0;
      if (r && t < tg) tg = t;
    }
    const double fl = 2.0 * (double)N * (double)(c->K * CKK) * (double)P;
    printf("%-20s fwd %7.3f ms %6.1f GFLOP/s | bwd %7.3f ms %6.1f GFLOP/s | sgemm %7.3f ms %6.1f GFLOP/s\n",
           c->name, tf * 1e3, fl / tf * 1e-9, tb * 1e3, (first ? 1 : 2) * fl / tb * 1e-9, tg * 1e3,
           fl / tg * 1e-9);
    step_nc += (double)c->count * (tf + tb);
    step_flop += (double)c->count * fl * (first ? 2 : 3);
    step_gemm += (double)c->count * tg * (first ? 2 : 3);
    free(x), free(w), free(dy), free(y), free(dx), free(dw), free(ws), free(A), free(B), free(Cm);
  }
  printf("step (batch %zu, %d threads): ncopt %.2f ms (%.1f GFLOP/s), sgemm on the same products %.2f ms "
         "(%.1f GFLOP/s); kernels: %s; OpenBLAS %s\n",
         N, threads, step_nc * 1e3, step_flop / step_nc * 1e-9, step_gemm * 1e3, step_flop / step_gemm * 1e-9,
         nco_conv_backend_name(), openblas_get_corename());
  return 0;
}
