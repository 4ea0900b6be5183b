/* src/nn/conv.h — 2-D convolution and pooling kernels (internal to ncopt).
 *
 * The kernels behind the conv2d / maxpool / avgpool layers of the network
 * engine (src/nn/). Layout is PyTorch's NCHW, C order:
 *     x  (N, C, H, W)      input batch
 *     w  (K, C, kh, kw)    filters            b (K) bias, or NULL
 *     y  (N, K, OH, OW)    output, OH = (H + 2·pad − d·(kh − 1) − 1)/stride + 1
 * with zero padding of `pad` on every side and the same `stride` and
 * dilation d in both directions; this is torch.nn.functional.conv2d(x, w,
 * b, stride, padding, dilation) (a cross-correlation, no kernel flip):
 *     y[n,k,p,q] = b[k] + Σ_{c,i,j} w[k,c,i,j] · x[n, c, p·s + i·d − pad, q·s + j·d − pad]
 * (terms whose input index falls in the padding are zero).
 *
 * Method: im2col + GEMM through OpenBLAS, the batch split into groups of
 * samples run in parallel with OpenMP (see conv.c). Each output and
 * gradient entry is computed by one fixed sequence of operations whatever
 * the thread count, so results are bitwise identical run to run and across
 * OpenMP thread counts (given the same OpenBLAS build).
 *
 * No kernel allocates: forward and backward take a scratch buffer `ws` of
 * nco_conv_workspace(s) elements of the kernel's type (float for _f32,
 * double for _f64). Pooling needs no scratch. The void kernels do not
 * validate: call nco_conv_shape_init (conv) or nco_pool_shape_init (pooling)
 * once at layer creation and pass only shapes it accepted.
 *
 * Every kernel has an _f32 (float buffers, the engine's) and an _f64 (double
 * buffers, for float64 finite-difference checks) version, compiled from the
 * one template src/nn/conv_kernels.inc.
 */
#ifndef NCO_NN_CONV_H
#define NCO_NN_CONV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The batch is split into G = min(N, NCO_CONV_GROUPS) groups of consecutive
 * samples, the unit of parallel work: G bounds the threads used, and fixes
 * the summation order of dW whatever the thread count. */
#ifndef NCO_CONV_GROUPS
#define NCO_CONV_GROUPS 16
#endif

typedef struct nco_conv_shape {
  size_t N, C, H, W;   /* input batch (N, C, H, W) */
  size_t K, kh, kw;    /* K filters of (C, kh, kw) */
  size_t stride, pad;  /* stride ≥ 1 (both directions), zero padding pad ≥ 0 (every side) */
  size_t dil;          /* dilation ≥ 1 (both directions): taps d apart */
  size_t OH, OW;       /* output plane, set by nco_conv_shape_init */
} nco_conv_shape;

/* Fills *s and validates: every size ≥ 1 (pad ≥ 0), the dilated kernel no
 * larger than the padded input (d·(kh − 1) + 1 ≤ H + 2·pad, the same for
 * kw, W), and every buffer size and index (x, w, y, the workspace, in
 * elements and bytes) fits in size_t and in int32 for a plane index.
 * Returns NCO_OK, NCO_ERR_SHAPE or NCO_ERR_OVERFLOW (message "conv2d: ..."
 * naming the sizes, and the dilation when it is not 1). */
int nco_conv_shape_init_dil(nco_conv_shape *s, size_t N, size_t C, size_t H, size_t W, size_t K,
                            size_t kh, size_t kw, size_t stride, size_t pad, size_t dil);
/* The same with dilation 1. */
int nco_conv_shape_init(nco_conv_shape *s, size_t N, size_t C, size_t H, size_t W, size_t K,
                        size_t kh, size_t kw, size_t stride, size_t pad);

/* Elements of scratch (float for _f32, double for _f64) that forward and
 * backward need for shape s (validated by nco_conv_shape_init). Depends on
 * the shape only, not on the thread count, and never decreases with N: a
 * workspace sized for the largest batch serves every smaller one (re-init
 * the shape with the actual N before each call). */
size_t nco_conv_workspace(const nco_conv_shape *s);

/* y (N, K, OH, OW) ← conv2d(x, w) + b; b may be NULL (no bias). */
void nco_conv2d_forward_f32(const nco_conv_shape *s, const float *x, const float *w,
                            const float *b, float *y, float *ws);
void nco_conv2d_forward_f64(const nco_conv_shape *s, const double *x, const double *w,
                            const double *b, double *y, double *ws);

/* Given dy = ∂L/∂y (N, K, OH, OW): dx (N, C, H, W) = ∂L/∂x, dw (K, C, kh,
 * kw) = ∂L/∂w, db (K) = ∂L/∂b = Σ_{n,p,q} dy[n,k,p,q]. Any of dx, dw, db
 * may be NULL (not computed); the others are OVERWRITTEN, not accumulated.
 * x is needed only for dw, w only for dx (either may be NULL otherwise).
 * db is summed in double. */
void nco_conv2d_backward_f32(const nco_conv_shape *s, const float *x, const float *w,
                             const float *dy, float *dx, float *dw, float *db, float *ws);
void nco_conv2d_backward_f64(const nco_conv_shape *s, const double *x, const double *w,
                             const double *dy, double *dx, double *dw, double *db, double *ws);

/* Pooling over k×k windows with the given stride, no padding, floor mode
 * (torch's max_pool2d / avg_pool2d with padding 0, ceil_mode False):
 * OH = (H − k)/stride + 1, OW = (W − k)/stride + 1.
 * Validates k ≥ 1, stride ≥ 1, k ≤ H, k ≤ W, N, C ≥ 1, and that the buffer
 * sizes fit; sets *OH, *OW. Returns NCO_OK, NCO_ERR_SHAPE or NCO_ERR_OVERFLOW. */
int nco_pool_shape_init(size_t N, size_t C, size_t H, size_t W, size_t k, size_t stride,
                        size_t *OH, size_t *OW);

/* y (N, C, OH, OW) = max over each window; argmax (N, C, OH, OW) = flat
 * index ih·W + iw of the maximum within its (H, W) plane. Ties go to the
 * first element in row-major window order; a NaN wins (is propagated; the
 * last NaN of the window), as in torch's CPU kernel
 * (`if (val > maxval || isnan(val))`, aten/src/ATen/native/cpu/MaxPoolKernel.cpp). */
void nco_maxpool_forward_f32(size_t N, size_t C, size_t H, size_t W, size_t k, size_t stride,
                             const float *x, float *y, int32_t *argmax);
void nco_maxpool_forward_f64(size_t N, size_t C, size_t H, size_t W, size_t k, size_t stride,
                             const double *x, double *y, int32_t *argmax);

/* dx (N, C, H, W) ← 0, then dx[n, c, argmax] += dy[n, c, p, q] (windows may
 * overlap when stride < k). */
void nco_maxpool_backward_f32(size_t N, size_t C, size_t H, size_t W, size_t k, size_t stride,
                              const float *dy, const int32_t *argmax, float *dx);
void nco_maxpool_backward_f64(size_t N, size_t C, size_t H, size_t W, size_t k, size_t stride,
                              const double *dy, const int32_t *argmax, double *dx);

/* y (N, C, OH, OW) = mean over each k×k window (sum in double, / k²). */
void nco_avgpool_forward_f32(size_t N, size_t C, size_t H, size_t W, size_t k, size_t stride,
                             const float *x, float *y);
void nco_avgpool_forward_f64(size_t N, size_t C, size_t H, size_t W, size_t k, size_t stride,
                             const double *x, double *y);

/* dx ← 0, then each window's entries += dy[n, c, p, q] / k². */
void nco_avgpool_backward_f32(size_t N, size_t C, size_t H, size_t W, size_t k, size_t stride,
                              const float *dy, float *dx);
void nco_avgpool_backward_f64(size_t N, size_t C, size_t H, size_t W, size_t k, size_t stride,
                              const double *dy, double *dx);

#ifdef __cplusplus
}
#endif
#endif
